"""Server processes and the console command load only what they use: no pandas, pyarrow, matplotlib, dask
or (for a TF-IDF bundle) scikit-learn."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from newsdesk.serve.api.lean import LEFT_OUT, keep_dataframe_libraries_out

SERVER_PROCESS = """
import json, sys
from newsdesk.serve.api.lean import keep_dataframe_libraries_out
assert keep_dataframe_libraries_out()
from fastapi.testclient import TestClient
from newsdesk.serve.api.app import create_app
from newsdesk.serve.api.settings import ServeSettings
with TestClient(create_app(ServeSettings(model=sys.argv[1]))) as client:
    text = "The striker scored twice as the club won the league. The manager praised the team."
    assert client.post("/v1/predict", json={"text": text}).status_code == 200
    assert client.post("/v1/summarize", json={"text": text}).status_code == 200
    assert client.post("/v1/analyze", json={"text": text, "title": "A win"}).status_code == 200
print(json.dumps(sorted(name for name in sys.modules if name.partition(".")[0] in sys.argv[2].split(","))))
"""

HELP = """
import contextlib, io, json, sys
from newsdesk.serve.cli import main
with contextlib.redirect_stdout(io.StringIO()), contextlib.suppress(SystemExit):
    main(["--help"])
print(json.dumps(sorted(n for n in ("pandas", "pyarrow", "matplotlib", "dask", "sklearn", "numpy") if n in sys.modules)))
"""


def run_python(code: str, *args: str) -> list[str]:
    done = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_a_server_process_answers_without_the_dataframe_libraries(tiny_bundle_dir: Path) -> None:
    assert run_python(SERVER_PROCESS, str(tiny_bundle_dir), ",".join(LEFT_OUT)) == []


def test_a_server_process_serving_a_tfidf_bundle_never_imports_scikit_learn(tiny_bundle_dir: Path) -> None:
    # Fitting needs scikit-learn; a fitted TF-IDF model and summariser need numpy and scipy.sparse only.
    assert run_python(SERVER_PROCESS, str(tiny_bundle_dir), "sklearn") == []


def test_the_console_help_loads_no_libraries() -> None:
    assert run_python(HELP) == []


def test_a_process_that_has_pandas_already_is_left_alone() -> None:
    import pandas  # noqa: F401 - loaded already in the test process; the call must not block anything

    assert keep_dataframe_libraries_out() is False
    assert not any(type(finder).__name__ == "LeftOutImporter" for finder in sys.meta_path)


def test_a_refused_import_says_why() -> None:
    code = (
        "from newsdesk.serve.api.lean import keep_dataframe_libraries_out\n"
        "keep_dataframe_libraries_out()\n"
        "try:\n    import pandas\nexcept ImportError as exc:\n    print(__import__('json').dumps([str(exc)]))\n"
    )
    (message,) = run_python(code)
    assert "left out of newsdesk server processes" in message
