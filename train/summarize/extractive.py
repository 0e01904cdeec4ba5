"""Extractive summarisation: a supervised sentence scorer, PacSum, TextRank, and Lead-k.

A summary is a selection of the article's candidate sentences (``hygiene.py``: no headlines, bylines,
captions or prompts), returned in article order. Three kinds of summariser can sit in a bundle:

``supervised-extractive``
    Trained on article/summary pairs: each sentence is labelled by whether the reference contains it
    (a greedy ROUGE oracle when the reference is not made of copied sentences), and a logistic
    regression scores sentences from features an editor would recognise (``features.py``). How many
    sentences to keep is learned too. That scorer ranks sentences for the ``reference`` length (imitating
    the references); news lengths rank by position, which it may only adjust (``position.py``).
    Articles unlike the training ones get Lead (``shift.py``).
``pacsum``
    For data without references: PacSum's position-aware centrality (``pacsum.py``).
``textrank``
    What data without references got before PacSum (such bundles still load); an evaluation baseline.

Selection (``selection.py``) takes sentences by score, skips near-duplicates, keeps quotations whole
and stops at the length: a preset (``presets.py``: brief by default) or explicit options.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from newsdesk.train.progress import track
from newsdesk.train.summarize.base import (
    RawTextSummarizer,
    Summary,
    SummaryError,
    SummarySentence,
    check_length_options,
)
from newsdesk.train.summarize.features import (
    FEATURES,
    PreparedArticle,
    SentenceFeatureProvider,
    prepare_article,
    sentence_features,
)
from newsdesk.train.summarize.labels import reference_labels
from newsdesk.train.summarize.length import LengthModel
from newsdesk.train.summarize.pacsum import pacsum_scores
from newsdesk.train.summarize.position import ADJUSTED, LEAD_PRIOR, adjusted_scores
from newsdesk.train.summarize.presets import (
    DEFAULT_PRESET,
    PRESET_HELP,
    REFERENCE,
    check_preset,
    resolve_length,
    within_words,
)
from newsdesk.train.summarize.selection import select_sentences
from newsdesk.train.summarize.shift import SourceProfile, lead_prior
from newsdesk.train.summarize.textrank import shares_words, textrank_scores
from newsdesk.train.text.cleaning import DEFAULT_CLEANING, CleaningOptions, clean_body, clean_title
from newsdesk.train.text.sentences import Sentence
from newsdesk.train.text.vectors import TfidfVectors

SUPERVISED = "supervised-extractive"
TEXTRANK = "textrank"
PACSUM = "pacsum"
KINDS = (SUPERVISED, TEXTRANK, PACSUM)


@dataclass
class SummarizerConfig:
    """Settings of the extractive summariser."""

    redundancy: float = field(
        default=0.7, metadata={"help": "skip a sentence whose TF-IDF cosine to one already chosen is above this"}
    )
    C: float = field(default=1.0, metadata={"help": "inverse regularisation strength of the sentence scorer"})
    oracle_fallback: float = field(
        default=0.5,
        metadata={
            "help": "label an article with the greedy ROUGE oracle when fewer than this share of its reference "
            "sentences are found verbatim in the article"
        },
    )
    textrank_damping: float = 0.85
    learned_weight: float = field(
        default=0.0,
        metadata={
            "help": "at every length but reference, rank sentences by -log(1 + position) plus this times the "
            "learned log-odds (0: by position; see position.py)"
        },
    )
    default_length: str = field(
        default=DEFAULT_PRESET,
        metadata={"help": f"summary length for callers who ask for none ({PRESET_HELP})"},
    )

    def __post_init__(self) -> None:
        check_preset(self.default_length)
        if not 0.0 < self.redundancy <= 1.0:
            raise ValueError(f"redundancy must be in (0, 1], got {self.redundancy}")
        if self.C <= 0:
            raise ValueError(f"C must be positive, got {self.C}")
        if not 0.0 <= self.oracle_fallback <= 1.0:
            raise ValueError(f"oracle_fallback must be in [0, 1], got {self.oracle_fallback}")
        if not 0.0 <= self.learned_weight < math.inf:
            raise ValueError(f"learned_weight must be a finite number >= 0, got {self.learned_weight}")


class ExtractiveSummarizer(RawTextSummarizer):
    """Chooses sentences from an article. Fit with references for the supervised kind, without for TextRank.

    ``extra_features`` (optional) adds columns after :data:`FEATURES` to the supervised scorer's
    input; their names are saved with the model, which then loads only with the same provider.
    """

    def __init__(
        self, config: SummarizerConfig | None = None, extra_features: SentenceFeatureProvider | None = None
    ) -> None:
        self.config = config or SummarizerConfig()
        self.extra_features = extra_features
        self.kind: str | None = None
        self.length = LengthModel()
        self.vectorizer_: TfidfVectors | None = None
        self.mean_: np.ndarray | None = None
        self.scale_: np.ndarray | None = None
        self.coef_: np.ndarray | None = None
        self.intercept_: float = 0.0
        self.profile_: SourceProfile | None = None
        self.training_: dict[str, Any] = {}

    # ------------------------------------------------------------------ fitting

    def fit(
        self,
        bodies: Sequence[str],
        titles: Sequence[str] | None = None,
        references: Sequence[str | None] | None = None,
        *,
        progress: bool = False,
        cleaning: CleaningOptions = DEFAULT_CLEANING,
    ) -> ExtractiveSummarizer:
        """Fit on raw article bodies; with references a supervised scorer, without them TextRank."""
        titles = list(titles) if titles is not None else [""] * len(bodies)
        if len(titles) != len(bodies):
            raise ValueError(f"{len(bodies)} bodies but {len(titles)} titles")
        clean_titles = [clean_title(t) for t in titles]
        clean_bodies = [clean_body(b, t, cleaning) for b, t in zip(bodies, clean_titles)]
        usable = [i for i, b in enumerate(clean_bodies) if b]
        if len(usable) < 2:
            raise ValueError(f"need at least 2 non-empty articles to fit a summariser, got {len(usable)}")
        # scikit-learn is imported here, when fitting, so that serving (which only loads) never imports it.
        from newsdesk.train.summarize.fitting import fit_scorer, fit_vocabulary

        self.vectorizer_ = fit_vocabulary([clean_bodies[i] for i in usable])
        has_references = references is not None and any(r and r.strip() for r in references)
        if not has_references:
            self.kind = PACSUM
            self.length = LengthModel()
            self.training_ = {"articles": len(usable)}
            return self
        assert references is not None
        if len(references) != len(bodies):
            raise ValueError(f"{len(bodies)} bodies but {len(references)} references")
        self.kind = SUPERVISED
        features, targets, n_sentences, n_summary = [], [], [], []
        oracle_articles = 0
        rows = [i for i in usable if references[i] and str(references[i]).strip()]
        for i in track(rows, "summariser features", "articles", enabled=progress):
            prepared = self._prepare(clean_bodies[i], clean_titles[i])
            if not prepared.sentences:
                continue
            labels, used_oracle = self.label_sentences(prepared.sentences, str(references[i]))
            oracle_articles += used_oracle
            features.append(self._features(prepared))
            targets.append(labels)
            n_sentences.append(len(prepared.sentences))
            n_summary.append(int(labels.sum()))
        if not features:
            raise ValueError("no article with a reference summary has any sentences")
        x = np.vstack(features)
        y = np.concatenate(targets)
        if len(np.unique(y)) < 2:
            raise ValueError(
                "the reference summaries select either every sentence or none, so there is nothing to learn; "
                "check that the summary column holds summaries"
            )
        self.mean_ = x.mean(axis=0)
        self.scale_ = x.std(axis=0)
        self.scale_[self.scale_ == 0] = 1.0
        self.coef_, self.intercept_ = fit_scorer((x - self.mean_) / self.scale_, y, self.config.C)
        self.profile_ = SourceProfile.fit([(rows - self.mean_) / self.scale_ for rows in features if len(rows) > 1])
        self.length = LengthModel.fit(n_sentences, n_summary)
        self.training_ = {
            "articles": len(features),
            "sentences": len(y),
            "positive_share": round(float(y.mean()), 4),
            "oracle_labelled_articles": oracle_articles,
        }
        return self

    def label_sentences(self, sentences: Sequence[Sentence], reference: str) -> tuple[np.ndarray, bool]:
        """1 for each sentence the reference contains, and whether the ROUGE oracle made them (``labels.py``)."""
        return reference_labels(sentences, reference, self.config.oracle_fallback)

    @property
    def feature_names(self) -> tuple[str, ...]:
        """The scorer's input columns: :data:`FEATURES`, then the extra provider's."""
        return FEATURES + (tuple(self.extra_features.names) if self.extra_features is not None else ())

    def as_textrank(self) -> ExtractiveSummarizer:
        """A TextRank summariser over this one's vocabulary (the unsupervised baseline)."""
        return self._unsupervised(TEXTRANK)

    def as_pacsum(self) -> ExtractiveSummarizer:
        """A PacSum summariser over this one's vocabulary (what training without references fits)."""
        return self._unsupervised(PACSUM)

    def _unsupervised(self, kind: str) -> ExtractiveSummarizer:
        self._check_fitted()
        other = ExtractiveSummarizer(self.config)
        other.kind = kind
        other.vectorizer_ = self.vectorizer_
        other.length = self.length
        return other

    # ------------------------------------------------------------------ features

    def _check_fitted(self) -> None:
        if self.kind is None or self.vectorizer_ is None:
            raise RuntimeError("the summariser is not fitted; call fit() first")

    def _prepare(self, body: str, title: str) -> PreparedArticle:
        assert self.vectorizer_ is not None
        return prepare_article(self.vectorizer_, body, title)

    def prepare(self, body: str, title: str = "") -> PreparedArticle:
        """A cleaned body split and vectorised with this summariser's vocabulary (for ``prepared=``)."""
        self._check_fitted()
        return self._prepare(body, title)

    def _features(self, p: PreparedArticle) -> np.ndarray:
        return sentence_features(p, self.config.textrank_damping, self.extra_features)

    def sentence_scores(self, p: PreparedArticle) -> np.ndarray:
        """A score per sentence: the scorer's probability (supervised), the PacSum or the TextRank score.

        TextRank uses the original word-overlap similarity (Mihalcea & Tarau, 2004): on BBC it
        scores ROUGE-2 0.759 against 0.723 with TF-IDF cosines (bench/summarize.py split, k matched).
        """
        return self._scores_and_method(p)[0]

    def _scores_and_method(self, p: PreparedArticle, imitate: bool = True) -> tuple[np.ndarray, str]:
        """The scores, and the method that made them. ``imitate`` (the reference length): the learned scores;
        otherwise the position prior, adjusted by ``learned_weight`` times them (``position.py``). For an
        article unlike any the scorer learned from (``shift.SourceProfile``), the position prior alone."""
        if self.kind == SUPERVISED:
            assert self.coef_ is not None and self.mean_ is not None and self.scale_ is not None
            if not imitate and self.config.learned_weight == 0:
                return lead_prior(len(p.sentences)), LEAD_PRIOR  # no features needed
            standardized = (self._features(p) - self.mean_) / self.scale_
            if self.profile_ is not None and len(p.sentences) > 1 and self.profile_.is_unfamiliar(standardized):
                return lead_prior(len(p.sentences)), LEAD_PRIOR
            z = standardized @ self.coef_ + self.intercept_
            if not imitate:
                return adjusted_scores(z, self.config.learned_weight), ADJUSTED
            return 1.0 / (1.0 + np.exp(-z)), SUPERVISED
        if self.kind == PACSUM:
            return pacsum_scores(p.similarity), PACSUM
        return textrank_scores(p.overlap, self.config.textrank_damping), TEXTRANK

    # ------------------------------------------------------------------ prediction

    def summarize_clean(
        self,
        body: str,
        title: str = "",
        *,
        max_sentences: int | None = None,
        max_words: int | None = None,
        ratio: float | None = None,
        num_sentences: int | None = None,
        length: str | None = None,
        prepared: PreparedArticle | None = None,
    ) -> Summary:
        """Summarise an already cleaned body.

        ``prepared``: the body already split and vectorised with this vocabulary (:meth:`prepare`), so
        several summarisers over one vocabulary (ours and its TextRank baseline) share that work.

        Length: a preset (``length``: brief, standard or reference; without one, and without any
        other length option, the model's ``default_length``), unless explicit options are given:
        ``ratio`` (a share of the article's sentences) or ``num_sentences`` (an exact count, as
        evaluation baselines need) replaces the learned length; ``max_sentences`` and ``max_words`` cap it. A summary
        always has at least one sentence, so when the best sentence alone is
        longer than ``max_words`` it is returned on its own. Articles of one
        sentence, or of two that fit the length options, are returned whole.
        """
        self._check_fitted()
        check_length_options(max_sentences, max_words, ratio)
        if num_sentences is not None and num_sentences < 1:
            raise SummaryError(f"num_sentences must be at least 1, got {num_sentences}")
        whole_quotes, preset, about_words = True, None, None
        if num_sentences is None:
            try:
                choice = resolve_length(
                    length,
                    default=self.config.default_length,
                    max_sentences=max_sentences,
                    max_words=max_words,
                    ratio=ratio,
                )
            except ValueError as exc:
                raise SummaryError(str(exc)) from None
            num_sentences, max_words, whole_quotes = choice.num_sentences, choice.max_words, choice.whole_quotes
            preset, about_words = choice.preset, choice.about_words
        if not body.strip():
            raise SummaryError("the text is empty after cleaning; send the article body to summarise")
        p = prepared if prepared is not None else self._prepare(body, title)
        n = len(p.sentences)
        if n == 0:
            raise SummaryError("the text has no sentences to summarise")
        requested = min((x for x in (max_sentences, num_sentences) if x is not None), default=n)
        if n == 1 or (n == 2 and requested >= n and within_words(*p.word_counts, max_words, about_words)):
            chosen = list(range(n))
            scores = np.ones(n)
            method = "whole-text"
        else:
            scores, method = self._scores_and_method(p, imitate=preset == REFERENCE)
            if self.kind in (TEXTRANK, PACSUM) and not shares_words(p.overlap):
                # No two sentences share a word: TextRank has no graph, so use Lead-k.
                scores = 1.0 / (np.arange(n) + 1.0)
                method = "lead"
            if num_sentences is not None:
                k = min(n, num_sentences)
            elif ratio is not None:
                k = max(1, min(n, math.ceil(ratio * n)))
            else:
                k = self.length.sentences_for(n)
            if max_sentences is not None:
                k = min(k, max_sentences)
            chosen = self._select(p, scores, k, max_words, whole_quotes, method in (LEAD_PRIOR, ADJUSTED), about_words)
        selected = tuple(
            SummarySentence(
                i, p.sentences[i].start, p.sentences[i].end, p.sentences[i].text, round(float(scores[i]), 4)
            )
            for i in chosen
        )
        return Summary(selected, method, n, body)

    def _select(
        self,
        p: PreparedArticle,
        scores: np.ndarray,
        k: int,
        max_words: int | None,
        whole_quotes: bool = True,
        by_position: bool = False,
        about_words: int | None = None,
    ) -> list[int]:
        """Best-scored sentences up to ``k`` and the word budget (see :func:`select_sentences`)."""
        return select_sentences(p, scores, k, max_words, self.config.redundancy, whole_quotes, by_position, about_words)

    # ------------------------------------------------------------------ state for bundles

    def fitted_state(self) -> tuple[list[str], dict[str, np.ndarray], dict[str, Any]]:
        """The fitted parts as plain data: vocabulary terms, numeric arrays, JSON-able metadata."""
        self._check_fitted()
        assert self.vectorizer_ is not None
        terms = list(self.vectorizer_.terms)
        arrays: dict[str, np.ndarray] = {"idf": self.vectorizer_.idf_.astype(np.float32)}
        if self.kind == SUPERVISED:
            assert self.coef_ is not None and self.mean_ is not None and self.scale_ is not None
            arrays.update(coef=self.coef_, intercept=np.array([self.intercept_]), mean=self.mean_, scale=self.scale_)
            arrays.update(self.profile_.to_arrays() if self.profile_ is not None else {})
        meta = {
            "kind": self.kind,
            "features": list(self.feature_names) if self.kind == SUPERVISED else [],
            "length": asdict(self.length),
            "config": asdict(self.config),
            "stop_words": self.vectorizer_.stop_words,
            "training": self.training_,
        }
        if self.kind == SUPERVISED and self.extra_features is not None:
            meta["extra_features"] = list(self.extra_features.names)
        return terms, arrays, meta

    @classmethod
    def from_fitted_state(
        cls,
        terms: list[str],
        arrays: dict[str, np.ndarray],
        meta: dict[str, Any],
        extra_features: SentenceFeatureProvider | None = None,
    ) -> ExtractiveSummarizer:
        """Rebuild a fitted summariser from :meth:`fitted_state` output, checking kinds and shapes.

        A summariser saved with extra features needs a provider of the same feature names.
        """
        kind = meta.get("kind")
        if kind not in KINDS:
            raise ValueError(f"unknown summariser kind {kind!r}; expected one of {', '.join(KINDS)}")
        saved_extra = list(meta.get("extra_features", []))
        if saved_extra and (extra_features is None or list(extra_features.names) != saved_extra):
            raise ValueError(
                f"the summariser was trained with the extra features {saved_extra}; load it with a provider of "
                "those features (the bundle's sentence encoder)"
            )
        model = cls(SummarizerConfig(**meta.get("config", {})), extra_features if saved_extra else None)
        model.kind = kind
        model.length = LengthModel(**meta["length"])
        n_terms = len(terms)
        if len(set(terms)) != n_terms:
            raise ValueError("the summariser vocabulary has repeated terms")
        expected: dict[str, tuple[int, ...]] = {"idf": (n_terms,)}
        if kind == SUPERVISED:
            if list(meta.get("features", [])) != list(model.feature_names):
                raise ValueError(
                    f"the summariser was trained on features {meta.get('features')}, this version computes "
                    f"{list(model.feature_names)}; retrain it with this version"
                )
            n_features = len(model.feature_names)
            expected.update(coef=(n_features,), intercept=(1,), mean=(n_features,), scale=(n_features,))
        for key, shape in expected.items():
            if key not in arrays or arrays[key].shape != shape:
                found = arrays[key].shape if key in arrays else "missing"
                raise ValueError(f"summariser array {key!r} should have shape {shape}, found {found}")
        model.vectorizer_ = TfidfVectors.from_terms(
            terms, arrays["idf"], stop_words=meta.get("stop_words"), sublinear_tf=True
        )
        if kind == SUPERVISED:
            model.coef_ = np.asarray(arrays["coef"], dtype=np.float64)
            model.intercept_ = float(arrays["intercept"][0])
            model.mean_ = np.asarray(arrays["mean"], dtype=np.float64)
            model.scale_ = np.asarray(arrays["scale"], dtype=np.float64)
            model.profile_ = SourceProfile.from_arrays(arrays, 2 * len(model.feature_names))
        model.training_ = dict(meta.get("training", {}))
        return model
