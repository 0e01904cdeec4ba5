"""newsdesk's copy of the English stop words is scikit-learn's list, word for word."""

from __future__ import annotations

from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS as SCIKIT_LEARN_STOP_WORDS

from newsdesk.train.text.stop_words import ENGLISH_STOP_WORDS


def test_the_copy_is_scikit_learns_list() -> None:
    assert ENGLISH_STOP_WORDS == SCIKIT_LEARN_STOP_WORDS
