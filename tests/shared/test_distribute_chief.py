"""shared.distribute.is_chief / worker_results_root and the runners' chief-only writes.

No real workers: TF_CONFIG variants are set in the environment (monkeypatch); the
runners' routing is called directly with params whose distribute.kind is multi_worker.
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

from shared.distribute import DistributeParams, is_chief, worker_results_root

TWO = ["127.0.0.1:1", "127.0.0.1:2"]


@pytest.fixture(autouse=True)
def private_dirs_in_tmp(monkeypatch, tmp_path):
    """Workers' private directories (tempfile.mkdtemp) go under the test's tmp_path."""
    import tempfile
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))


def _config(task_type, index=0, chief=False) -> str:
    cluster = {"worker": TWO, **({"chief": ["127.0.0.1:3"]} if chief else {})}
    return json.dumps({"cluster": cluster, "task": {"type": task_type, "index": index}})


@pytest.mark.parametrize("config, expected", [
    (_config("worker", 0), True),                  # no chief in the cluster: worker 0 is the chief
    (_config("worker", 1), False),
    (_config("chief", 0, chief=True), True),
    (_config("worker", 0, chief=True), False),    # a chief exists: worker 0 is a plain worker
    (_config("evaluator", 0), False),
    (_config("ps", 0), False),
    (json.dumps({"cluster": {}, "task": {}}), True),     # no cluster: one process
    ("", True),
])
def test_is_chief_reads_tf_config(monkeypatch, config, expected):
    assert is_chief(config) is expected
    monkeypatch.setenv("TF_CONFIG", config)
    assert is_chief() is expected


def test_without_tf_config_the_process_is_the_chief(monkeypatch):
    monkeypatch.delenv("TF_CONFIG", raising=False)
    assert is_chief() is True


def test_bad_tf_config_is_a_clear_error():
    with pytest.raises(ValueError, match="TF_CONFIG is not valid JSON"):
        is_chief("{cluster")
    with pytest.raises(ValueError, match="no task type"):
        is_chief(json.dumps({"cluster": {"worker": TWO}}))


def _store(root: Path) -> Path:
    entry = root / "paperX" / "_store" / "abc"
    entry.mkdir(parents=True)
    (entry / "outputs.npz").write_text("stored")
    return root


def test_worker_results_root_routes_only_non_chief_multi_worker(monkeypatch, tmp_path):
    root = _store(tmp_path / "results")
    lines = []
    monkeypatch.setenv("TF_CONFIG", _config("worker", 0))
    assert worker_results_root(root, "multi_worker", log=lines.append) == root
    monkeypatch.setenv("TF_CONFIG", _config("worker", 1))
    assert worker_results_root(root, "mirrored", log=lines.append) == root
    assert lines == []
    private = worker_results_root(root, "multi_worker", copy=("paperX/_store", "missing"), log=lines.append)
    assert private != root and private.is_dir() and not private.is_relative_to(root)
    assert private.name.startswith("kit-worker1-")
    assert (private / "paperX" / "_store" / "abc" / "outputs.npz").read_text() == "stored"
    assert len(lines) == 1 and str(private) in lines[0] and "not the chief" in lines[0]


def test_paper1_runner_routes_a_non_chief_worker(monkeypatch, tmp_path):
    from paper1_ts import commands, run
    from paper1_ts.params import resolve_params
    from paper1_ts.tables import STORE_DIR

    root = tmp_path / "results"
    (root / STORE_DIR).mkdir(parents=True)
    params = replace(resolve_params("demo"), results_root=str(root),
                     distribute=DistributeParams(kind="multi_worker"))
    monkeypatch.setattr(commands, "params_from_args", lambda args, extra=None: params)
    args = run.build_parser().parse_args(["--table", "6", "--preset", "demo"])
    monkeypatch.setenv("TF_CONFIG", _config("worker", 0))
    run.route_worker_outputs(args)
    assert args.results is None                                  # the chief: the configured root
    monkeypatch.setenv("TF_CONFIG", _config("worker", 1))
    run.route_worker_outputs(args)
    assert args.results is not None and Path(args.results) != root
    assert (Path(args.results) / STORE_DIR).is_dir()             # plans from a copy of the store


def test_paper2_runner_routes_a_non_chief_worker(monkeypatch, tmp_path):
    from paper2_multirep import run
    from paper2_multirep.tables import resolve_params

    root = tmp_path / "results"
    params = replace(resolve_params("demo"), results_root=str(root),
                     distribute=DistributeParams(kind="multi_worker"))
    args = run.build_parser().parse_args(["--dataset", "esc10", "--out", str(tmp_path / "tab")])
    monkeypatch.setenv("TF_CONFIG", _config("chief", 0, chief=True))
    run.route_worker_outputs(args, params)
    assert args.results is None and args.out == str(tmp_path / "tab")
    monkeypatch.setenv("TF_CONFIG", _config("worker", 0, chief=True))
    run.route_worker_outputs(args, params)
    assert Path(args.results) != root and Path(args.out).is_relative_to(Path(args.results))
