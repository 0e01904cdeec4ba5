"""Progress for long steps: a bar on a terminal, one plain line per stage in a log file.

A tqdm bar redraws itself with carriage returns; written to a file (``newsdesk train > train.log
2>&1``) that becomes one line of hundreds of kilobytes. So a bar is drawn only when stderr is a
terminal, or when the command was given ``--progress``; otherwise each stage writes one line when it
ends, with its count and seconds (``evaluating summaries: 2225 articles in 12.3 s``).
``train``, ``evaluate`` and ``score`` all report progress through this module.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Iterable, Iterator
from typing import Any, Self, TypeVar

T = TypeVar("T")

_forced: bool | None = None


def set_progress_bars(show: bool | None) -> None:
    """Force bars on (``--progress``) or off (``--no-progress``); None decides by whether stderr is a terminal."""
    global _forced
    _forced = show


def bars_wanted() -> bool:
    """Whether progress is drawn as a bar (else one line per stage)."""
    if _forced is not None:
        return _forced
    isatty = getattr(sys.stderr, "isatty", None)
    return bool(isatty and isatty())


def stage_line(desc: str, count: float, unit: str, seconds: float, note: str = "") -> str:
    """The one line a finished stage writes: what, how many, how long."""
    count_text = f"{int(count)}" if float(count).is_integer() else f"{count:.1f}"
    rate = f", {count / seconds:.1f} {unit.strip()}/s" if seconds > 0 and count else ""
    extra = f"; {note}" if note else ""
    return f"{desc}: {count_text} {unit.strip()} in {seconds:.1f} s{rate}{extra}"


class StageLine:
    """The tqdm methods the project uses (update, set_postfix_str, close), writing one line when closed."""

    def __init__(self, desc: str, unit: str, initial: float = 0) -> None:
        self.desc, self.unit = desc, unit
        self.n = initial
        self.initial = initial
        self.postfix = ""
        self._started = time.perf_counter()
        self._closed = False

    def update(self, n: float = 1) -> None:
        """Count ``n`` more items."""
        self.n += n

    def set_postfix_str(self, text: str = "", refresh: bool = True) -> None:
        """Remember a note for the closing line."""
        self.postfix = text

    def close(self) -> None:
        """Write the stage's line (once)."""
        if self._closed:
            return
        self._closed = True
        _write(
            stage_line(self.desc, self.n - self.initial, self.unit, time.perf_counter() - self._started, self.postfix)
        )

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def progress_bar(
    desc: str, unit: str, *, total: int | None = None, initial: float = 0, enabled: bool = True, **bar_options: Any
) -> Any:
    """A tqdm bar on a terminal (or with ``--progress``), a :class:`StageLine` otherwise, a silent one if not enabled.

    ``bar_options`` go to tqdm only (``unit_scale=True``...).
    """
    from tqdm import tqdm

    if not enabled:
        return tqdm(disable=True)
    if bars_wanted():
        return tqdm(desc=desc, unit=unit, total=total, initial=initial, leave=False, file=sys.stderr, **bar_options)
    return StageLine(desc, unit, initial)


def track(items: Iterable[T], desc: str, unit: str, *, total: int | None = None, enabled: bool = True) -> Iterator[T]:
    """Iterate ``items`` with progress: a bar, or one line when the loop ends; nothing if not ``enabled``."""
    if not enabled:
        yield from items
        return
    if total is None and hasattr(items, "__len__"):
        total = len(items)  # type: ignore[arg-type]
    bar = progress_bar(desc, unit, total=total)
    try:
        for item in items:
            yield item
            bar.update(1)
    finally:
        bar.close()


def note(line: str) -> None:
    """A progress message between stages (written above a bar when one is drawn)."""
    if bars_wanted():
        from tqdm import tqdm

        tqdm.write(line, file=sys.stderr)
    else:
        _write(line)


def _write(line: str) -> None:
    print(line, file=sys.stderr, flush=True)
