"""The default install never imports torch or transformers: the CLI, the server app, training and TF-IDF bundles."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from helpers.training import ARTICLES_CSV, train_tiny

PROBE = """
import sys
import newsdesk.serve.api.app, newsdesk.serve.cli, newsdesk.train.pipeline, newsdesk.train.bundle, newsdesk.train.cli, newsdesk.train.classify.encoder, newsdesk.train.classify.ensemble
import newsdesk.train.classify.finetune, newsdesk.train.summarize.abstractive, newsdesk.train.transformer_pipeline, newsdesk.serve.api.batching
from newsdesk.train.bundle import load_bundle
from newsdesk.serve.cli import main
{body}
heavy = sorted(name for name in ("torch", "transformers", "tokenizers", "safetensors") if name in sys.modules)
assert not heavy, f"imported {{heavy}}"
"""


def run_probe(body: str = "", cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", PROBE.format(body=body)], capture_output=True, text=True, check=False, cwd=cwd
    )


def test_importing_the_cli_app_and_training_modules_loads_no_torch() -> None:
    done = run_probe()
    assert done.returncode == 0, done.stderr


def test_training_serving_and_help_with_tfidf_load_no_torch(tmp_path: Path) -> None:
    train_tiny(tmp_path)
    body = f"""
bundle = load_bundle({str(tmp_path / "tiny")!r})
bundle.classifier.predict(["Shares fell sharply in London"])
bundle.summarizer.summarize("The bank raised rates. Shares fell. The pound rose.")
import contextlib, io
with contextlib.redirect_stdout(io.StringIO()), contextlib.suppress(SystemExit):
    main(["train", "--help"])
from newsdesk.train.pipeline import TrainConfig, train_model
from newsdesk.train.data import ColumnMap
from newsdesk.train.pipeline import ClassifierConfig
config = TrainConfig(data={str(ARTICLES_CSV)!r}, name="again",
                     models_dir={str(tmp_path)!r}, columns=ColumnMap(label="category"), test_size=0.25,
                     classifier=ClassifierConfig(calibration_folds=3))
train_model(config, progress=lambda line: None)
"""
    done = run_probe(body, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
