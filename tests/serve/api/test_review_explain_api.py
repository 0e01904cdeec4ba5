"""API and batch fields of "needs review" and explanations: topic null with a reason, terms with weights."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from helpers.api_fixtures import SPORT_TEXT, serving
from helpers.training import train_tiny
from newsdesk.serve.cli import main
from newsdesk.train.classify.review import ReviewConfig

RECIPE = (
    "Whisk the eggs with the caster sugar until pale, then fold in the flour and melted butter. "
    "Pour the batter into a greased tin and bake for twenty-five minutes until a skewer comes out clean."
)


@pytest.fixture(scope="module")
def model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("models")
    train_tiny(root, review=ReviewConfig(min_held_out=1, coverage=0.95))
    return root / "tiny"


def test_predict_sends_an_out_of_scope_article_for_review(model: Path) -> None:
    with serving(model) as client:
        far = client.post("/v1/predict", json={"text": RECIPE}).json()
        near = client.post("/v1/predict", json={"text": SPORT_TEXT}).json()
    assert far["topic"] is None and far["needs_review"] is True and far["labels"] == []
    assert far["review_reason"] == "out_of_scope" and "similarity" in far["review_detail"]
    assert far["scores"]  # the scores are still there for the reviewer
    assert near["topic"] == "sport" and near["needs_review"] is False and near["review_reason"] is None


def test_explain_returns_terms_from_the_article_with_weights(model: Path) -> None:
    with serving(model) as client:
        body = client.post("/v1/analyze", json={"text": SPORT_TEXT, "explain": True}).json()
        plain = client.post("/v1/predict", json={"text": SPORT_TEXT}).json()
        batch = client.post(
            "/v1/predict/batch", json={"articles": [{"text": SPORT_TEXT, "explain": True}, {"text": SPORT_TEXT}]}
        ).json()
    explanation = body["prediction"]["explanation"]
    assert explanation["topic"] == "sport" and explanation["runner_up"] != "sport"
    assert explanation["method"].startswith("linear")
    assert explanation["towards"] and all(t["weight"] > 0 for t in explanation["towards"])
    for term in explanation["towards"]:
        assert term["term"] in SPORT_TEXT.lower()
    assert plain["explanation"] is None
    first, second = batch["results"]
    assert first["prediction"]["explanation"]["topic"] == "sport" and second["prediction"]["explanation"] is None


def test_score_adds_needs_review_and_explanation_columns(model: Path, tmp_path: Path) -> None:
    source = tmp_path / "in.csv"
    pd.DataFrame({"id": ["a", "b"], "text": [RECIPE, SPORT_TEXT]}).to_csv(source, index=False)
    out = tmp_path / "out.csv"
    assert main(["score", str(source), "--model", str(model), "--out", str(out), "--explain", "--no-progress"]) == 0
    scored = pd.read_csv(out, keep_default_na=False)
    assert list(scored["needs_review"]) == [True, False]
    assert list(scored["review_reason"]) == ["out_of_scope", ""]
    assert scored["topic"][0] == "" and scored["topic"][1] == "sport"
    explanation = json.loads(scored["explanation"][1])
    assert explanation["topic"] == "sport" and explanation["towards"]
