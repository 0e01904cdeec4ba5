"""Where the tests' files are: the test folder, its fixtures, the checkout."""

from __future__ import annotations

from pathlib import Path

TESTS = Path(__file__).resolve().parents[1]
FIXTURES = TESTS / "fixtures"
ROOT = TESTS.parent
