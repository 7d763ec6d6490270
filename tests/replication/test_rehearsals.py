"""The driver that rehearses every command in turn (replication/drivers/rehearsals.py).

Targets here are tiny Python children (`python -c ...`), so the tests measure the driver
(child process, exit codes, peak memory, resumption, atomic writes, the rendered table),
not a rehearsal; the rehearsals themselves have their own tests beside each paper.
"""

from __future__ import annotations

import json

import pytest

from replication.drivers import rehearsals as drv
from shared.cli import UsageError


def _py(label: str, code: str) -> drv.Target:
    return drv.Target(label, ("-c", code))


def test_paper_target_builds_the_users_command():
    t = drv.paper_target("paper2 --table VII", "R")
    assert t.argv == ("-m", "paper2_multirep.run", "--table", "VII", "--rehearse", "--results", "R")
    with pytest.raises(UsageError, match="paper3 --table 1"):
        drv.paper_target("paper3 --table 1", "R")


def test_default_labels_cover_every_table_and_figure_command():
    import paper1_ts.experiments  # noqa: F401  (registers the tables)
    import paper2_multirep.experiments  # noqa: F401
    from paper1_ts.figures import FIGURES
    from replication import registry

    labels = drv.default_labels()
    tables = {f"{n.split('/')[0]} --table {n.split('/table')[1]}" for n in registry.names()}
    figures = {f"paper1 --figure {k}" for k in FIGURES}
    figures |= {f"paper2 --figure {k}" for k in ("3", "4", "5")}
    assert set(labels) == tables | figures
    assert len(labels) == len(set(labels))


def test_run_target_measures_the_child_and_keeps_its_cost_lines(tmp_path):
    code = ("b = bytearray(120 * 1024 * 1024); b[::4096] = b'x' * len(b[::4096]); "
            "print('training...'); print('rehearsal cost at paper scale:'); print('  step 1.0 s')")
    e = drv.run_target(_py("child", code), tmp_path / "logs" / "child.log")
    assert e["exit"] == 0 and e["wall_s"] > 0
    assert e["peak_rss_mb"] >= 120                    # the child's own memory, not the driver's
    assert e["cost"] == ["rehearsal cost at paper scale:", "  step 1.0 s"]
    assert "tail" not in e
    assert (tmp_path / "logs" / "child.log").read_text().startswith("training...")


def test_a_failing_target_is_recorded_and_the_driver_goes_on_and_exits_1(tmp_path, monkeypatch):
    out = tmp_path / "times.json"
    targets = [_py("bad", "import sys; print('boom'); sys.exit(3)"), _py("good", "print('ok')")]
    monkeypatch.setattr(drv, "paper_target", lambda label, results: {t.label: t for t in targets}[label])
    monkeypatch.setattr(drv, "default_labels", lambda: ["bad", "good"])
    code = drv.main(["--out", str(out), "--results", str(tmp_path / "r")])
    data = json.loads(out.read_text())
    assert code == 1
    assert data["entries"]["bad"]["exit"] == 3 and data["entries"]["bad"]["tail"] == ["boom"]
    assert data["entries"]["good"]["exit"] == 0


def test_resumes_skipping_targets_measured_with_exit_0(tmp_path):
    out, ran = tmp_path / "times.json", []

    def fake_run(target, log):
        ran.append(target.label)
        return {"label": target.label, "command": target.label, "exit": 0 if target.label != "b" else 1,
                "wall_s": 61.0, "peak_rss_mb": 2048, "load_start": 1.0, "load_end": 2.0,
                "started": "2026-12-02 00:00 UTC", "commit": "abc", "cpus": 2, "log": str(log), "cost": []}

    targets = [drv.Target(x, ()) for x in "abc"]
    drv.run_all(targets, out, tmp_path, run=fake_run, say=lambda s: None)
    drv.run_all(targets, out, tmp_path, run=fake_run, say=lambda s: None)   # b failed: runs again
    assert ran == ["a", "b", "c", "b"]
    drv.run_all(targets, out, tmp_path, redo=True, run=fake_run, say=lambda s: None)
    assert ran[4:] == ["a", "b", "c"]


def test_an_interrupted_target_leaves_the_saved_measurements_whole(tmp_path):
    out = tmp_path / "times.json"

    def fake_run(target, log):
        if target.label == "b":
            raise KeyboardInterrupt
        return {"label": "a", "command": "a", "exit": 0, "wall_s": 1.0, "peak_rss_mb": 1,
                "load_start": 0.0, "load_end": 0.0, "started": "s", "commit": "c", "cpus": 2,
                "log": "l", "cost": []}

    with pytest.raises(KeyboardInterrupt):
        drv.run_all([drv.Target("a", ()), drv.Target("b", ())], out, tmp_path, run=fake_run, say=lambda s: None)
    assert list(json.loads(out.read_text())["entries"]) == ["a"]
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".") or p.suffix == ".tmp"]


def test_render_lists_measured_rows_in_order_and_the_rest_as_not_measured():
    entry = {"command": "python -m paper1_ts.run --table 6 --rehearse --results /some/root", "exit": 0, "wall_s": 1920.0,
             "peak_rss_mb": 7475, "load_start": 3.2, "load_end": 4.0, "started": "2026-12-02 00:10 UTC",
             "commit": "abc1234"}
    text = drv.render({"entries": {"paper1 --table 6": entry}}, ["paper1 --table 4", "paper1 --table 6"])
    rows = [ln for ln in text.splitlines() if ln.startswith("| `")]
    assert rows[0].startswith("| `python -m paper1_ts.run --table 6 --rehearse` | 32 min 00 s | 7.3 GB | 0 |")
    assert rows[1] == "| `paper1 --table 4` | not measured yet | | | | |"
    assert "1 of 2 commands, 32 min 00 s in all" in text


def test_a_times_file_of_another_kind_is_an_error_naming_it(tmp_path):
    bad = tmp_path / "times.json"
    bad.write_text("[1, 2]")
    with pytest.raises(UsageError, match="times.json: not a JSON file of rehearsal times"):
        drv.load_times(bad)
    assert drv.main(["--report-only", "--out", str(bad)]) == 2


def test_the_module_runs_as_a_command(tmp_path):
    import subprocess
    import sys
    from pathlib import Path
    root = Path(__file__).resolve().parents[2]
    out = subprocess.run([sys.executable, "-m", "replication.drivers.rehearsals", "--report-only",
                          "--out", str(tmp_path / "none.json")], capture_output=True, text=True, cwd=root,
                         timeout=120)
    assert out.returncode == 0, out.stderr
    assert "| `paper2 --table VII` | not measured yet |" in out.stdout
