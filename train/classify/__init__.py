"""Topic classifiers: label decisions, the TF-IDF linear model, the sentence-encoder head, ensemble and fine-tuning."""
