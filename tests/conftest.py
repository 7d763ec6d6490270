"""Fixtures shared by every test module.

`esc10_root` is the real-audio fixture kept beside the checkout in
../shared/data/esc10 (400 ESC-10 clips). On a user's clone it is absent and the tests
that need it skip, saying why; under CI (CI=true) its absence is an error, because
CI must exercise real audio.
"""

from __future__ import annotations

import os
from pathlib import Path

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


def _run_script_json(script: str, *args: str, timeout: float = 300) -> dict:
    """Runs `python -c script args...` from the repo root in a fresh process.

    Used where TensorFlow must start clean (logical CPU devices are configured before
    TF initialises, which this pytest process may already have done). Returns the
    JSON object the script prints on its last line; fails with the child's stderr.
    """
    import json
    import subprocess
    import sys

    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", CUDA_VISIBLE_DEVICES="")
    out = subprocess.run([sys.executable, "-c", script, *args], cwd=REPO, env=env,
                         capture_output=True, text=True, timeout=timeout)
    assert out.returncode == 0, out.stderr[-3000:]
    return json.loads(out.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="session")
def run_script_json():
    """`run_script_json(script, *args, timeout=...)` -> the script's last-line JSON."""
    return _run_script_json
