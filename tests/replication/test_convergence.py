"""The levelled-off rule (replication/convergence.py) on hand-made loss curves."""

from __future__ import annotations

import pytest

from replication.convergence import THRESHOLD, combine, levelled_off, window_of


def test_a_flat_tail_has_levelled_off():
    losses = [2.2, 1.7, 1.5, 1.45, 1.44, 1.44, 1.43, 1.43]       # window = 2 steps: 1.44 -> 1.43
    result = levelled_off(losses)
    assert result.levelled and result.epochs == 8
    assert result.relative_drop == pytest.approx((1.44 - 1.43) / 1.44)


def test_a_loss_still_falling_has_not():
    # the raw CNN of the demo store: -7 % .. -9 % per epoch to the end
    losses = [2.1886, 1.7480, 1.5851, 1.4788, 1.3401, 1.2268]
    result = levelled_off(losses)
    assert not result.levelled
    assert result.relative_drop == pytest.approx((1.4788 - 1.2268) / 1.4788)


def test_the_window_is_the_last_quarter_and_at_least_two_epochs():
    assert [window_of(e) for e in (3, 8, 9, 16, 40)] == [2, 2, 3, 4, 10]
    # 40 epochs: a drop inside the last quarter counts, one just before it does not
    flat = [1.0] * 40
    early = [2.0] * 29 + flat[29:]                # falls between epoch 29 and 30: before the window
    late = [2.0] * 31 + flat[31:]                 # falls inside the last 10 steps
    assert levelled_off(early).levelled and not levelled_off(late).levelled


def test_the_threshold_is_a_strict_bound_and_a_rising_loss_has_levelled():
    just_below = [1.0, 1.0, 1.0 - THRESHOLD * 0.999]
    at = [1.0, 1.0, 1.0 - THRESHOLD]
    assert levelled_off(just_below).levelled and not levelled_off(at).levelled
    rising = levelled_off([1.0, 1.1, 1.2])
    assert rising.levelled and rising.relative_drop == pytest.approx(-0.2)


def test_too_short_to_tell_is_not_levelled():
    # the CNN-GRU's second step in the demo preset: 2 epochs, one epoch-to-epoch step
    result = levelled_off([2.108, 1.331])
    assert (result.levelled, result.relative_drop, result.epochs) == (False, None, 2)
    assert levelled_off([]) == (False, None, 0)


def test_a_tail_is_read_when_the_window_fits():
    tail = [1.30, 1.29, 1.29]                      # last 3 of 8 epochs: window 2 fits
    assert levelled_off(tail, total_epochs=8).levelled
    # last 3 of 16 epochs: the window (4) reaches before the tail
    assert levelled_off(tail, total_epochs=16) == (False, None, 16)
    with pytest.raises(ValueError, match="total_epochs 2 < 3"):
        levelled_off(tail, total_epochs=2)


def test_a_non_finite_loss_is_an_error():
    with pytest.raises(ValueError, match="non-finite"):
        levelled_off([1.0, float("nan"), 0.9])


def test_an_arm_combines_its_models():
    good, bad, short = levelled_off([1.0, 1.0, 1.0]), levelled_off([1.0, 0.8, 0.6]), levelled_off([1.0, 0.9])
    arm = combine("A", [good, good])
    assert arm.levelled is True and (arm.models, arm.not_levelled, arm.unknown) == (2, 0, 0)
    arm = combine("A", [good, bad, short])
    assert arm.levelled is False and arm.not_levelled == 2 and arm.worst_drop == pytest.approx(0.4)
    assert arm.min_epochs == 2
    assert combine("A", [good, None]).levelled is None          # a curve missing: unknown
    assert combine("A", [bad, None]).levelled is False          # but one falling curve decides
    assert combine("A", []).levelled is None
