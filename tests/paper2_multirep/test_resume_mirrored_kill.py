"""kill -9 + rerun of paper 2's cyclic distillation under MirroredStrategy on 2 logical CPU
replicas is bit-identical to an uninterrupted run under the same strategy.

The child is tests/paper2_multirep/test_resume_kill.py run with `--strategy mirrored2`
(harness: the `script_runs` fixture); tolerances as there (register
shared-resume-tolerance). Found before the fix: the run resumed after ckpt-5 differed in
every weight, P_bar, P_i and output. Cause: Keras 3.15 keeps one copy of BatchNorm's
moving statistics per replica (each updated with its own replica's batch), a checkpoint
saves replica 0's copy, and the fusion's predict uses each replica's own copy, so a
fusion run after a restore differs. The distiller now averages the copies after every
pass (shared.distribute.sync_replica_copies).
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np

CHILD = Path(__file__).with_name("test_resume_kill.py")
_spec = importlib.util.spec_from_file_location("p2_resume_child", CHILD)
_child = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_child)


def _args(ckpt: Path, out: Path) -> list[str]:
    return ["--ckpt", str(ckpt), "--out", str(out), "--strategy", "mirrored2"]


def test_kill9_in_cycle_2_under_mirrored_two_replicas_then_rerun_is_bit_identical(tmp_path, script_runs):
    script_runs.run(CHILD, *_args(tmp_path / "ckpt_ref", tmp_path / "ref.npz"))
    ref = script_runs.load_npz(tmp_path / "ref.npz")
    ckpt, out = tmp_path / "ckpt", tmp_path / "kill.npz"
    script_runs.kill9(CHILD, *_args(ckpt, out), hold_after=ckpt / "ckpt-5.index", hold_batches=3,
                      unfinished=out)                   # in the distillation of cycle 2
    assert _child._latest(ckpt) == 5, "the kill must land in cycle 2"
    script_runs.run(CHILD, *_args(ckpt, out))     # resumes; cycle 3's fusion runs after the restore
    got = script_runs.load_npz(out)
    assert sorted(got) == sorted(ref)
    assert got["history"].shape == ref["history"].shape      # rows before the kill kept too
    tail = ref["history"]
    exact = [c for c in range(tail.shape[1]) if c != _child.LOSS_COLUMN]
    np.testing.assert_array_equal(got["history"][:, exact], tail[:, exact], err_msg="history")
    np.testing.assert_allclose(got["history"][:, _child.LOSS_COLUMN], tail[:, _child.LOSS_COLUMN],
                               rtol=_child.LOSS_RTOL, atol=0)
    for key in ref:
        if key != "history":
            np.testing.assert_array_equal(got[key], ref[key], err_msg=key)
