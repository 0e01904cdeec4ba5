"""Keep the dataframe libraries out of a server process: about 60 MB less resident memory per worker.

scikit-learn imports pandas (and pandas pyarrow) whenever they are installed, only to recognise
DataFrame inputs, which the server never passes: it hands the models lists of strings. A server
process therefore refuses those imports before it loads a model. scikit-learn treats the refusal
as "not installed" (its own ``try: import pandas`` / ``except ImportError``) and recognises
DataFrames by looking in ``sys.modules``, where nothing is then found.

Only the ``newsdesk serve`` processes call :func:`keep_dataframe_libraries_out`; importing the app
(as tests and embedding programs do) changes nothing.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from importlib.abc import MetaPathFinder
from importlib.machinery import ModuleSpec
from types import ModuleType

LEFT_OUT = ("pandas", "pyarrow", "matplotlib", "dask", "distributed")
"""Libraries of training and batch scoring that a server process never needs."""


class LeftOutImporter(MetaPathFinder):
    """Refuses to import the :data:`LEFT_OUT` libraries, with a message saying why."""

    def find_spec(
        self, fullname: str, path: Sequence[str] | None = None, target: ModuleType | None = None
    ) -> ModuleSpec | None:
        if fullname.partition(".")[0] in LEFT_OUT:
            raise ImportError(
                f"{fullname} is left out of newsdesk server processes to save memory (newsdesk.serve.api.lean)",
                name=fullname,
            )
        return None


def keep_dataframe_libraries_out() -> bool:
    """Refuse the :data:`LEFT_OUT` imports in this process from now on; False when one is loaded already."""
    if any(name in sys.modules for name in LEFT_OUT):
        return False
    if not any(isinstance(finder, LeftOutImporter) for finder in sys.meta_path):
        sys.meta_path.insert(0, LeftOutImporter())
    return True
