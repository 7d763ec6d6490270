"""The cyclic loop writes every pass's row as TensorBoard scalars into its checkpoint folder."""

from __future__ import annotations

import pytest

from paper2_multirep.cyclic import CyclicDistiller
from shared.tensorboard import read_scalars
from tests.paper2_multirep.test_cyclic import C, N, _group, _labels, _params


def test_every_pass_is_a_scalar_of_its_branch(tmp_path):
    labels = _labels()
    params = _params(optim={"epochs": 1})
    models, data, _ = _group(params, labels)
    history = CyclicDistiller(models, data, N, C, params, seed=0, log=lambda s: None).run(
        str(tmp_path / "work"))
    got = read_scalars(tmp_path / "work" / "tensorboard")
    for b in range(2):
        rows = [r for r in history if r["branch"] == b]
        assert len(rows) == 2                                   # single + distill pass of cycle 0
        for name in ("loss", "ce", "kl", "lr"):
            assert got[f"branch_{b}/{name}"] == [(r["pass"], pytest.approx(r[name], rel=1e-6))
                                                 for r in rows]
    assert got["branch_0/kl"][1][1] > 0.0                       # the distillation pass has a KL term
