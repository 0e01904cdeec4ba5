"""TfidfVectors gives scikit-learn's TF-IDF matrix for a fitted vocabulary, without scikit-learn."""

from __future__ import annotations

import csv
import random
import re

import numpy as np
import pytest
from sklearn.feature_extraction.text import TfidfVectorizer

from newsdesk.train.text import vectors as vectors_module
from newsdesk.train.text.vectors import _TOKEN, TOKEN_PATTERN, TfidfVectors
from tests.helpers.paths import FIXTURES


def fixture_texts() -> list[str]:
    with (FIXTURES / "articles.csv").open(encoding="utf-8") as handle:
        return [f"{row['title']}. {row['text']}" for row in csv.DictReader(handle)]


ODD_TEXTS = [
    "",
    "a b c",  # one-letter words only: no tokens
    "The the THE the",  # stop words only
    "Café owners' naïve résumé — 3,000 jobs in 2024; e-mail ÜBER straße",
    "goal goal goal goal goal goal goal goal",  # repeated term: sublinear tf
]


@pytest.mark.parametrize(
    "settings",
    [
        {"ngram_range": (1, 2), "min_df": 2, "stop_words": "english", "sublinear_tf": True, "dtype": np.float32},
        {"stop_words": "english", "sublinear_tf": True, "dtype": np.float32},
        {"ngram_range": (2, 3), "sublinear_tf": False, "dtype": np.float64, "lowercase": False},
        {"ngram_range": (1, 1), "norm": None},
    ],
)
def test_the_matrix_equals_scikit_learns(settings: dict) -> None:
    texts = fixture_texts()
    fitted = TfidfVectorizer(**settings).fit(texts[: len(texts) // 2])
    ours = TfidfVectors.from_vectorizer(fitted)
    unseen = texts[len(texts) // 2 :] + ODD_TEXTS
    expected, found = fitted.transform(unseen), ours.transform(unseen)
    assert found.shape == expected.shape and found.dtype == expected.dtype
    assert found.nnz == expected.nnz
    np.testing.assert_array_equal(found.indices, expected.indices)
    np.testing.assert_allclose(found.toarray(), expected.toarray(), rtol=1e-6, atol=1e-7)
    assert ours.analyze(unseen[0]) == fitted.build_analyzer()(unseen[0])


def test_a_round_trip_through_terms_keeps_the_matrix() -> None:
    texts = fixture_texts()
    vectorizer = TfidfVectorizer(ngram_range=(1, 2), stop_words="english", dtype=np.float32)
    fitted = TfidfVectors.from_vectorizer(vectorizer.fit(texts))
    again = TfidfVectors.from_terms(fitted.terms, fitted.idf_, ngram_range=(1, 2), stop_words="english")
    assert (again.transform(texts) != fitted.transform(texts)).nnz == 0
    assert again.get_stop_words() and "the" in again.get_stop_words()


def test_no_texts_give_an_empty_matrix_of_the_vocabulary_width() -> None:
    vectors = TfidfVectors({"goal": 0, "match": 1}, np.ones(2))
    assert vectors.transform([]).shape == (0, 2)
    assert vectors.transform(["nothing known here"]).nnz == 0


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"token_pattern": r"\w+"}, "token_pattern"),
        ({"analyzer": "char"}, "analyzer"),
        ({"use_idf": False}, "use_idf"),
    ],
)
def test_a_vectorizer_it_cannot_reproduce_is_refused(settings: dict, message: str) -> None:
    fitted = TfidfVectorizer(**settings).fit(fixture_texts())
    with pytest.raises(ValueError, match=message):
        TfidfVectors.from_vectorizer(fitted)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"idf_": np.ones(3)}, "one weight per term"),
        ({"ngram_range": (2, 1)}, "ngram_range"),
        ({"stop_words": "french"}, "stop_words"),
        ({"norm": "l1"}, "norm"),
    ],
)
def test_bad_settings_are_refused(kwargs: dict, message: str) -> None:
    settings = {"vocabulary_": {"goal": 0, "match": 1}, "idf_": np.ones(2), **kwargs}
    with pytest.raises(ValueError, match=message):
        TfidfVectors(**settings)


def test_repeated_terms_are_refused() -> None:
    with pytest.raises(ValueError, match="repeated"):
        TfidfVectors.from_terms(["goal", "goal"], np.ones(2))


def test_a_dense_row_equals_the_sparse_row() -> None:
    texts = fixture_texts() + ODD_TEXTS
    vectorizer = TfidfVectorizer(ngram_range=(1, 2), stop_words="english", sublinear_tf=True, dtype=np.float32)
    vectors = TfidfVectors.from_vectorizer(vectorizer.fit(texts[:12]))
    for text in texts:
        np.testing.assert_allclose(vectors.transform_dense(text), vectors.transform([text]).toarray()[0], rtol=1e-6)


@pytest.mark.parametrize("settings", [{"sublinear_tf": True}, {"sublinear_tf": False}, {"norm": None}])
def test_row_weights_are_the_sparse_row(settings: dict) -> None:
    texts = fixture_texts() + ODD_TEXTS
    vectorizer = TfidfVectorizer(ngram_range=(1, 2), stop_words="english", dtype=np.float32, **settings)
    vectors = TfidfVectors.from_vectorizer(vectorizer.fit(texts[:12]))
    for text in texts:
        row = vectors.transform([text])
        weights = vectors.row_weights(text)
        assert sorted(weights) == row.indices.tolist()
        np.testing.assert_allclose([weights[c] for c in row.indices], row.data, rtol=1e-6)


def test_tokens_are_scikit_learns_token_pattern() -> None:
    tricky = [
        "a_b __ x1 1x ½½ ²³ ٣٤ 中文 字 I'm co-op U.S. e.g. naïve\u0301 ß ﬁ",
        "a",
        "ab",
        "a b",
        " ab_ ",
        *ODD_TEXTS,
    ]
    for text in fixture_texts() + tricky:
        assert _TOKEN.findall(text) == re.findall(TOKEN_PATTERN, text)


@pytest.mark.parametrize(("stop_words", "lowercase"), [("english", True), (None, True), (None, False)])
def test_the_terms_of_ascii_and_other_texts_are_scikit_learns(stop_words: str | None, lowercase: bool) -> None:
    """ASCII texts are split at non-word characters (a fast path); the rest go through the regex. Both
    must give scikit-learn's analyzer output, on every ASCII character and on fuzzed mixtures."""
    rng = random.Random(7)
    alphabet = [chr(c) for c in range(128)] + list("éİKſ’—…ß")
    fuzzed = ["".join(rng.choice(alphabet) for _ in range(rng.randint(0, 40))) for _ in range(3000)]
    every_ascii = "".join(chr(c) + "ab" + chr(c) + "x" + chr(c) for c in range(128))
    texts = fixture_texts() + ODD_TEXTS + fuzzed + [every_ascii, "A_B x_y 12 3 ab\x1fcd\x0bef\x85gh"]
    assert sum(text.isascii() for text in texts) > len(texts) // 4  # both paths are exercised
    analyzer = TfidfVectorizer(ngram_range=(1, 2), stop_words=stop_words, lowercase=lowercase).build_analyzer()
    vectors = TfidfVectors({"ab": 0}, np.ones(1), ngram_range=(1, 2), stop_words=stop_words, lowercase=lowercase)
    for text in texts:
        assert vectors.analyze(text) == analyzer(text), repr(text)


@pytest.mark.parametrize(
    "settings",
    [
        {"ngram_range": (1, 2), "min_df": 1, "stop_words": "english"},
        {"ngram_range": (1, 1)},
        {"ngram_range": (2, 3), "lowercase": False},
        {"ngram_range": (1, 4), "min_df": 1},
    ],
)
def test_counting_through_word_ids_equals_looking_up_strings(settings: dict, monkeypatch: pytest.MonkeyPatch) -> None:
    """The n-gram index (used from INDEX_MIN_TOKENS tokens on) and the string lookups give the same matrix,
    bit for bit, for one text or many in a call (no n-gram may run from one text into the next), and the
    same one-text rows in the same order."""
    texts = fixture_texts()
    ours = TfidfVectors.from_vectorizer(TfidfVectorizer(**settings).fit(texts[: len(texts) // 2]))
    assert ours.ngram_index is not None
    rng = random.Random(3)
    words = " ".join(texts).split()
    shuffled = [" ".join(rng.choice(words) for _ in range(rng.randint(0, 300))) for _ in range(40)]
    unseen = texts + ODD_TEXTS + shuffled
    results = {}
    for route, minimum in (("index", 0), ("strings", 10**9)):
        monkeypatch.setattr(vectors_module, "INDEX_MIN_TOKENS", minimum)
        each = unseen[:60]
        results[route] = (ours.transform(unseen), [ours.transform([t]) for t in each], [ours._row(t) for t in each])
    many_index, each_index, rows_index = results["index"]
    many_strings, each_strings, rows_strings = results["strings"]
    for (columns, weights), (expected_columns, expected_weights), text in zip(rows_index, rows_strings, unseen):
        # One text's row keeps its terms in the order they first occur (the order its norm is summed in).
        np.testing.assert_array_equal(columns, expected_columns)
        np.testing.assert_array_equal(weights, expected_weights)
        hits = [ours.vocabulary_[gram] for gram in ours.analyze(text) if gram in ours.vocabulary_]
        assert columns.tolist() == list(dict.fromkeys(hits))
    for found, expected in [(many_index, many_strings), *zip(each_index, each_strings)]:
        np.testing.assert_array_equal(found.indptr, expected.indptr)
        np.testing.assert_array_equal(found.indices, expected.indices)
        np.testing.assert_array_equal(found.data, expected.data)
    assert many_index.nnz > 1000


def test_a_vocabulary_too_wide_for_64_bit_keys_is_counted_by_strings() -> None:
    """Word ids as digits of 5-grams overflow 64 bits past ~6,200 words: the string lookups are used."""
    words = [f"w{i}" for i in range(7000)]
    vocabulary = {word: i for i, word in enumerate(words)} | {" ".join(words[:5]): len(words)}
    vectors = TfidfVectors(vocabulary, np.ones(len(vocabulary)), ngram_range=(1, 5), norm=None)
    assert vectors.ngram_index is None
    text = " ".join(words[:5] * 30)
    row = vectors.transform([text])
    assert row[0, len(words)] == 30 and row[0, 0] == 30
    narrow = TfidfVectors(vocabulary, np.ones(len(vocabulary)), ngram_range=(1, 4), norm=None)
    assert narrow.ngram_index is not None  # the same words fit as 4-grams (the 5-word term is never produced)
