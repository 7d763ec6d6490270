"""Mid-run resume of paper 2 cyclic distillation: kill -9 during cycle 2, rerun, same result.

The child process (this file run as a script) trains a tiny 2-branch CyclicDistiller
(Algorithm 1, small_cnn branches) on synthetic two-representation data drawn from a
fixed seed, with op determinism on, for 3 cycles, checkpointing after every phase.
It saves the final aggregate soft labels P_bar, each branch's last soft labels P_i,
audio-level evaluation probabilities and metrics (accuracy, MAP@3 per branch and of the
ensemble), all weights and its training history (after a resume, the whole history: the
rows before the kill are kept beside the checkpoint). The parent kills it with SIGKILL
inside cycle 2 (at the 3rd batch read after a chosen checkpoint, where the child holds:
tests/kill_child.py), runs the same command again, and compares with an uninterrupted
run of the same seed (the `script_runs` fixture of tests/conftest.py starts, kills and
reruns the child).
Tolerance: bit-identical for every array (weights, P_bar, P_i, evaluation probabilities,
accuracy and MAP@3, learning rates, ce and kl of every pass), except the logged total loss
of a pass: rtol 1e-6 (see LOSS_COLUMN).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import numpy as np
import pytest

N, N_TEST, C, F, K = 48, 24, 4, 16, 8          # train clips, test clips, classes, frames, bins
CYCLES = 3
PHASES = ("single", "fusion", "distill")
# History columns: cycle, phase, branch, pass, lr, loss, ce, kl. The logged per-pass mean of
# the TOTAL loss (ce + T^2 kl) of distillation passes is not bit-reproducible even between
# two uninterrupted runs in fresh processes (1 ulp, 6e-8, measured) while its parts ce and
# kl, all weights, P_bar and every output are; so that one column gets rtol 1e-6
# (register shared-resume-tolerance).
LOSS_COLUMN, LOSS_RTOL = 5, 1e-6
# --strategy of the child: shared.distribute.DistributeParams fields

# ----------------------------------------------------------------- child process
def _features(labels: np.ndarray, shift: float, seed: int) -> np.ndarray:
    """Separable synthetic representation: class c lifts bins 2c, 2c+1 -> [n, F, K, 3]."""
    x = np.random.default_rng(seed).normal(size=(len(labels), F, K, 3)).astype("float32")
    for i, label in enumerate(labels):
        x[i, :, 2 * label:2 * label + 2, :] += 1.0 + shift
    return x


def _dataset(x, labels, batch=8, order_seed=None, hold=None):
    """Batched dicts x/y/index; order_seed (the pass index) fixes the order; `hold` (the kill
    point, tests/kill_child.py) is called as each batch is read."""
    import tensorflow as tf

    order = np.arange(len(x))
    if order_seed is not None:
        order = np.random.default_rng(order_seed).permutation(len(x))
    ds = tf.data.Dataset.from_tensor_slices(
        {"x": x[order], "y": np.eye(C, dtype="float32")[labels[order]],
         "index": order.astype("int32")}).batch(batch)
    if hold is not None:                            # values pass through unchanged
        def held(d):
            check = tf.py_function(lambda: hold() or 0.0, [], tf.float32)
            with tf.control_dependencies([check]):
                return {k: tf.identity(v) for k, v in d.items()}
        ds = ds.map(held)
    return ds


def child(argv: list[str]) -> int:
    from tests.kill_child import batch_hold, start_child

    args, strategy = start_child(argv)
    hold = batch_hold(args)

    from paper2_multirep.branches import build_branch
    from paper2_multirep.cyclic import BranchData, CyclicDistiller
    from paper2_multirep.params import TrainParams
    from shared import metrics
    from shared.config import override

    params = override(TrainParams(), {
        "branch": {"arch": "small_cnn", "weights": "none", "small_filters": [8, 16]},
        "optim": {"learning_rate": 0.05, "epochs": CYCLES, "batch_size": 8},
        "mixup": {"enabled": True, "alpha": 0.2}}, "test_resume_kill")
    rng = np.random.default_rng(3)
    labels, test_labels = rng.integers(0, C, N), rng.integers(0, C, N_TEST)
    train_x = [_features(labels, 0.0, 1), _features(labels, 0.5, 2)]
    test_x = [_features(test_labels, 0.0, 11), _features(test_labels, 0.5, 12)]
    with strategy.scope():
        models = [build_branch(params.branch, (F, K, 3), C, name=f"b{i}", quiet=True).model
                  for i in range(2)]
    data = [BranchData(train=lambda p, x=x: _dataset(x, labels, order_seed=p, hold=hold),
                       soft=_dataset(x, labels, hold=hold), name=f"rep{i}")
            for i, x in enumerate(train_x)]
    distiller = CyclicDistiller(models, data, N, C, params, seed=5, log=lambda s: None, strategy=strategy)
    history = distiller.run(str(args.ckpt))

    outs = distiller.evaluate([_dataset(x, test_labels) for x in test_x], N_TEST)
    probs = [o.probs for o in outs] + [metrics.ensemble([o.probs for o in outs])]
    scores = np.array([[metrics.accuracy(p, test_labels), metrics.map_at_3(p, test_labels)]
                       for p in probs])                              # [branches + ensemble, 2]
    rows = np.array([[r["cycle"], PHASES.index(r["phase"]) if r["phase"] in PHASES else -1,
                      r["branch"], r["pass"], r["lr"], r["loss"], r["ce"], r["kl"]]
                     for r in history], dtype=np.float64)            # [passes, 8]
    arrays = {"aggregate": distiller.aggregate.numpy(), "scores": scores, "history": rows,
              **{f"probs{i}": p for i, p in enumerate(probs)},
              **{f"soft{i}": p for i, p in enumerate(distiller.last_soft_labels)}}
    for b, m in enumerate(models):
        arrays.update({f"w{b}_{i}": np.asarray(w) for i, w in enumerate(m.get_weights())})
    tmp = args.out.with_name(args.out.name + ".tmp.npz")
    np.savez(tmp, **arrays)
    os.replace(tmp, args.out)
    return 0


# ----------------------------------------------------------------- parent (tests)
def _args(ckpt: Path, out: Path) -> list[str]:
    return ["--ckpt", str(ckpt), "--out", str(out)]


def _latest(ckpt: Path) -> int:
    """Number of the newest checkpoint file in `ckpt` (0 = none yet)."""
    found = [int(p.name[len("ckpt-"):-len(".index")]) for p in ckpt.glob("ckpt-*.index")]
    return max(found, default=0)


@pytest.fixture(scope="module")
def reference(tmp_path_factory, script_runs):
    root = tmp_path_factory.mktemp("resume_p2")
    script_runs.run(__file__, *_args(root / "ckpt_ref", root / "ref.npz"))
    return root, script_runs.load_npz(root / "ref.npz")


# Checkpoints are written after every phase: ckpt-(3q+1) single, -(3q+2) fusion,
# -(3q+3) distillation of cycle q (0-based). Cycle 2 is q = 1: ckpt-4 and ckpt-5. The
# child holds at the 3rd batch it reads after the checkpoint: fusion reads the soft-label
# crops, distillation the training batches (6 per pass here).
@pytest.mark.parametrize("after_ckpt, phase_killed", [
    (5, "distillation of cycle 2"),
    pytest.param(4, "fusion of cycle 2", marks=pytest.mark.slow)])
def test_kill9_in_cycle_2_then_rerun_gives_the_uninterrupted_result(reference, script_runs, after_ckpt,
                                                                     phase_killed):
    root, ref = reference
    ckpt, out = root / f"ckpt_{after_ckpt}", root / f"kill_{after_ckpt}.npz"
    script_runs.kill9(__file__, *_args(ckpt, out), hold_after=ckpt / f"ckpt-{after_ckpt}.index",
                      hold_batches=3, unfinished=out)   # a few batches into the next phase
    killed_at = _latest(ckpt)
    assert killed_at == after_ckpt, f"kill landed after ckpt-{killed_at}, not in {phase_killed}"

    script_runs.run(__file__, *_args(ckpt, out))   # the same command again: resumes
    got = script_runs.load_npz(out)
    assert sorted(got) == sorted(ref)
    # the resumed run returns the whole history: the rows before the kill come from
    # history.json beside the checkpoint, the rest were trained again; all equal the reference's
    assert got["history"].shape == ref["history"].shape
    exact = [c for c in range(ref["history"].shape[1]) if c != LOSS_COLUMN]
    np.testing.assert_array_equal(got["history"][:, exact], ref["history"][:, exact], err_msg="history")
    np.testing.assert_allclose(got["history"][:, LOSS_COLUMN], ref["history"][:, LOSS_COLUMN],
                               rtol=LOSS_RTOL, atol=0)
    for key in ref:
        if key != "history":
            np.testing.assert_array_equal(got[key], ref[key], err_msg=key)


def test_reference_learned_and_distilled(reference):
    """The compared run is not degenerate: it learned, and P_bar is the mean of the P_i."""
    _, ref = reference
    assert ref["scores"][-1, 0] > 1.0 / C                        # ensemble beats chance
    np.testing.assert_allclose(ref["aggregate"], (ref["soft0"] + ref["soft1"]) / 2, atol=1e-6)
    assert len(ref["history"]) == CYCLES * 2 * 2                 # single + distill per branch per cycle


if __name__ == "__main__":
    sys.exit(child(sys.argv[1:]))
