"""The settings of near-duplicate detection and story clustering (standard library only: the CLI imports it)."""

from __future__ import annotations

import argparse
from dataclasses import asdict, dataclass
from typing import Any


@dataclass(frozen=True)
class ClusterConfig:
    """How near-duplicates and stories are found; the defaults are the ones ``bench/cluster.py`` measured."""

    duplicate_threshold: float = 0.5
    """Estimated Jaccard similarity of word 5-shingles at or above which two articles are near-duplicates."""
    containment_threshold: float = 0.8
    """Also near-duplicates: this share of the shorter text's shingles is in the longer one (a cut, an
    insertion; estimated from the Jaccard estimate and the two shingle counts)."""
    min_length_ratio: float = 0.25
    """...provided the shorter text has at least this share of the longer one's shingles."""
    duplicate_candidate_threshold: float = 0.3
    """Jaccard at which LSH proposes near-duplicate candidates (checked against the thresholds above)."""
    story_threshold: float = 0.35
    """Cosine similarity of TF-IDF term vectors at or above which two articles tell the same story."""
    window_days: float = 3.0
    """With dates: articles further apart than this are never put in one story or duplicate group."""
    num_perm: int = 64
    """MinHash permutations of the near-duplicate signature."""
    shingle_words: int = 5
    """Words per shingle."""
    shingle_sample: int = 4
    """Keep one shingle in this many (chosen by hash, the same in every text) before MinHashing."""
    story_terms: int = 24
    """Terms (highest TF-IDF weight) kept per article for story similarity."""
    story_perm: int = 32
    """MinHash permutations of the story-candidate signature (over each article's top terms)."""
    story_candidate_threshold: float = 0.2
    """Jaccard of the top-term sets at which LSH proposes a story candidate (checked by cosine afterwards)."""
    seed: int = 1

    def __post_init__(self) -> None:
        for name in (
            "duplicate_threshold",
            "containment_threshold",
            "min_length_ratio",
            "duplicate_candidate_threshold",
            "story_threshold",
            "story_candidate_threshold",
        ):
            value = getattr(self, name)
            if not 0.0 < value <= 1.0:
                raise ValueError(f"{name} must be in (0, 1], got {value}")
        if self.window_days <= 0:
            raise ValueError(f"window_days must be positive, got {self.window_days}")
        for name in ("num_perm", "shingle_words", "shingle_sample", "story_terms", "story_perm"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1, got {getattr(self, name)}")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def add_cluster_options(parser: argparse.ArgumentParser) -> None:
    """``--cluster`` and its settings for ``newsdesk score`` (defaults from :class:`ClusterConfig`)."""
    defaults = ClusterConfig()
    group = parser.add_argument_group("near-duplicates and stories")
    group.add_argument(
        "--cluster",
        action="store_true",
        help="add 'duplicate_of' (id of the first near-duplicate) and 'story_id' (id of the story's first "
        "article); a second pass over per-row signatures",
    )
    group.add_argument(
        "--date-col", default=None, metavar="NAME", help="with --cluster: column of each article's date (ISO 8601)"
    )
    group.add_argument(
        "--window-days",
        type=float,
        default=defaults.window_days,
        metavar="DAYS",
        help="with --date-col: articles further apart are never grouped (default: %(default)s)",
    )
    group.add_argument(
        "--duplicate-threshold",
        type=float,
        default=defaults.duplicate_threshold,
        metavar="J",
        help="Jaccard similarity of word 5-shingles for near-duplicates (default: %(default)s)",
    )
    group.add_argument(
        "--story-threshold",
        type=float,
        default=defaults.story_threshold,
        metavar="COS",
        help="cosine similarity of TF-IDF terms for one story (default: %(default)s)",
    )


def clustering_from_args(args: argparse.Namespace) -> ClusterConfig | None:
    """The settings of ``--cluster`` (None without it); ``--date-col`` without ``--cluster`` is refused."""
    if not args.cluster:
        if args.date_col is not None:
            raise ValueError("--date-col needs --cluster; add --cluster, or leave --date-col out")
        return None
    return ClusterConfig(
        duplicate_threshold=args.duplicate_threshold,
        story_threshold=args.story_threshold,
        window_days=args.window_days,
    )
