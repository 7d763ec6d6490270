"""Paper 2's negative control (CyclicParams.aggregate_signal = "permuted", register
p2-aggregate-signal): each clip is distilled toward ANOTHER clip's P_bar row."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest

from paper2_multirep.cyclic import CyclicDistiller
from paper2_multirep.experiments import table_by_number
from paper2_multirep.tables import plan_table, resolve_params

# a data root that never exists (not "/nonexistent": a process may create that on a shared host)
ABSENT = str(Path(__file__).resolve().parent / "no-such-data-root")

# Shared synthetic data helpers of test_cyclic.py (tests are not a package).
_spec = importlib.util.spec_from_file_location("p2_cyclic_helpers", Path(__file__).with_name("test_cyclic.py"))
_helpers = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_helpers)
N, C = _helpers.N, _helpers.C


def _distiller(signal: str, seed: int = 0):
    params = _helpers._params(cyclic={"aggregate_signal": signal}, optim={"epochs": 1})
    labels = _helpers._labels()
    models, data, _ = _helpers._group(params, labels)
    return CyclicDistiller(models, data, N, C, params, seed=seed, log=lambda s: None)


def test_permuted_aggregate_rows_belong_to_other_clips():
    distiller = _distiller("permuted")
    order = distiller.signal_order
    assert np.all(order != np.arange(N)) and sorted(order.tolist()) == list(range(N))
    table = distiller.fuse()                                           # [N, C]
    own = np.mean(distiller.last_soft_labels, axis=0)                  # [N, C] true P_bar
    np.testing.assert_allclose(table, own[order], atol=1e-7)
    np.testing.assert_allclose(distiller.aggregate.numpy(), own[order], atol=1e-7)
    # what a train step gathers by clip index is another clip's row, for every clip
    gathered = distiller.aggregate.numpy()[np.arange(N)]
    assert all(not np.allclose(gathered[n], own[n], atol=1e-6) for n in range(N))
    # the permutation is fixed by the run's seed
    np.testing.assert_array_equal(_distiller("permuted").signal_order, order)
    assert _distiller("matched").signal_order is None


def test_permuted_run_distils_and_keeps_the_aggregate_fixed():
    distiller = _distiller("permuted")
    assert not distiller.aggregate.trainable
    history = distiller.run()
    assert all(r["kl"] > 0.0 for r in history if r["phase"] == "distill")
    # the distillation passes read the table but never write it
    own = np.mean(distiller.last_soft_labels, axis=0)
    np.testing.assert_allclose(distiller.aggregate.numpy(), own[distiller.signal_order], atol=1e-7)


def test_permuted_cyclic_jobs_never_share_store_keys_and_baselines_always_do():
    """A control run retrains exactly the distilled branches: the independent baselines never
    read P_bar, so their keys (and trained models) are those of the matched run."""
    table = table_by_number("VII")
    keys = {}
    for signal in ("matched", "permuted"):
        params = resolve_params("demo", {"training_overrides": {"cyclic": {"aggregate_signal": signal}}})
        plan = plan_table(table, params, seeds=1, data_root=ABSENT, require_data=False)
        keys[signal] = {(j.kind, tuple(b.key for b in j.branches)): j.key for j in plan.jobs}
        kinds = {j.kind for j in plan.jobs}
        assert kinds == {"independent", "cyclic"}
    assert keys["matched"].keys() == keys["permuted"].keys()
    for job, key in keys["matched"].items():
        assert (keys["permuted"][job] == key) == (job[0] == "independent"), job


def test_unknown_signal_is_refused():
    with pytest.raises(ValueError, match="aggregate_signal"):
        _helpers._params(cyclic={"aggregate_signal": "shuffled"})
