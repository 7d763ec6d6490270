"""kill -9 + rerun of paper 1's two-step CNN-GRU training under MirroredStrategy on 2
logical CPU replicas is bit-identical to an uninterrupted run under the same strategy.

The child is tests/paper1_ts/test_resume.py run with `--strategy mirrored2` (harness:
the `script_runs` fixture). Before the pass streams (shared/passes.py) a kill in step 2
resumed on shifted passes (70 of 72 arrays differed), see test_resume_strategy.py.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

RESUME_SCRIPT = Path(__file__).with_name("test_resume.py")


def _args(data: Path, ckpt: Path, out: Path) -> list[str]:
    return ["--data", str(data), "--ckpt", str(ckpt), "--out", str(out), "--strategy", "mirrored2"]


@pytest.fixture(scope="module")
def mirrored_reference(tmp_path_factory, script_runs):
    root = tmp_path_factory.mktemp("resume_mirrored")
    script_runs.run(RESUME_SCRIPT, *_args(root / "data", root / "ckpt_ref", root / "ref.npz"))
    return root, script_runs.load_npz(root / "ref.npz")


@pytest.mark.parametrize("step", ["step2", pytest.param("step1", marks=pytest.mark.slow)])
def test_kill9_under_mirrored_two_replicas_then_rerun_is_bit_identical(mirrored_reference, script_runs,
                                                                       step):
    root, ref = mirrored_reference
    ckpt, out = root / f"ckpt_{step}", root / f"{step}.npz"
    marker = ckpt / step / "ckpt-1.index"
    script_runs.kill9(RESUME_SCRIPT, *_args(root / "data", ckpt, out), hold_after=marker,
                      unfinished=out)                    # after the step's 2nd epoch's first batch
    assert not (ckpt / step / "ckpt-2.index").exists(), "the kill must land in the step's 2nd epoch"
    script_runs.run(RESUME_SCRIPT, *_args(root / "data", ckpt, out))
    got = script_runs.load_npz(out)
    assert sorted(got) == sorted(ref)
    for key in ref:
        np.testing.assert_array_equal(got[key], ref[key], err_msg=key)
