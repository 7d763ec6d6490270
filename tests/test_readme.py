"""README.md and docs/*.md: a short README, links that resolve, generated sections that are current.

Issue 13: the README is a README (under 250 lines) that links into docs/; the test command it
shows is the one CI runs (.ci/run); every Markdown section between `<!-- BEGIN name -->` /
`<!-- END name -->` markers lives in the file its generating command writes (docs/checker.md
lists them), and the sections rendered from committed sources equal a fresh rendering.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
DOCS = ROOT / "docs"
MAX_README_LINES = 250

# section name -> the file its command writes (see docs/checker.md)
SECTIONS = {
    "claims": "README.md",
    "paper1-results": "docs/paper1.md",
    "paper2-results": "docs/paper2.md",
    "esc10": "docs/paper2.md",
    "bench": "docs/scale.md",
    "costs": "docs/scale.md",
    "rehearsal_times": "docs/scale.md",
    "peers": "docs/scale.md",
    "bench_floor": "docs/scale.md",
    "bench_inference": "docs/scale.md",
    "bench_batchnorm": "docs/scale.md",
    "bench_cache": "docs/scale.md",
    "decisions": "docs/register.md",
    "premises": "docs/claims.md",
    "premises_design": "docs/claims.md",
    "claims_t_squared": "docs/claims.md",
    "claims_premises": "docs/claims.md",
    "claims_premises_p1": "docs/claims.md",
    "claims_premises_t2": "docs/claims.md",
    "claims_premises_t4": "docs/claims.md",
    "claims_premises_p1_cosine": "docs/claims.md",
    "claims_premises_p1_long_gru": "docs/claims.md",
    "claims_premises_p1_demo": "docs/claims.md",
    "imitation_levelled": "docs/claims.md",
    "imitation_cosine": "docs/claims.md",
    "offset_course": "docs/claims.md",
    "claims_esc10": "docs/claims.md",
    "premises_esc10": "docs/claims.md",
}

_FENCE = re.compile(r"^```.*?^```[ \t]*$", re.S | re.M)
_CODE_SPAN = re.compile(r"`[^`\n]*`")
_LINK = re.compile(r"!?\[[^\]\n]*\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)")


def markdown_files() -> list[Path]:
    return [README, *sorted(DOCS.glob("*.md"))]


def links(text: str) -> list[str]:
    """Targets of inline Markdown links and images, outside code blocks and code spans."""
    text = _CODE_SPAN.sub("", _FENCE.sub("", text))
    return _LINK.findall(text)


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces -> '-'."""
    s = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return s.replace(" ", "-")


def anchors(path: Path) -> set[str]:
    text = _FENCE.sub("", path.read_text(encoding="utf-8"))
    return {slug(m.group(1)) for m in re.finditer(r"^#{1,6}\s+(.+?)\s*#*\s*$", text, re.M)}


def section(path: Path, name: str) -> str:
    text = path.read_text(encoding="utf-8")
    begin, end = f"<!-- BEGIN {name} -->", f"<!-- END {name} -->"
    assert text.count(begin) == 1 and text.count(end) == 1, \
        f"{path.relative_to(ROOT)}: expected one '{begin}' and one '{end}'"
    i, j = text.index(begin) + len(begin), text.index(end)
    assert i <= j, f"{path.relative_to(ROOT)}: '{end}' comes before '{begin}'"
    return text[i:j].strip("\n")


def fenced_after(text: str, heading_text: str) -> str:
    """The first fenced block after the line holding `heading_text`."""
    start = text.index(heading_text)
    m = re.search(r"^```[a-z]*\n(.*?)\n```", text[start:], re.S | re.M)
    assert m, f"README.md: no fenced command after '{heading_text}'"
    return m.group(1).strip()


# ----------------------------------------------------------------------------- helpers are honest

def test_link_parser_skips_code_and_finds_links_and_images():
    text = ("see [a](docs/a.md) and ![p](fig.png \"t\") and [web](https://x.org)\n"
            "`[not](code.md)`\n```\n[nor](block.md)\n```\n")
    assert links(text) == ["docs/a.md", "fig.png", "https://x.org"]


def test_slug_follows_github_rules():
    assert slug("Does distillation work here?") == "does-distillation-work-here"
    assert slug("Installing for a CUDA GPU") == "installing-for-a-cuda-gpu"
    assert slug("Every table and figure: command and code") == "every-table-and-figure-command-and-code"


# ----------------------------------------------------------------------------- the README itself

def test_readme_is_short():
    n = len(README.read_text(encoding="utf-8").splitlines())
    assert n < MAX_README_LINES, f"README.md has {n} lines (limit {MAX_README_LINES}): move detail into docs/"


def test_readme_test_command_is_what_ci_runs():
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8").splitlines()
    marker = [i for i, line in enumerate(ci) if "README test command" in line]
    assert len(marker) == 1, ".ci/run: expected one '# --- README test command' comment"
    ci_command = ci[marker[0] + 1].strip()
    readme_command = fenced_after(README.read_text(encoding="utf-8"), "Run the tests")
    assert readme_command == ci_command, \
        f"README.md 'Run the tests' shows {readme_command!r}, .ci/run runs {ci_command!r}"


def test_readme_maps_every_table_and_figure_to_a_command():
    text = README.read_text(encoding="utf-8")
    for n in ("1", "2", "3", "4", "5", "6"):
        assert f"python -m paper1_ts.run --table {n}" in text, f"README.md: no command for paper 1 Table {n}"
    for n in ("1", "2"):
        assert f"python -m paper1_ts.run --figure {n}" in text, f"README.md: no command for paper 1 Figure {n}"
    for t in ("I", "II", "III", "IV", "V", "VI", "VII"):
        assert f"python -m paper2_multirep.run --table {t} " in text, f"README.md: no command for paper 2 Table {t}"
    for n in ("3", "4"):
        assert f"python -m paper2_multirep.run --figure {n}" in text, f"README.md: no command for paper 2 Figure {n}"


def test_code_named_in_the_readme_map_exists():
    text = README.read_text(encoding="utf-8")
    prefixes = {"p1/": "paper1_ts/", "p2/": "paper2_multirep/"}
    named = re.findall(r"`((?:p1|p2)/[\w/]+\.py)`", text)
    assert len(named) > 20, "README.md: the table -> command -> code map names too few files"
    for short in named:
        path = ROOT / (prefixes[short[:3]] + short[3:])
        assert path.is_file(), f"README.md names `{short}`, but {path.relative_to(ROOT)} does not exist"


# ----------------------------------------------------------------------------- links

@pytest.mark.parametrize("path", markdown_files(), ids=lambda p: str(p.relative_to(ROOT)))
def test_relative_links_resolve(path):
    bad = []
    for target in links(path.read_text(encoding="utf-8")):
        if re.match(r"[a-z][a-z0-9+.-]*:", target):            # https:, mailto:
            continue
        file_part, _, anchor = target.partition("#")
        dest = (path.parent / file_part).resolve() if file_part else path
        if not dest.exists():
            bad.append(f"{target} (no such file)")
        elif anchor and dest.suffix == ".md" and anchor not in anchors(dest):
            bad.append(f"{target} (no heading '#{anchor}' in {dest.relative_to(ROOT)})")
    assert not bad, f"{path.relative_to(ROOT)}: broken links: " + "; ".join(bad)


def test_readme_links_every_docs_page():
    text = README.read_text(encoding="utf-8")
    missing = [p.name for p in sorted(DOCS.glob("*.md")) if f"(docs/{p.name}" not in text]
    assert not missing, f"README.md links no docs page for: {missing}"


# ----------------------------------------------------------------------------- generated sections

@pytest.mark.parametrize("name", sorted(SECTIONS))
def test_generated_section_lives_where_its_command_writes(name):
    section(ROOT / SECTIONS[name], name)
    for other in markdown_files():
        if other != ROOT / SECTIONS[name]:
            assert f"<!-- BEGIN {name} -->" not in other.read_text(encoding="utf-8"), \
                f"{other.relative_to(ROOT)}: section '{name}' belongs in {SECTIONS[name]} only"


def test_esc10_section_is_the_measured_table():
    table = (DOCS / "results" / "esc10" / "table.md").read_text(encoding="utf-8").strip("\n")
    assert section(DOCS / "paper2.md", "esc10") == table, \
        "docs/paper2.md section 'esc10' differs from docs/results/esc10/table.md: copy the file in"


def test_register_section_is_current():
    from replication.decisions import load_decisions, render_markdown
    fresh = render_markdown(load_decisions(), "table").strip("\n")
    assert section(DOCS / "register.md", "decisions") == fresh, \
        "docs/register.md is stale: run python -m replication.decisions --into docs/register.md --section decisions"


def test_bench_section_is_current(monkeypatch):
    from replication.drivers import bench_report
    monkeypatch.chdir(ROOT)                    # the section names the JSON files by relative path
    after, before = "docs/results/bench/after.json", "docs/results/bench/before.json"
    fresh = bench_report.render(bench_report._load(Path(after)), bench_report._load(Path(before)),
                                after, before).strip("\n")
    assert section(DOCS / "scale.md", "bench") == fresh, \
        ("docs/scale.md is stale: run python -m replication.drivers.bench_report --after " + after
         + " --before " + before + " --into docs/scale.md --section bench")


@pytest.mark.parametrize("name, json_name", [("imitation_levelled", "levelled"),
                                             ("imitation_cosine", "levelled_cosine")])
def test_imitation_sections_are_their_json(name, json_name):
    from paper1_ts.imitation import load_rows, render
    label, rows = load_rows(DOCS / "results" / "imitation" / f"{json_name}.json")
    assert section(DOCS / "claims.md", name) == render(label, rows).strip("\n"), \
        f"docs/claims.md section '{name}' is not docs/results/imitation/{json_name}.json: rerun its command"


@pytest.mark.parametrize("name, json_name", [("premises", "premises"), ("premises_design", "premises_design"),
                                             ("premises_esc10", "premises_esc10")])
def test_premises_sections_are_their_json(name, json_name):
    from replication.premises import render
    result = json.loads((DOCS / "results" / f"{json_name}.json").read_text())
    assert section(DOCS / "claims.md", name) == ("```\n" + render(result) + "\n```").strip("\n"), \
        f"docs/claims.md section '{name}' is not docs/results/{json_name}.json: rerun python -m replication.premises"


def test_offset_course_section_is_its_json():
    from paper1_ts.offset_course import load, render
    assert section(DOCS / "claims.md", "offset_course") == \
        render(load(DOCS / "results" / "offset_course" / "course.json")).strip("\n"), \
        "docs/claims.md section 'offset_course' is not docs/results/offset_course/course.json: rerun its command"


def test_peers_section_is_current(monkeypatch):
    from replication.drivers.bench_peers import render_peers
    from replication.drivers.bench_report import _load
    monkeypatch.chdir(ROOT)
    src = "docs/results/bench/peers.json"
    fresh = render_peers(_load(Path(src)), src).strip("\n")
    assert section(DOCS / "scale.md", "peers") == fresh, \
        ("docs/scale.md is stale: run python -m replication.drivers.bench_report --after " + src
         + " --into docs/scale.md --section peers")


# each opt-in benchmark section of docs/scale.md: (marker, module:renderer, its JSON)
BENCH_SECTIONS = [("bench_floor", "bench_floor:render_floor", "floor_inference.json"),
                  ("bench_inference", "bench_inference:render_inference", "floor_inference.json"),
                  ("bench_batchnorm", "bench_batchnorm:render_batchnorm", "batchnorm.json"),
                  ("bench_cache", "bench_cache:render_cache", "cache.json")]


@pytest.mark.parametrize("name, render, json_name", BENCH_SECTIONS, ids=[c[0] for c in BENCH_SECTIONS])
def test_bench_sections_are_current(monkeypatch, name, render, json_name):
    import importlib

    from replication.drivers.bench_report import _load
    module, func = render.split(":")
    fn = getattr(importlib.import_module(f"replication.drivers.{module}"), func)
    monkeypatch.chdir(ROOT)
    src = f"docs/results/bench/{json_name}"
    fresh = fn(_load(Path(src)), src).strip("\n")
    assert section(DOCS / "scale.md", name) == fresh, \
        ("docs/scale.md is stale: run python -m replication.drivers.bench_report --after " + src
         + f" --into docs/scale.md --section {name}")


def test_costs_section_is_current():
    from replication.cost import default_throughput_path, load_throughput
    from replication.drivers import costs
    fresh = costs.render(costs.paper1_costs() + costs.paper2_costs(),
                         load_throughput(default_throughput_path())).strip("\n")
    assert section(DOCS / "scale.md", "costs") == fresh, \
        "docs/scale.md is stale: run python -m replication.drivers.costs --into docs/scale.md --section costs"


def test_rehearsal_times_section_is_its_json():
    from replication.drivers import rehearsals
    fresh = rehearsals.render(rehearsals.load_times(ROOT / rehearsals.DEFAULT_OUT),
                              rehearsals.default_labels()).strip("\n")
    assert section(DOCS / "scale.md", "rehearsal_times") == fresh, \
        ("docs/scale.md is stale: run python -m replication.drivers.rehearsals --report-only "
         "--into docs/scale.md --section rehearsal_times")


def test_every_generated_section_is_listed_in_the_checker_page():
    """A new marked section must name its command in docs/checker.md (and here, in SECTIONS)."""
    listed = (DOCS / "checker.md").read_text(encoding="utf-8")
    for path in markdown_files():
        text = _CODE_SPAN.sub("", _FENCE.sub("", path.read_text(encoding="utf-8")))
        for name in re.findall(r"<!-- BEGIN ([\w.:/-]+) -->", text):
            assert name in SECTIONS and f"| `{name}` |" in listed, \
                (f"{path.relative_to(ROOT)}: section '{name}' is not listed in docs/checker.md "
                 "(section, file, the command that writes it) and tests/test_readme.py SECTIONS")
