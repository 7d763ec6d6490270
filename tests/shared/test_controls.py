"""Tests for shared/controls.py: the permutations behind the negative controls."""

import numpy as np
import pytest

from shared import controls


@pytest.mark.parametrize("n", [2, 3, 7, 500])
def test_derangement_moves_every_clip_and_is_fixed_by_its_seed(n):
    order = controls.derangement(n, seed=4)
    assert sorted(order.tolist()) == list(range(n))          # a permutation
    assert np.all(order != np.arange(n))                     # no clip keeps its own row
    np.testing.assert_array_equal(order, controls.derangement(n, seed=4))
    if n > 3:
        assert not np.array_equal(order, controls.derangement(n, seed=5))


def test_derangement_needs_two_items():
    with pytest.raises(ValueError, match="at least 2"):
        controls.derangement(1, seed=0)


def test_shift_batch_gives_each_row_its_predecessor():
    x = np.arange(12, dtype="float32").reshape(4, 3)         # [B=4, 3]
    got = np.asarray(controls.shift_batch(x))
    np.testing.assert_array_equal(got, x[[3, 0, 1, 2]])


def test_unknown_signal_names_its_owner():
    with pytest.raises(ValueError, match="TSParams.teacher_signal 'shuffled'"):
        controls.check_signal("TSParams.teacher_signal", "shuffled")
