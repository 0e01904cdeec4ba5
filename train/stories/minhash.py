"""MinHash signatures (datasketch's affine32 scheme, vectorised over many sets) and LSH candidate pairs.

A signature row of :func:`signatures` equals ``datasketch.MinHash(num_perm, seed, hashfunc=int,
scheme="affine32")`` updated with the same 32-bit values (checked by the tests), computed for a batch
of sets in one numpy pass. Candidate pairs come from LSH banding (datasketch's ``MinHashLSH``
chooses bands and rows for a threshold) done with a sort per band, so 200,000 signatures need no
Python dictionary of buckets: within a bucket, each member is paired with the bucket's first member
and with the one before it (linear in the bucket size, even for a bucket of thousands of copies).
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache

import numpy as np
from datasketch import MinHash, MinHashLSH
from datasketch.minhash import _fmix  # the MurmurHash3 finalizer datasketch applies before permuting

EMPTY = np.uint32(0xFFFFFFFF)
"""The value of every slot of an empty set's signature (matches no real signature in full)."""
_BATCH_VALUES = 1 << 16
"""Values permuted at once: bounds the temporary (values x permutations) matrix to a few MB."""


@lru_cache(maxsize=8)
def permutations(num_perm: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """The (a, b) parameters datasketch draws for ``num_perm`` and ``seed``."""
    a, b = MinHash(num_perm=num_perm, seed=seed, scheme="affine32").permutations
    return a.astype(np.uint32), b.astype(np.uint32)


def signatures(sets: Sequence[np.ndarray], num_perm: int, seed: int) -> np.ndarray:
    """One uint32 signature row per set of 32-bit values; an empty set gets all :data:`EMPTY`."""
    a, b = permutations(num_perm, seed)
    out = np.full((len(sets), num_perm), EMPTY, dtype=np.uint32)
    start = 0
    while start < len(sets):
        stop, total = start, 0
        while stop < len(sets) and (total == 0 or total + len(sets[stop]) <= _BATCH_VALUES):
            total += len(sets[stop])
            stop += 1
        batch = [np.asarray(s, dtype=np.uint32) for s in sets[start:stop]]
        sizes = np.array([len(s) for s in batch])
        filled = np.flatnonzero(sizes)
        if len(filled):
            values = _fmix(np.concatenate(batch).reshape(-1, 1), 32)
            permuted = values * a + b  # wraps modulo 2**32, as in datasketch
            offsets = np.concatenate([[0], np.cumsum(sizes[filled])[:-1]])
            out[start + filled] = np.minimum.reduceat(permuted, offsets, axis=0)
        start = stop
    return out


@lru_cache(maxsize=32)
def lsh_bands(threshold: float, num_perm: int) -> tuple[int, int]:
    """(bands, rows per band) that datasketch's ``MinHashLSH`` picks for ``threshold``."""
    lsh = MinHashLSH(threshold=threshold, num_perm=num_perm)
    return int(lsh.b), int(lsh.r)


def _band_keys(band: np.ndarray) -> np.ndarray:
    """A 64-bit key per row of a band (a few uint32 columns)."""
    key = np.zeros(len(band), dtype=np.uint64)
    with np.errstate(over="ignore"):
        for column in band.T:
            key = (key ^ column.astype(np.uint64)) * np.uint64(0x100000001B3)
            key ^= key >> np.uint64(31)
    return key


def candidate_pairs(
    sigs: np.ndarray, threshold: float, order: np.ndarray | None = None, valid: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Distinct pairs (i, j), i != j, that share an LSH bucket for ``threshold``.

    ``order`` (e.g. dates) sets who is "first" and "previous" in a bucket (default: row order);
    rows where ``valid`` is False (empty texts) never pair.
    """
    n, num_perm = sigs.shape
    if n < 2:
        return np.empty(0, np.int64), np.empty(0, np.int64)
    bands, rows = lsh_bands(threshold, num_perm)
    rank = np.arange(n) if order is None else np.argsort(np.argsort(order, kind="stable"), kind="stable")
    keep = np.arange(n) if valid is None else np.flatnonzero(valid)
    firsts, seconds = [], []
    for band in range(bands):
        keys = _band_keys(sigs[keep, band * rows : (band + 1) * rows])
        sort = np.lexsort((rank[keep], keys))
        sorted_keys, members = keys[sort], keep[sort]
        same = sorted_keys[1:] == sorted_keys[:-1]
        if not same.any():
            continue
        starts = np.flatnonzero(np.concatenate([[True], ~same]))
        group_first = members[starts[np.searchsorted(starts, np.arange(len(members)), side="right") - 1]]
        later = np.flatnonzero(same) + 1
        firsts += [group_first[later], members[later - 1]]
        seconds += [members[later], members[later]]
    if not firsts:
        return np.empty(0, np.int64), np.empty(0, np.int64)
    i, j = np.concatenate(firsts).astype(np.int64), np.concatenate(seconds).astype(np.int64)
    lo, hi = np.minimum(i, j), np.maximum(i, j)
    pairs = np.unique(lo * n + hi)
    pairs = pairs[(pairs // n) != (pairs % n)]
    return pairs // n, pairs % n


def estimated_jaccard(sigs: np.ndarray, i: np.ndarray, j: np.ndarray, chunk: int = 200_000) -> np.ndarray:
    """The share of equal signature slots of each pair: an unbiased estimate of their Jaccard similarity."""
    out = np.empty(len(i), dtype=np.float32)
    for s in range(0, len(i), chunk):
        out[s : s + chunk] = (sigs[i[s : s + chunk]] == sigs[j[s : s + chunk]]).mean(axis=1)
    return out
