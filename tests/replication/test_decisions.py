"""replication.decisions: the real register validates; schema errors name file and entry."""

from __future__ import annotations

from pathlib import Path

import pytest

from replication.decisions import (KEYS, DecisionsError, load_decisions, load_file, main,
                                   render_markdown, unknown_ids)

GOOD = """\
- id: p1-preemphasis
  paper: paper1
  topic: Pre-emphasis coefficient
  paper_says: Pre-emphasis, coefficient not given.
  chosen: "0.97"
  alternatives: [0.95, none]
  config_key: Paper1Params.features.preemphasis
  why: The lab's code uses 0.97.
- id: both-std
  paper: both
  topic: Spread over seeds
  paper_says: Single runs.
  chosen: sample std | n-1
  alternatives: []
  config_key: replication.check
  why: Unbiased variance.
"""


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_the_repository_register_is_valid():
    entries = load_decisions()
    assert len({e.id for e in entries}) == len(entries)
    md = render_markdown(entries)
    for e in entries:
        assert f"`{e.id}`" in md


def test_load_and_render_both_styles(tmp_path):
    entries = load_decisions([_write(tmp_path, "a.yaml", GOOD)])
    assert [e.id for e in entries] == ["p1-preemphasis", "both-std"]
    assert entries[0].alternatives == ("0.95", "none")
    table = render_markdown(entries)
    assert "### Paper 1" in table and "### Both papers" in table
    assert "sample std \\| n-1" in table                 # '|' escaped inside a table cell
    sections = render_markdown(entries, style="sections")
    assert "#### `p1-preemphasis`: Pre-emphasis coefficient" in sections
    assert "- **Switch:** `Paper1Params.features.preemphasis`" in sections


@pytest.mark.parametrize("key", KEYS)
def test_missing_key_names_file_and_entry(tmp_path, key):
    lines = [l for l in GOOD.splitlines()[:8] if not l.lstrip("- ").startswith(f"{key}:")]
    if key == "id":
        lines[0] = "- " + lines[0].strip()
    path = _write(tmp_path, "bad.yaml", "\n".join(lines) + "\n")
    with pytest.raises(DecisionsError) as err:
        load_file(path)
    msg = str(err.value)
    assert str(path) in msg and "entry 1" in msg and key in msg


def test_duplicate_id_across_files(tmp_path):
    a = _write(tmp_path, "a.yaml", GOOD)
    b = _write(tmp_path, "b.yaml", GOOD.split("- id: both-std")[0])
    with pytest.raises(DecisionsError, match=r"b\.yaml: duplicate id 'p1-preemphasis' \(also in .*a\.yaml\)"):
        load_decisions([a, b])


@pytest.mark.parametrize("old,new,match", [
    ("paper: paper1", "paper: paper3", "paper must be one of"),
    ("alternatives: [0.95, none]", "alternatives: 0.95", "'alternatives' must be a list"),
    ("why: The lab's code uses 0.97.", "why: ''", "'why' must be a non-empty string"),
    ("topic: Pre-emphasis coefficient", "topic: Pre-emphasis\n  extra: 1", "unknown key"),
    ("id: p1-preemphasis", "id: P1 Pre", "id must be"),
    ("chosen: \"0.97\"", "chosen: \"0.97\"\n  chosen: \"0.95\"", "duplicate key"),
])
def test_schema_errors(tmp_path, old, new, match):
    path = _write(tmp_path, "bad.yaml", GOOD.replace(old, new, 1))
    with pytest.raises(DecisionsError, match=match) as err:
        load_file(path)
    assert str(path) in str(err.value)


def test_top_level_must_be_a_list(tmp_path):
    with pytest.raises(DecisionsError, match="top level must be a list"):
        load_file(_write(tmp_path, "x.yaml", "id: a\n"))
    assert load_file(_write(tmp_path, "empty.yaml", "")) == []


def test_unknown_ids(tmp_path):
    entries = load_decisions([_write(tmp_path, "a.yaml", GOOD)])
    assert unknown_ids(["p1-preemphasis", "p1-nope", "p1-nope"], entries) == ["p1-nope"]


def test_cli_markdown_and_readme_section(tmp_path, capsys):
    reg = _write(tmp_path, "a.yaml", GOOD)
    out = tmp_path / "decisions.md"
    assert main([str(reg), "--markdown", str(out)]) == 0
    assert "p1-preemphasis" in out.read_text()
    readme = _write(tmp_path, "README.md", "x\n<!-- BEGIN decisions -->\nold\n<!-- END decisions -->\ny\n")
    assert main([str(reg), "--into", str(readme)]) == 0
    text = readme.read_text()
    assert "old" not in text and "p1-preemphasis" in text and text.startswith("x\n") and text.endswith("y\n")
    bad = _write(tmp_path, "bad.yaml", "- id: x\n")
    assert main([str(bad)]) == 2
    assert "bad.yaml" in capsys.readouterr().err
