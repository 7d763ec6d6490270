"""replication.report: Markdown/JSON rendering and README marker replacement."""

from __future__ import annotations

import json

import pytest

from replication import report
from replication.check import check_records
from replication.published import load_published
from replication.records import RunRecord, find_records, write_record
from replication.report import ReportError, replace_between_markers


def _records(tmp_path):
    for seed, acc in enumerate([0.70, 0.72]):
        write_record(RunRecord(table="paper1/table4", run="T5_teacher20s", preset="paper", seed=seed,
                               metrics={"accuracy": acc, "map_at_3": None}, host={"t": 1}), tmp_path)
    write_record(RunRecord(table="paper1/table4", run="T1_teacher10s", preset="paper", seed=0,
                           metrics={"accuracy": 0.71}, faithful=False, deviations=["2 epochs"],
                           host={"t": 1}), tmp_path)
    return find_records([tmp_path])


def test_markdown_table_escapes_and_checks_width():
    md = report.markdown_table(["a", "b"], [["x|y", 1]])
    assert md.splitlines() == ["| a | b |", "|---|---|", "| x\\|y | 1 |"]
    with pytest.raises(ReportError, match="2 cells"):
        report.markdown_table(["a", "b"], [["only one"]])


def test_check_markdown_same_from_object_and_json(tmp_path):
    rep = check_records(_records(tmp_path))
    md = report.check_markdown(rep)
    assert md == report.check_markdown(json.loads(json.dumps(rep.to_dict())))
    assert "| paper1/table4 | T5_teacher20s | accuracy | 73.23 (paper) | 71.00 ± 1.41 | 2 |" in md
    assert "not faithful" in md and "2 epochs" in md
    assert "the numbers published in the papers" in md


def test_check_text_flags_and_summary(tmp_path):
    text = report.check_text(check_records(_records(tmp_path)))
    assert "Summary:" in text and "[not faithful]" in text and "T1_teacher10s (paper): 2 epochs" in text
    with pytest.raises(ReportError):
        report.check_text({"no": "rows"})


def test_records_markdown_converts_fractions_to_percent(tmp_path):
    records = _records(tmp_path)
    md = report.records_markdown(records)
    assert "| paper1/table4 | T5_teacher20s | paper | 1 | 72.00 | - | yes |" in md
    assert "| paper1/table4 | T1_teacher10s | paper | 0 | 71.00 | - | no |" in md
    data = json.loads(report.records_json(records))
    assert len(data) == 3 and data[0]["metrics"]["accuracy"] <= 1.0


def test_published_markdown():
    md = report.published_markdown(load_published(), "paper2/tableVII")
    assert "| resnet_logmel64 | logMel,ResNet \\| MFCC,VGGNet | 70.33 | 80.67 | yes |" in md
    md1 = report.published_markdown(load_published(), "paper1/table1")
    assert "| raw_jung | Raw waveform | 67.15 | published only |" in md1


def test_replace_between_markers(tmp_path):
    path = tmp_path / "README.md"
    path.write_text("head\n<!-- BEGIN t4 -->\nold table\n<!-- END t4 -->\ntail\n")
    assert replace_between_markers(path, "t4", "| new |") is True
    assert path.read_text() == "head\n<!-- BEGIN t4 -->\n| new |\n<!-- END t4 -->\ntail\n"
    assert replace_between_markers(path, "t4", "| new |\n") is False          # idempotent
    assert not list(tmp_path.glob(".README*"))


@pytest.mark.parametrize("text,match", [
    ("no markers\n", "exactly one"),
    ("<!-- BEGIN t4 -->\n<!-- END t4 -->\n<!-- BEGIN t4 -->\n<!-- END t4 -->\n", "found 2 and 2"),
    ("<!-- END t4 -->\n<!-- BEGIN t4 -->\n", "comes before"),
])
def test_replace_between_markers_errors(tmp_path, text, match):
    path = tmp_path / "doc.md"
    path.write_text(text)
    with pytest.raises(ReportError, match=match) as err:
        replace_between_markers(path, "t4", "x")
    assert str(path) in str(err.value)
    assert path.read_text() == text
    with pytest.raises(ReportError, match="marker name"):
        replace_between_markers(path, "bad name -->", "x")


def test_report_cli_into_readme(tmp_path, capsys):
    rep = check_records(_records(tmp_path / "res"))
    js = tmp_path / "check.json"
    js.write_text(json.dumps(rep.to_dict()))
    readme = tmp_path / "README.md"
    readme.write_text("<!-- BEGIN results -->\n<!-- END results -->\n")
    assert report.main(["--check-json", str(js), "--into", str(readme), "--section", "results"]) == 0
    assert "T5_teacher20s" in readme.read_text()
    assert report.main(["--published", "paper1/table9"]) == 2
    assert "paper1/table9" in capsys.readouterr().err


def test_shared_deviations_are_listed_once_with_every_run():
    from replication.report import _deviation_lines
    row = {"table": "paper1/table4", "preset": "demo", "faithful": False}
    report = {"rows": [dict(row, run="a", deviations=["demo data"]),
                       dict(row, run="b", deviations=["demo data"]),
                       dict(row, run="b", deviations=["demo data"]),        # same run, 2nd metric
                       dict(row, run="c", deviations=["no ImageNet weights"]),
                       dict(row, run="d", faithful=True, deviations=[])]}
    lines = _deviation_lines(report)
    assert lines == ["2 runs (paper1/table4 a (demo), paper1/table4 b (demo)): demo data",
                     "paper1/table4 c (demo): no ImageNet weights"]
