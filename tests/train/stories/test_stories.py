"""Near-duplicate signatures, LSH candidates, thresholds and grouping (train/stories) on tiny real-looking texts."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from datasketch import MinHash

from newsdesk.train.stories.clusters import NONE, assign
from newsdesk.train.stories.config import ClusterConfig
from newsdesk.train.stories.digest import DigestSentence, group_digest, representative
from newsdesk.train.stories.minhash import EMPTY, candidate_pairs, estimated_jaccard, lsh_bands, signatures
from newsdesk.train.stories.shingles import WordHasher, shingle_hashes, words
from newsdesk.train.stories.sketches import NO_TERM, Sketcher, Sketches, StoryTerms


def test_signatures_equal_datasketch_minhash_and_are_deterministic_with_a_seed() -> None:
    sets = [np.array([1, 2, 3, 4_000_000_000], dtype=np.uint32), np.array([], dtype=np.uint32), np.array([7])]
    ours = signatures(sets, num_perm=32, seed=5)
    reference = MinHash(num_perm=32, seed=5, hashfunc=int, scheme="affine32")
    reference.update_batch([1, 2, 3, 4_000_000_000])
    assert np.array_equal(ours[0], reference.hashvalues)
    assert (ours[1] == EMPTY).all()  # an empty set matches nothing
    assert np.array_equal(ours, signatures(sets, num_perm=32, seed=5))
    assert not np.array_equal(ours[0], signatures(sets, num_perm=32, seed=6)[0])


def test_shingles_are_the_same_in_every_process_and_ignore_case() -> None:
    hasher = WordHasher()
    first = shingle_hashes(hasher.hashes(words("The Bank raised rates on Monday")), 3)
    again = shingle_hashes(WordHasher().hashes(words("the bank RAISED rates on monday")), 3)
    assert np.array_equal(first, again) and len(first) == 4  # crc32, not Python's salted hash
    assert len(shingle_hashes(hasher.hashes(["one", "two"]), 5)) == 1  # shorter than a shingle: the whole text
    assert len(shingle_hashes(hasher.hashes([]), 5)) == 0


def test_shingle_sampling_keeps_the_same_shingles_in_every_text() -> None:
    hasher = WordHasher()
    text = " ".join(f"word{i}" for i in range(400))
    full, sampled = (shingle_hashes(hasher.hashes(words(text)), 5, s) for s in (1, 4))
    assert 0 < len(sampled) < len(full) and set(sampled) <= set(full) and (sampled % 4 == 0).all()


def test_lsh_finds_similar_pairs_and_not_unrelated_ones() -> None:
    rng = np.random.default_rng(0)
    base = rng.integers(0, 2**32, 300, dtype=np.uint64).astype(np.uint32)
    similar = np.concatenate([base[:260], rng.integers(0, 2**32, 40, dtype=np.uint64).astype(np.uint32)])
    unrelated = rng.integers(0, 2**32, 300, dtype=np.uint64).astype(np.uint32)
    sigs = signatures([base, unrelated, similar], 64, 1)
    i, j = candidate_pairs(sigs, 0.5)
    assert list(zip(i.tolist(), j.tolist())) == [(0, 2)]
    assert estimated_jaccard(sigs, i, j)[0] == pytest.approx(260 / 340, abs=0.12)
    assert lsh_bands(0.5, 64)[0] * lsh_bands(0.5, 64)[1] <= 64


def test_a_bucket_of_many_copies_gives_linear_candidates() -> None:
    sigs = np.repeat(signatures([np.arange(50, dtype=np.uint32)], 64, 1), 1000, axis=0)
    i, _ = candidate_pairs(sigs, 0.5)
    assert len(i) < 2 * 1000  # star and chain pairs only, not 1000 * 999 / 2
    assert assign_rows_from_signatures(sigs).duplicate_of.tolist() == [NONE] + [0] * 999


def assign_rows_from_signatures(sigs: np.ndarray):
    n = len(sigs)
    terms = np.full((n, 2), NO_TERM, dtype=np.int32)
    sketches = Sketches(sigs, sigs[:, :8].copy(), terms, np.zeros((n, 2), np.float32), np.ones(n, bool), np.full(n, 50))
    return assign(sketches, ClusterConfig())


@pytest.fixture(scope="module")
def sketcher(articles: pd.DataFrame) -> Sketcher:
    from sklearn.feature_extraction.text import TfidfVectorizer

    class Fitted:  # the shape of a fitted TopicClassifier, as far as story terms go
        vectorizer_ = TfidfVectorizer(stop_words="english", sublinear_tf=True).fit(articles.text)

    return Sketcher(ClusterConfig(), StoryTerms.from_classifier(Fitted()))


def test_near_duplicates_and_stories_on_real_looking_articles(articles: pd.DataFrame, sketcher: Sketcher) -> None:
    texts = articles.text.tolist()[:8]
    edited = "UPDATE 2 - " + texts[1] + " Reporting by Jane Doe."
    sketches = sketcher.sketch([*texts, edited, "", texts[3]])
    result = assign(sketches, ClusterConfig())
    assert result.duplicate_of[8] == 1  # lightly edited copy of row 1
    assert result.duplicate_of[10] == 3  # exact copy
    assert result.duplicate_of[9] == NONE and result.story[9] == NONE  # no text: joins nothing
    assert (result.duplicate_of[:8] == NONE).all()
    assert result.story[8] == 1 and result.story[10] == 3


def test_thresholds_decide(articles: pd.DataFrame, sketcher: Sketcher) -> None:
    text = " ".join(articles.text.iloc[:3])
    half = " ".join(text.split()[: len(text.split()) // 2])
    sketches = sketcher.sketch([text, half])
    assert assign(sketches, ClusterConfig(duplicate_threshold=0.3)).duplicate_of[1] == 0
    strict = ClusterConfig(duplicate_threshold=0.9, min_length_ratio=0.9)
    assert assign(sketches, strict).duplicate_of[1] == NONE
    # the first half is contained in the whole: a near-duplicate by containment, unless the lengths differ too much
    assert assign(sketches, ClusterConfig(duplicate_threshold=0.9)).duplicate_of[1] == 0
    assert assign(sketches, ClusterConfig(duplicate_threshold=0.9, min_length_ratio=0.6)).duplicate_of[1] == NONE


def test_dates_keep_groups_within_the_window(articles: pd.DataFrame, sketcher: Sketcher) -> None:
    text = articles.text.iloc[0]
    sketches = sketcher.sketch([text, text, text])
    result = assign(sketches, ClusterConfig(window_days=2), np.array([0.0, 10.0, 1.0]))
    assert result.duplicate_of.tolist() == [NONE, NONE, 0]  # 10 days apart: never grouped
    assert result.story.tolist() == [0, 1, 0]
    undated = assign(sketcher.sketch([text, text]), ClusterConfig(window_days=2), np.array([0.0, np.nan]))
    assert undated.duplicate_of.tolist() == [NONE, 0]  # a missing date sets no limit


def test_sketches_round_trip_through_arrow(articles: pd.DataFrame, sketcher: Sketcher) -> None:
    sketches = sketcher.sketch(articles.text.tolist()[:3] + [None])
    back = Sketches.from_arrow(sketches.to_arrow())
    for name in ("duplicate", "story", "terms", "weights", "valid", "size"):
        assert np.array_equal(getattr(back, name), getattr(sketches, name)), name
    assert Sketches.concat([sketches, back]).duplicate.shape == (8, 64)


def test_story_terms_without_a_tfidf_model_fall_back_to_hashed_words() -> None:
    terms = StoryTerms.from_classifier(object())
    ids, weights = terms.vector(words("the bank bank raised rates"), 24)
    assert terms.vocabulary is None and len(ids) == 3  # 'the' is a stop word
    assert float((weights**2).sum()) == pytest.approx(1.0)


def test_config_refuses_bad_values() -> None:
    with pytest.raises(ValueError, match="duplicate_threshold must be in"):
        ClusterConfig(duplicate_threshold=0)
    with pytest.raises(ValueError, match="window_days must be positive"):
        ClusterConfig(window_days=-1)


def test_group_digest_adds_only_what_is_new(articles: pd.DataFrame, sketcher: Sketcher) -> None:
    base = [DigestSentence(0, "The bank raised interest rates to 5% on Monday.")]
    others = [
        DigestSentence(1, "On Monday the bank raised interest rates to 5%."),  # says nothing new
        DigestSentence(2, "Mortgage lenders warned that repayments will climb for millions of homeowners."),
    ]
    assert [s.article for s in group_digest(base, others)] == [0, 2]
    sketches = sketcher.sketch(articles.text.tolist()[:3])
    assert representative(sketches, [1, 2]) == 1
    assert representative(sketches, [0, 1, 2]) in {0, 1, 2}


def test_batched_sketches_equal_one_text_at_a_time(articles: pd.DataFrame, sketcher: Sketcher) -> None:
    texts = [*articles.text.tolist()[:6], "two words", "", None, " ".join(f"w{i}" for i in range(300))]
    batch = sketcher.sketch(texts)
    hasher = WordHasher()
    for row, text in enumerate(texts):
        tokens = words(text) if text else []
        alone = shingle_hashes(hasher.hashes(tokens), 5, 4)
        assert batch.size[row] == len(alone)
        assert np.array_equal(batch.duplicate[row], signatures([alone], 64, 1)[0])
        ids, weights = sketcher.terms.vector(tokens, 24)
        kept = batch.terms[row] != NO_TERM
        assert np.allclose(sorted(batch.weights[row][kept]), sorted(weights), atol=1e-5)
        if len(weights):  # the same terms, but for ties at the cut-off
            cut = weights.min() + 1e-5
            above = batch.terms[row][kept][batch.weights[row][kept] > cut]
            assert set(above.tolist()) == set(ids[weights > cut].tolist())
    assert batch.valid.tolist() == [True] * 7 + [False, False, True]


def test_fast_words_are_the_regular_expression_words(articles: pd.DataFrame) -> None:
    import re

    texts = [*articles.text, *articles.title, "U.S. shares fell 2.5% to £1,200 — “a rout”… (don't panic) e-mail_x"]
    texts += ["U.S. shares fell 2.5% to $1,200 -- 'a rout'... (don't panic) e-mail_x\tTAB\r\nend"]
    for text in texts:
        assert words(text) == re.findall(r"\w+", text.lower()), text
