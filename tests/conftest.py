"""Fixtures shared by every test module.

`esc10_root` is the real-audio fixture kept beside the checkout in
../shared/data/esc10 (400 ESC-10 clips). On a user's clone it is absent and the tests
that need it skip, saying why; under CI (CI=true) its absence is an error, because
CI must exercise real audio.

Fresh-process helpers (TensorFlow must sometimes start clean, and a resume test must
kill a real process): `run_script_json` runs a `python -c` script and returns the JSON
object it prints last; `script_runs` runs a test file as a script to completion, or
kills it with SIGKILL where it holds after a checkpoint (the kill -9 resume tests). Both
use the same child environment (`_child_env`).

No verdict here depends on the machine's speed or load: a child is waited for, never
timed; HANG_GUARD_S only ends a child that hangs.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[1]
ESC10 = REPO.parent / "shared" / "data" / "esc10"

HANG_GUARD_S = 30 * 60      # a child still running after this is hung: far above any child's
                            # time on a busy 2-core machine, so it never judges speed

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


@pytest.fixture(scope="session")
def esc10_root() -> Path:
    if not (ESC10 / "meta" / "esc50.csv").exists():
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"CI must run the real-audio tests, but {ESC10} is missing")
        pytest.skip(f"real-audio fixture not found at {ESC10} "
                    "(it sits beside the checkout in the kit's development set-up)")
    return ESC10


def _child_env(log_level: str) -> dict[str, str]:
    """Environment of a fresh test child: the repo importable, CPU only, TF logs at `log_level`."""
    path = os.pathsep.join(p for p in (str(REPO), os.environ.get("PYTHONPATH", "")) if p)
    return dict(os.environ, PYTHONPATH=path, TF_CPP_MIN_LOG_LEVEL=log_level, CUDA_VISIBLE_DEVICES="")


def _run_guarded(cmd: list[str], log_level: str) -> subprocess.CompletedProcess:
    """Runs `cmd` from the repo root (output captured) in the child environment; fails the
    test, naming the command, if it is still running after HANG_GUARD_S (a hang)."""
    try:
        return subprocess.run(cmd, cwd=REPO, env=_child_env(log_level), capture_output=True,
                              text=True, timeout=HANG_GUARD_S)
    except subprocess.TimeoutExpired:
        name = "a python -c script" if cmd[1] == "-c" else cmd[1]
        pytest.fail(f"hung: {name} still running after {HANG_GUARD_S} s")


def _run_script_json(script: str, *args: str) -> dict:
    """Runs `python -c script args...` from the repo root in a fresh process.

    Used where TensorFlow must start clean (logical CPU devices are configured before
    TF initialises, which this pytest process may already have done). Returns the
    JSON object the script prints on its last line; fails with the child's stderr.
    """
    out = _run_guarded([sys.executable, "-c", script, *args], "3")
    assert out.returncode == 0, out.stderr[-3000:]
    return json.loads(out.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="session")
def run_script_json():
    """`run_script_json(script, *args)` -> the script's last-line JSON."""
    return _run_script_json


def _await_file(path: Path, proc: subprocess.Popen, err, what: str) -> None:
    """Polls until `path` exists; fails with the child's stderr (`err`, a file) if the child
    ends first, or as hung if `what` has not happened after HANG_GUARD_S."""
    deadline = time.monotonic() + HANG_GUARD_S
    while not path.exists():
        if proc.poll() is not None:
            err.seek(0)
            pytest.fail(f"child ended before {what}: {err.read()[-2000:]}")
        if time.monotonic() > deadline:
            pytest.fail(f"hung: no {what} after {HANG_GUARD_S} s")
        time.sleep(0.05)


class ScriptRuns:
    """Runs a test file as a script (`python <file> args...`) in fresh processes.

    The resume tests' harness: `run` trains to completion; `kill9` starts the same
    command with a hold point (tests/kill_child.py) and kills it with SIGKILL where it
    holds; `load_npz` reads the outputs.
    """

    def _command(self, script: str | os.PathLike, args: tuple) -> list[str]:
        return [sys.executable, str(Path(script).resolve()), *map(str, args)]

    def run(self, script: str | os.PathLike, *args) -> None:
        """Runs to completion; fails with the child's stderr if it does not exit 0."""
        proc = _run_guarded(self._command(script, args), "2")
        assert proc.returncode == 0, proc.stderr[-3000:]

    def kill9(self, script: str | os.PathLike, *args, hold_after: Path, unfinished: Path,
              hold_batches: int = 1) -> None:
        """Starts the script and SIGKILLs it at the `hold_batches`-th batch it reads once
        `hold_after` (a checkpoint file) exists: the child holds there until killed.

        Nothing is timed, so the kill lands at that batch on a fast or a busy machine.
        Fails if the child ends before holding (with its stderr), if it is still running
        without holding after HANG_GUARD_S, if it did not die by SIGKILL, or if
        `unfinished` (its final output) exists after the kill.
        """
        with tempfile.TemporaryDirectory() as tmp, tempfile.TemporaryFile("w+") as err:
            held = Path(tmp) / "held"                    # written by the child as it holds
            hold = ("--hold-after", hold_after, "--hold-batches", hold_batches, "--held", held)
            proc = subprocess.Popen(self._command(script, (*args, *hold)), env=_child_env("2"),
                                    cwd=REPO, stdout=subprocess.DEVNULL, stderr=err, text=True)
            try:                                         # err: a file, not a pipe: never blocks
                _await_file(held, proc, err, f"the hold after {hold_after}")
                proc.send_signal(signal.SIGKILL)
                assert proc.wait(timeout=HANG_GUARD_S) == -signal.SIGKILL
            finally:
                if proc.poll() is None:
                    proc.kill()
                    proc.wait()
        assert not Path(unfinished).exists(), "the killed run must not have finished"

    @staticmethod
    def load_npz(path: str | os.PathLike) -> dict[str, np.ndarray]:
        with np.load(path) as z:
            return {k: z[k] for k in z.files}


@pytest.fixture(scope="session")
def script_runs() -> ScriptRuns:
    """A ScriptRuns (run / kill9 / load_npz); a child is failed only if it hangs."""
    return ScriptRuns()
