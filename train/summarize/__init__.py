"""Summarisers: extractive (supervised and TextRank), abstractive, ROUGE and summary evaluation."""
