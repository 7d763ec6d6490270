"""The main job's orchestration: order of steps, failure propagation, argument errors.

The heavy steps (data generation, training) are replaced by recorders here; the real
commands are exercised by their own tests and by `python -m replication.demo`.
"""

from __future__ import annotations

import pytest

import replication.data
import replication.demo as demo


@pytest.fixture
def calls(monkeypatch):
    seen: list[tuple[str, tuple]] = []

    def runner_for(paper):
        def run(argv):
            seen.append((paper, tuple(argv)))
            return 1 if ("--table" in argv and argv[argv.index("--table") + 1] == "BAD") else 0
        return run

    monkeypatch.setattr(demo, "_runner", runner_for)
    monkeypatch.setattr(replication.data, "main", lambda argv: seen.append(("data", tuple(argv))) or 0)
    return seen


def test_runs_data_shapes_then_tables_in_order(calls, tmp_path):
    code = demo.main(["--tables", "paper1:6", "paper2:VII", "--results", str(tmp_path / "r")])
    assert code == 0
    kinds = [(c[0], c[1][1] if c[0] != "data" else c[1][0]) for c in calls]
    assert kinds == [("data", "prepare"), ("paper1", "2"), ("paper1", "3"),
                     ("paper1", "6"), ("paper2", "VII")]
    assert all("--preset" in c[1] and "demo" in c[1] for c in calls[3:])


def test_a_failing_table_fails_the_job(calls, tmp_path):
    assert demo.main(["--tables", "paper1:BAD", "--results", str(tmp_path / "r")]) == 1


def test_bad_table_spec_is_a_clear_error(calls, tmp_path):
    with pytest.raises(SystemExit, match="paper1:6"):
        demo.main(["--tables", "paper1", "--results", str(tmp_path / "r")])


def test_missing_data_stops_early(monkeypatch, tmp_path):
    monkeypatch.setattr(replication.data, "main", lambda argv: 3)
    monkeypatch.setattr(demo, "_runner", lambda paper: pytest.fail("must not train without data"))
    assert demo.main(["--results", str(tmp_path / "r")]) == 1
