"""data/published/*.yaml checked cell by cell against the tables printed in the papers' text."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from replication.published import load_published

PAPERS = Path(__file__).resolve().parents[2].parent / "shared" / "papers"
DECIMAL = re.compile(r"^\d+\.\d+$")
TAG = re.compile(r"</?b>")


@pytest.fixture(scope="module")
def papers() -> Path:
    if not (PAPERS / "paper1_ts_heo2019.txt").exists():
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"CI must check the published data, but {PAPERS} is missing")
        pytest.skip(f"paper texts not found at {PAPERS}")
    return PAPERS


@pytest.fixture(scope="module")
def published():
    return load_published()


def _table_lines(lines: list[str], caption: str, is_row) -> list[str]:
    """The printed data lines after the caption line starting with `caption`."""
    starts = [i for i, line in enumerate(lines) if line.strip().startswith(caption)]
    assert len(starts) == 1, f"caption {caption!r} found {len(starts)} times"
    rows: list[str] = []
    for line in lines[starts[0] + 1:]:
        if is_row(line):
            rows.append(line)
        elif rows and line.strip():
            break
    return rows


def _paper1_tables(text: str) -> dict[str, list[tuple[str | None, str, list[str]]]]:
    """{registry name: [(group, row label, printed values)]} for paper 1 Tables 1, 4, 5, 6."""
    lines = text.splitlines()
    out = {}
    for n in ("1", "4", "5", "6"):
        is_row = lambda s: any(DECIMAL.match(tok) for tok in s.split())
        parsed = []
        for line in _table_lines(lines, f"Table {n}:", is_row):
            toks = line.split()
            k = len(toks)
            while k > 0 and (DECIMAL.match(toks[k - 1]) or toks[k - 1] == "-"):
                k -= 1
            parsed.append(("T" if n == "4" else None, " ".join(toks[:k]), toks[k:]))
        out[f"paper1/table{n}"] = parsed
    return out


def _paper2_tables(text: str) -> dict[str, list[tuple[str | None, str, list[str]]]]:
    lines = text.splitlines()
    out = {}
    for roman in ("I", "II", "III", "IV", "V", "VI", "VII"):
        is_row = lambda s: "\t" in s and any(DECIMAL.match(TAG.sub("", f).strip()) for f in s.split("\t"))
        parsed, group = [], None
        for line in _table_lines(lines, f"TABLE {roman}:", is_row):
            fields = [TAG.sub("", f).strip() for f in line.split("\t")]
            values = [f for f in fields if DECIMAL.match(f)]
            labels = [f for f in fields if f and not DECIMAL.match(f)]
            if roman in ("VI", "VII"):
                parsed.append((None, " | ".join(labels), values))
            else:
                if fields[0]:
                    group = fields[0]
                parsed.append((group, fields[1], values))
        out[f"paper2/table{roman}"] = parsed
    return out


def _positions(published, table):
    """{(line, column): (value, row, group)} of every printed position the YAML claims."""
    out = {}
    for cell in published.cells_of(table):
        for pos in [{"line": cell.line, "row": cell.row, "group": cell.group, "column": cell.column},
                    *cell.also_printed]:
            key = (pos["line"], pos["column"])
            assert key not in out, f"{table}: position {key} claimed twice"
            out[key] = (cell.value, pos["row"], pos.get("group"))
    return out


@pytest.mark.parametrize("paper", ["paper1", "paper2"])
def test_every_printed_cell_is_in_the_yaml_at_its_position(papers, published, paper):
    text = (papers / ("paper1_ts_heo2019.txt" if paper == "paper1" else "paper2_multirep_gao.txt")
            ).read_text(encoding="utf-8")
    printed = _paper1_tables(text) if paper == "paper1" else _paper2_tables(text)
    assert sorted(printed) == sorted(t for t in published.table_names() if t.startswith(paper + "/"))
    for table, rows in printed.items():
        columns = published.table(table).columns
        claimed = _positions(published, table)
        dashes = {(p["line"], p["column"]) for p in published.table(table).not_reported}
        n_numbers = 0
        for line_no, (group, label, values) in enumerate(rows, start=1):
            assert len(values) == len(columns), f"{table} line {line_no}: {values}"
            for column, value in zip(columns, values):
                if value == "-":
                    assert (line_no, column) in dashes, f"{table} line {line_no} {column}: '-' not recorded"
                    continue
                n_numbers += 1
                assert (line_no, column) in claimed, f"{table} line {line_no} {column} ({value}) missing"
                got, row, grp = claimed[(line_no, column)]
                assert got == float(value), f"{table} line {line_no} {column}: yaml {got} vs printed {value}"
                assert row == label, f"{table} line {line_no}: yaml row {row!r} vs printed {label!r}"
                assert grp == group, f"{table} line {line_no}: yaml group {grp!r} vs printed {group!r}"
        assert len(claimed) == n_numbers, f"{table}: yaml has {len(claimed)} positions, paper {n_numbers}"


def test_cell_counts_per_table(published):
    # printed numeric positions per table (paper 1 Table 1 has one "-": 8 positions, 7 numbers)
    expected = {"paper1/table1": 7, "paper1/table4": 6, "paper1/table5": 3, "paper1/table6": 6,
                "paper2/tableI": 20, "paper2/tableII": 20, "paper2/tableIII": 20, "paper2/tableIV": 10,
                "paper2/tableV": 20, "paper2/tableVI": 30, "paper2/tableVII": 20}
    got = {t: sum(1 + len(c.also_printed) for c in published.cells_of(t)) for t in published.table_names()}
    assert got == expected


def test_published_only_cells_are_the_jung_column(published):
    only = sorted(c.run for c in published.cells.values() if not c.rerun)
    assert only == ["ensemble_jung", "ivector_jung", "raw_jung", "spec_jung"]
    assert all(c.column == "Jung et al. [1, 4]" for c in published.cells.values() if not c.rerun)


BRANCH = r"(resnet|vgg)_(logmel64|logmel128|mfcc|cqt)"


def test_paper2_run_names_follow_the_documented_scheme(published):
    for cell in published.cells.values():
        if cell.paper != "paper2":
            continue
        run, label = cell.run, cell.row.split(" | ")[0]
        if cell.column.startswith("Ensemble") or label == "Ensemble*":
            assert re.fullmatch(rf"ensemble_{BRANCH}_and_{BRANCH}", run), run
        elif "*" in cell.column or label.endswith("*"):
            assert re.fullmatch(rf"{BRANCH}_distilled_with_{BRANCH}", run), run
        else:
            assert re.fullmatch(BRANCH, run), run


def test_paper2_branch_names_match_printed_labels(published):
    """The network/input in a run name agree with the printed row label and group."""
    nets = {"ResNet": "resnet", "VGGNet": "vgg"}
    inputs = {"logMel": "logmel64", "logMel64": "logmel64", "logMel128": "logmel128", "MFCC": "mfcc", "CQT": "cqt"}
    for cell in published.cells.values():
        if cell.paper != "paper2" or cell.run.startswith("ensemble_"):
            continue
        if cell.table in ("paper2/tableVI", "paper2/tableVII"):
            side = 0 if cell.column.startswith("Branch1") else 1
            inp, net = cell.row.split(" | ")[side].split(",")
        else:
            a, b = cell.group, cell.row.rstrip("*")
            net, inp = (a, b) if a in nets else (b, a)
        assert cell.run.startswith(f"{nets[net]}_{inputs[inp]}"), (cell.table, cell.run, cell.row)


def test_figure3_is_marked_unavailable(published):
    fig = published.figures["paper2/figure3"]
    assert fig["available"] is False and fig["reason"]
    for mode, refs in fig["candidates"].items():
        for ref in refs:
            table, run = ref.split()
            assert published.get(table, run, "accuracy") is not None, (mode, ref)
