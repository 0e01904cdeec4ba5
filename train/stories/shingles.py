"""Words and word shingles of an article, as 32-bit hashes that are the same in every process."""

from __future__ import annotations

import re
import zlib
from functools import lru_cache

import numpy as np

WORD = re.compile(r"(?u)\w+")
"""Runs of word characters, single digits included: "2.5 billion" and "1.5 billion" differ (scikit-learn's
TfidfVectorizer keeps two or more characters only; its vocabulary simply has no one-character terms)."""
SAMPLE_FROM = 64
_MIX = np.uint64(0x9E3779B97F4A7C15)
_MASK32 = np.uint64(0xFFFFFFFF)


@lru_cache(maxsize=1)
def _ascii_separators() -> bytes:
    """A bytes.translate table turning every ASCII character that is not a word character into a space."""
    return bytes(c if chr(c).isalnum() or c == ord("_") else ord(" ") for c in range(256))


def words(text: str) -> list[str]:
    """The lowercased words of ``text`` (what :data:`WORD` finds; ASCII text takes a faster, equal path)."""
    lowered = text.lower()
    if lowered.isascii():
        return lowered.encode("ascii").translate(_ascii_separators()).decode("ascii").split()
    return WORD.findall(lowered)


class WordHasher:
    """crc32 of each word, cached (Python's ``hash`` of a str differs between processes, crc32 does not)."""

    def __init__(self, max_cache: int = 500_000) -> None:
        self.max_cache = max_cache
        self._cache: dict[str, int] = {}

    @property
    def cache(self) -> dict[str, int]:
        """Every word hashed so far (at least those of the last call)."""
        return self._cache

    def hashes(self, tokens: list[str]) -> np.ndarray:
        """One uint64 (holding 32 bits) per word."""
        cache = self._cache
        if len(cache) > self.max_cache:
            cache.clear()
        for word in set(tokens).difference(cache):
            cache[word] = zlib.crc32(word.encode("utf-8"))
        return np.fromiter(map(cache.__getitem__, tokens), dtype=np.uint64, count=len(tokens))


def shingle_hashes(word_hashes: np.ndarray, size: int, sample: int = 1) -> np.ndarray:
    """The distinct 32-bit hashes of every run of ``size`` consecutive words (the whole text if shorter).

    ``sample`` > 1 keeps only the shingles whose hash is divisible by it (the same choice in every text,
    so the Jaccard similarity of two samples estimates that of the full sets at 1/sample of the cost);
    a text with fewer than ``SAMPLE_FROM`` shingles keeps them all.
    """
    n = len(word_hashes)
    if n == 0:
        return np.empty(0, dtype=np.uint32)
    k = min(size, n)
    out = shingle_hashes_at(word_hashes, k, n - k + 1)
    hashes = np.unique(out)
    if sample > 1 and len(hashes) >= SAMPLE_FROM:
        hashes = hashes[hashes % np.uint32(sample) == 0]
    return hashes


def shingle_hashes_at(word_hashes: np.ndarray, size: int, count: int) -> np.ndarray:
    """The 32-bit hash of the ``size`` words starting at each of the first ``count`` positions (not unique)."""
    out = np.zeros(count, dtype=np.uint64)
    with np.errstate(over="ignore"):
        for j in range(size):
            out = (out ^ word_hashes[j : j + count]) * _MIX
            out ^= out >> np.uint64(29)
    return (out & _MASK32).astype(np.uint32)
