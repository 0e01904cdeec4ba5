"""The docs: benchmark tables match bench/results, the README stays short and starts right, links and paths resolve.

bench/render_docs.py runs in a subprocess: putting bench/ on this process's path would let
bench/transformers.py shadow the transformers package for later tests.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
RENDER = ROOT / "bench" / "render_docs.py"
RESULTS = ROOT / "bench" / "results"
README_LIMIT = 10_000
LINK = re.compile(r"(?<!!)\[[^\]]*\]\(([^)\s]+)\)")
CODE_PATH = re.compile(r"`((?:train|serve|tests|bench|docs|data)/[\w./-]*)(?:::(\w+))?`")
PLACEHOLDER = re.compile(r"[A-Z]{3,}|\*")  # models/NAME/vNNNN, part-NNNNN.json, globs


def doc_files() -> list[Path]:
    """README, the docs folder, and the notes kept beside the code."""
    notes = [ROOT / "SECURITY.md", ROOT / "data" / "README.md", ROOT / "models" / "README.md"]
    return [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md")), *notes]


def render(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(RENDER), *args], check=False, capture_output=True, text=True, timeout=60)


def slug(heading: str) -> str:
    """GitHub's anchor for a markdown heading."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def anchors(path: Path) -> set[str]:
    text = re.sub(r"```.*?```", "", path.read_text(encoding="utf-8"), flags=re.DOTALL)
    return {slug(m.group(1)) for m in re.finditer(r"^#+\s+(.*)$", text, flags=re.MULTILINE)}


def broken_links(path: Path) -> list[str]:
    """Relative links in ``path`` whose file (or heading anchor) does not exist."""
    broken = []
    for target in LINK.findall(path.read_text(encoding="utf-8")):
        if re.match(r"[a-z]+:", target):
            continue  # https:, mailto:
        file_part, _, anchor = target.partition("#")
        linked = (path.parent / file_part).resolve() if file_part else path
        if not linked.exists():
            broken.append(f"{target} (no such file)")
        elif anchor and linked.suffix == ".md" and anchor not in anchors(linked):
            broken.append(f"{target} (no heading #{anchor} in {linked.name})")
    return broken


def missing_paths(path: Path) -> list[str]:
    """Code-quoted repository paths in ``path`` (``train/...``, ``tests/x.py::test_y``) that do not exist."""
    missing = []
    for match in CODE_PATH.finditer(path.read_text(encoding="utf-8")):
        relative, test_name = match.groups()
        if PLACEHOLDER.search(relative):
            continue
        target = ROOT / relative
        if not target.exists():
            missing.append(relative)
        elif test_name and not re.search(rf"^\s*def {test_name}\b", target.read_text(), flags=re.MULTILINE):
            missing.append(f"{relative}::{test_name}")
    return missing


# --------------------------------------------------------------------------- generated benchmark tables


def test_the_docs_tables_match_the_benchmark_results() -> None:
    result = render("--check")
    assert result.returncode == 0, f"{result.stdout}{result.stderr}(run: python bench/render_docs.py)"


def test_every_results_file_is_shown_in_the_docs() -> None:
    text = "".join(p.read_text(encoding="utf-8") for p in doc_files())
    for results in RESULTS.glob("*.json"):
        assert f"<!-- bench:{results.stem} -->" in text, f"no region renders {results.name}"


def _doc_with_classify_region(root: Path, body: str) -> Path:
    readme = root / "README.md"
    readme.write_text(f"# t\n\nintro\n\n<!-- bench:classify -->\n{body}\n<!-- /bench:classify -->\n", encoding="utf-8")
    return readme


def test_a_hand_edited_table_is_stale_until_rendered(tmp_path: Path) -> None:
    readme = _doc_with_classify_region(tmp_path, "| measure | value |\n| BBC accuracy | 0.99 |")
    stale = render("--check", "--root", str(tmp_path))
    assert stale.returncode == 1 and "stale" in stale.stdout
    assert "0.99 |" in readme.read_text(), "--check must not change the file"

    assert render("--root", str(tmp_path)).returncode == 0
    accuracy = json.loads((RESULTS / "classify.json").read_text())["bbc.accuracy"]
    text = readme.read_text()
    assert f"| {accuracy:.4f} |" in text and "0.99 |" not in text
    assert text.startswith("# t\n\nintro\n") and text.endswith("<!-- /bench:classify -->\n")
    assert render("--check", "--root", str(tmp_path)).returncode == 0


def test_a_changed_result_makes_the_docs_stale(tmp_path: Path) -> None:
    results = tmp_path / "results"
    shutil.copytree(RESULTS, results)
    _doc_with_classify_region(tmp_path, "")
    assert render("--root", str(tmp_path), "--results", str(results)).returncode == 0
    data = json.loads((results / "classify.json").read_text())
    data["bbc.accuracy"] = 0.5
    (results / "classify.json").write_text(json.dumps(data))
    result = render("--check", "--root", str(tmp_path), "--results", str(results))
    assert result.returncode == 1
    assert render("--root", str(tmp_path), "--results", str(results)).returncode == 0
    assert "| 0.5000 | >= 0.98 (**not met**) |" in (tmp_path / "README.md").read_text()


@pytest.mark.parametrize(
    ("doc", "message"),
    [
        ("<!-- bench:nosuch -->\n<!-- /bench:nosuch -->\n", "unknown benchmark region 'bench:nosuch'"),
        ("<!-- bench:classify -->\nleft open\n", "opened but not closed"),
    ],
)
def test_a_bad_region_is_an_error_that_names_it(tmp_path: Path, doc: str, message: str) -> None:
    (tmp_path / "README.md").write_text(doc, encoding="utf-8")
    result = render("--check", "--root", str(tmp_path))
    assert result.returncode == 2 and message in result.stderr


def test_a_missing_results_file_says_which_benchmark_to_run(tmp_path: Path) -> None:
    _doc_with_classify_region(tmp_path, "")
    (tmp_path / "results").mkdir()
    result = render("--root", str(tmp_path), "--results", str(tmp_path / "results"))
    assert result.returncode == 2 and "run python bench/classify.py" in result.stderr


# --------------------------------------------------------------------------- the README


def test_the_readme_is_short() -> None:
    size = len((ROOT / "README.md").read_text(encoding="utf-8"))
    assert size <= README_LIMIT, f"README.md has {size} characters; move detail into docs/ (limit {README_LIMIT})"


def test_the_readme_starts_with_a_title_a_paragraph_then_the_two_commands() -> None:
    blocks = (ROOT / "README.md").read_text(encoding="utf-8").split("\n\n")
    title, paragraph, commands = blocks[0], blocks[1], blocks[2]
    assert re.fullmatch(r"# \S.*", title), f"the README must open with a '# title' line, not {title[:40]!r}"
    assert paragraph and not paragraph.startswith(("#", "```", "|", "-", "<")), "then one plain paragraph"
    lines = commands.splitlines()
    assert lines[0] == "```bash" and lines[-1] == "```" and len(lines) == 4, "then a code block of two commands"
    run, test = lines[1], lines[2]
    assert run.startswith("python3 -m venv .venv") and "newsdesk train" in run and "newsdesk serve" in run
    assert test.startswith("python3 -m venv .venv") and test.endswith("-m pytest")


# --------------------------------------------------------------------------- links and paths


@pytest.mark.parametrize("doc", doc_files(), ids=lambda p: str(p.relative_to(ROOT)))
def test_every_relative_link_resolves(doc: Path) -> None:
    assert broken_links(doc) == []


@pytest.mark.parametrize("doc", doc_files(), ids=lambda p: str(p.relative_to(ROOT)))
def test_every_path_the_docs_name_exists(doc: Path) -> None:
    assert missing_paths(doc) == []


def test_the_link_and_path_checks_catch_mistakes(tmp_path: Path) -> None:
    (tmp_path / "other.md").write_text("# Other page\n\n## A section\n", encoding="utf-8")
    doc = tmp_path / "doc.md"
    doc.write_text(
        "[ok](other.md) [ok](other.md#a-section) [web](https://example.org/x) [gone](nowhere.md) "
        "[bad anchor](other.md#no-such-section)\n"
        "`train/pipeline.py` `train/no_such_module.py` `models/NAME/vNNNN/` "
        "`tests/test_docs.py::test_the_readme_is_short` `tests/test_docs.py::test_that_does_not_exist`\n",
        encoding="utf-8",
    )
    assert broken_links(doc) == [
        "nowhere.md (no such file)",
        "other.md#no-such-section (no heading #no-such-section in other.md)",
    ]
    assert missing_paths(doc) == ["train/no_such_module.py", "tests/test_docs.py::test_that_does_not_exist"]
