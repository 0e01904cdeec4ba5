"""Near-duplicates in a training set: reported before the split (they leak scores), removed with ``--dedupe near``.

Exact duplicates are removed when the dataset loads (:mod:`newsdesk.train.data`); this finds texts
that are the same article lightly edited (an update, a new lede, boilerplate, a cut) with the
near-duplicate signatures of ``score --cluster`` (:mod:`newsdesk.train.stories`). No model exists
yet, so story terms are not needed; only the MinHash signatures are compared.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from newsdesk.train.stories.clusters import NONE, assign
from newsdesk.train.stories.config import ClusterConfig
from newsdesk.train.stories.sketches import Sketcher, StoryTerms

DEDUPE_MODES = ("exact", "near")


@dataclass
class NearDuplicates:
    """Near-duplicates among training texts: for each, the first article of its group (-1 for none)."""

    duplicate_of: np.ndarray
    conflicting: int = 0
    """Near-duplicates labelled differently from the first of their group."""
    examples: list[tuple[int, int]] = field(default_factory=list)

    @property
    def count(self) -> int:
        """Articles that nearly duplicate an earlier one."""
        return int((self.duplicate_of != NONE).sum())

    @property
    def groups(self) -> int:
        """Groups of two or more near-duplicates."""
        return len(np.unique(self.duplicate_of[self.duplicate_of != NONE]))

    def leaking(self, train_idx: Sequence[int], test_idx: Sequence[int]) -> int:
        """Held-out articles with a near-duplicate among the training articles (their scores are inflated)."""
        group = np.where(self.duplicate_of != NONE, self.duplicate_of, np.arange(len(self.duplicate_of)))
        train_groups = set(group[np.asarray(train_idx, dtype=int)].tolist())
        return sum(1 for i in test_idx if group[i] in train_groups and self._in_a_group(i))

    def _in_a_group(self, i: int) -> bool:
        return bool(self.duplicate_of[i] != NONE or (self.duplicate_of == i).any())


def find_near_duplicates(
    texts: Sequence[str], labels: Sequence[tuple[str, ...]], config: ClusterConfig | None = None
) -> NearDuplicates:
    """Near-duplicate groups among ``texts`` (cleaned model inputs); labels only count disagreements."""
    config = config or ClusterConfig()
    sketches = Sketcher(config, StoryTerms(None, None, frozenset())).sketch(list(texts))
    duplicate_of = assign(sketches, config).duplicate_of
    rows = np.flatnonzero(duplicate_of != NONE)
    conflicting = sum(1 for i in rows if set(labels[i]) != set(labels[duplicate_of[i]]))
    return NearDuplicates(duplicate_of, conflicting, [(int(duplicate_of[i]), int(i)) for i in rows[:5]])


def near_duplicate_lines(found: NearDuplicates, removed: bool, leaking: int | None = None) -> list[str]:
    """What training prints about near-duplicates."""
    if not found.count:
        return ["no near-duplicate texts found (beyond exact duplicates)"]
    what = "removed" if removed else "found"
    line = (
        f"{what} {found.count} near-duplicate texts in {found.groups} groups (same article lightly edited; "
        f"{'kept the first of each' if removed else 'kept'})"
    )
    if found.conflicting:
        line += f"; {found.conflicting} of them had a different label than the first of their group"
    out = [line]
    if leaking:
        out.append(
            f"warning: {leaking} held-out articles have a near-duplicate in the training part, which inflates the "
            f"held-out scores; pass --dedupe near to remove near-duplicates before splitting"
        )
    return out


def keep_first(found: NearDuplicates) -> list[int]:
    """Indices of the articles to keep: all but those that nearly duplicate an earlier one."""
    return np.flatnonzero(found.duplicate_of == NONE).tolist()
