"""newsdesk training: data loading, text cleaning, models, evaluation and the saved-model format."""
