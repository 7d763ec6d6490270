"""Fixtures shared by every test module.

`esc10_root` is the real-audio fixture kept beside the checkout in
../shared/data/esc10 (400 ESC-10 clips). On a user's clone it is absent and the tests
that need it skip, saying why; under CI (CI=true) its absence is an error, because
CI must exercise real audio.

Fresh-process helpers (TensorFlow must sometimes start clean, and a resume test must
kill a real process): `run_script_json` runs a `python -c` script and returns the JSON
object it prints last; `script_runs` runs a test file as a script to completion, or
kills it with SIGKILL once a checkpoint exists (the kill -9 resume tests). Both use the
same child environment (`_child_env`).
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
from typing import Callable

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[1]
ESC10 = REPO.parent / "shared" / "data" / "esc10"

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


def _run_script_json(script: str, *args: str, timeout: float = 300) -> dict:
    """Runs `python -c script args...` from the repo root in a fresh process.

    Used where TensorFlow must start clean (logical CPU devices are configured before
    TF initialises, which this pytest process may already have done). Returns the
    JSON object the script prints on its last line; fails with the child's stderr.
    """
    out = subprocess.run([sys.executable, "-c", script, *args], cwd=REPO, env=_child_env("3"),
                         capture_output=True, text=True, timeout=timeout)
    assert out.returncode == 0, out.stderr[-3000:]
    return json.loads(out.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="session")
def run_script_json():
    """`run_script_json(script, *args, timeout=...)` -> the script's last-line JSON."""
    return _run_script_json


class ScriptRuns:
    """Runs a test file as a script (`python <file> args...`) in fresh processes.

    The resume tests' harness: `run` trains to completion; `kill9` starts the same
    command, waits until `when()` is true (a checkpoint file exists), lets it run
    `grace` seconds more and kills it with SIGKILL; `load_npz` reads the outputs.
    """

    def __init__(self, timeout: float = 240):
        self.timeout = timeout

    def _command(self, script: str | os.PathLike, args: tuple) -> list[str]:
        return [sys.executable, str(Path(script).resolve()), *map(str, args)]

    def run(self, script: str | os.PathLike, *args) -> None:
        """Runs to completion; fails with the child's stderr if it does not exit 0."""
        proc = subprocess.run(self._command(script, args), env=_child_env("2"), cwd=REPO,
                              capture_output=True, text=True, timeout=self.timeout)
        assert proc.returncode == 0, proc.stderr[-3000:]

    def kill9(self, script: str | os.PathLike, *args, when: Callable[[], bool], grace: float,
              what: str, unfinished: Path) -> None:
        """Starts the script, SIGKILLs it `grace` s after `when()` holds.

        Fails if the child ends before `when()` (with its stderr), if `when()` does not
        hold within the timeout (`what` names the awaited event), if the child did not
        die by SIGKILL, or if `unfinished` (its final output) exists after the kill.
        """
        with tempfile.TemporaryFile("w+") as err:        # a file, not a pipe: never blocks
            proc = subprocess.Popen(self._command(script, args), env=_child_env("2"), cwd=REPO,
                                    stdout=subprocess.DEVNULL, stderr=err, text=True)
            try:
                deadline = time.monotonic() + self.timeout
                while not when():
                    if proc.poll() is not None:
                        err.seek(0)
                        pytest.fail(f"child ended before {what}: {err.read()[-2000:]}")
                    assert time.monotonic() < deadline, f"no {what} within {self.timeout} s"
                    time.sleep(0.05)
                time.sleep(grace)
                proc.send_signal(signal.SIGKILL)
                assert proc.wait(timeout=30) == -signal.SIGKILL
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
    """A ScriptRuns (run / kill9 / load_npz) with a 240 s limit per child."""
    return ScriptRuns()
