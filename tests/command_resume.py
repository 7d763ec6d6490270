"""Helpers of the command-level resume tests (tests/paper*/test_resume_command.py).

A table command runs as a subprocess of the repository's Python; `kill_when` polls the
file system and sends SIGKILL the moment a condition holds (a checkpoint of a job that
is not in the store yet); `same_results` compares two results roots: every run record's
metrics and every store entry's outputs.npz bit for bit.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Callable

import numpy as np

REPO = Path(__file__).resolve().parents[1]


def _env() -> dict:
    return {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", "PYTHONPATH": str(REPO)}


def run_command(args: list[str], log: Path, timeout: float = 600) -> str:
    """Runs `python <args>` in the repository to its end; returns its output (stdout +
    stderr). Fails the test on a non-zero exit other than 1 (1 = the checker found a
    regressed cell, which a tiny configuration may well give)."""
    with open(log, "w") as out:
        proc = subprocess.run([sys.executable, *args], cwd=REPO, env=_env(), stdout=out,
                              stderr=subprocess.STDOUT, timeout=timeout)
    text = log.read_text()
    assert proc.returncode in (0, 1), f"{' '.join(args)} exited {proc.returncode}:\n{text[-3000:]}"
    return text


def kill_when(args: list[str], log: Path, ready: Callable[[], object], timeout: float = 600,
              poll: float = 0.02):
    """Starts `python <args>`, sends SIGKILL as soon as `ready()` returns something true and
    returns that value. Fails the test when the command ends (or the timeout passes) first."""
    with open(log, "w") as out:
        proc = subprocess.Popen([sys.executable, *args], cwd=REPO, env=_env(), stdout=out,
                                stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout
        try:
            while True:
                found = ready()
                if found:
                    proc.send_signal(signal.SIGKILL)
                    proc.wait()
                    return found
                if proc.poll() is not None:
                    raise AssertionError(f"the command ended (exit {proc.returncode}) before the kill "
                                         f"point:\n{log.read_text()[-3000:]}")
                if time.monotonic() > deadline:
                    raise AssertionError(f"no kill point within {timeout} s:\n{log.read_text()[-3000:]}")
                time.sleep(poll)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()


def work_folders(store: Path) -> list[Path]:
    return sorted(store.glob(".work-*"))


def records(root: Path) -> dict[str, dict]:
    """relative path of the record folder -> results.json's metrics."""
    return {str(p.parent.relative_to(root)): json.loads(p.read_text())["metrics"]
            for p in sorted(root.rglob("results.json"))}


def store_entries(store: Path) -> dict[str, tuple[dict[str, np.ndarray], dict]]:
    """key -> (outputs.npz arrays, job.json payload) of every finished entry."""
    out = {}
    for job in sorted(store.glob("*/job.json")):
        with np.load(job.parent / "outputs.npz", allow_pickle=False) as data:
            arrays = {k: data[k] for k in data.files}
        out[job.parent.name] = (arrays, json.loads(job.read_text()))
    return out


def same_results(resumed: Path, reference: Path, store_dir: str) -> dict[str, tuple[dict, dict]]:
    """Asserts both results roots hold the same records (metrics equal) and the same store
    entries (every array of outputs.npz equal, bit for bit); returns the resumed entries."""
    got, want = records(resumed), records(reference)
    assert got and sorted(got) == sorted(want)
    for name in want:
        assert got[name] == want[name], f"{name}: metrics {got[name]} != {want[name]}"
    got_store, want_store = store_entries(resumed / store_dir), store_entries(reference / store_dir)
    assert got_store and sorted(got_store) == sorted(want_store)
    for key, (arrays, _) in want_store.items():
        mine = got_store[key][0]
        assert sorted(mine) == sorted(arrays), key
        for name, value in arrays.items():
            assert value.dtype == mine[name].dtype and np.array_equal(mine[name], value), \
                f"{key}: {name} differs after the resume"
    return got_store
