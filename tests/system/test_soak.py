"""A short soak (bench/soak.py): a real server under steady load while a new version is trained and reloaded."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench"


def load_soak() -> ModuleType:
    """bench/soak.py as a module; bench/ goes last on the path so that ``import serve`` stays the package."""
    if str(BENCH) not in sys.path:
        sys.path.append(str(BENCH))
    spec = importlib.util.spec_from_file_location("bench_soak", BENCH / "soak.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while the class is built
    spec.loader.exec_module(module)
    return module


@pytest.mark.slow
def test_a_short_soak_with_a_reload_and_a_corrupted_reload(shared_data: Path, tmp_path: Path) -> None:
    soak = load_soak()
    config = soak.SoakConfig(
        data_file=shared_data / soak.BBC_FILE,
        duration=12,
        concurrency=4,
        reloads=1,
        data_limit=100,
        articles=200,
        warmup=2,
        scratch=tmp_path,
    )
    results = soak.run_soak(config, progress=lambda line: None)
    assert results["failed"] == 0 and results["failed_warmup"] == 0, results["failures"]
    assert results["requests"] > 50
    assert results["versions_seen"]["before"] == {"v0001": results["phases"]["before"]["requests"]}
    assert set(results["versions_seen"]["after"]) == {"v0002"}
    assert results["stale_answers"] == 0
    (reload,) = results["reloads"]
    assert reload["status"] == 200 and reload["previous"] == "v0001" and reload["loaded"] == "v0002"
    assert reload["in_flight"]["failed"] == 0
    burst = results["concurrent_reloads"]
    assert burst["statuses"] == {"200": 4} and burst["versions"] == ["v0002"]
    corrupted = results["corrupted_reload"]
    assert corrupted["status"] == 409 and corrupted["code"] == "reload_failed"
    assert "does not match its checksum" in corrupted["message"] and "still serving bbc v0002" in corrupted["message"]
    assert corrupted["serving_after"] == "v0002"
    checks = {name: ok for name, ok in results["checks"].items() if name != "rss_growth_within_limit"}
    assert all(checks.values()), checks  # RSS over a few seconds of a tiny model is noise: the full soak gates it
    assert results["rss_start_mb"] > 0 and results["rss_end_mb"] > 0
