"""The levelled-off rule (replication/convergence.py) on hand-made loss curves."""

from __future__ import annotations

import math

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
    # the whole fall is the window's fall here (fall_share 1): relative_drop decides
    just_below = [1.0, 1.0, 1.0 - THRESHOLD * 0.999]
    at = [1.0, 1.0, 1.0 - THRESHOLD]
    assert levelled_off(just_below).levelled and not levelled_off(at).levelled
    rising = levelled_off([1.0, 1.1, 1.2])
    assert rising.levelled and rising.relative_drop == pytest.approx(-0.2)


def test_too_short_to_tell_is_not_levelled():
    # the CNN-GRU's second step in the demo preset: 2 epochs, one epoch-to-epoch step
    result = levelled_off([2.108, 1.331])
    assert (result.levelled, result.relative_drop, result.epochs, result.fall) == (False, None, 2, None)
    assert levelled_off([]) == (False, None, 0, None)


def test_a_tail_is_read_when_the_window_fits():
    tail = [1.30, 1.29, 1.29]                      # last 3 of 8 epochs: window 2 fits
    assert levelled_off(tail, total_epochs=8).levelled
    # last 3 of 16 epochs: the window (4) reaches before the tail
    assert levelled_off(tail, total_epochs=16) == (False, None, 16, None)
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
    # bad: the window is the whole run, relative drop 0.4, share of its fall 1: fall = 0.4
    assert arm.levelled is False and arm.not_levelled == 2 and arm.worst_fall == pytest.approx(0.4)
    assert arm.min_epochs == 2
    assert combine("A", [good, None]).levelled is None          # a curve missing: unknown
    assert combine("A", [bad, None]).levelled is False          # but one falling curve decides
    assert combine("A", []).levelled is None


def test_a_cross_entropy_heading_to_zero_has_levelled_off():
    # a one-hot arm of the premises demo: the loss halves in the last quarter, but by a
    # hundredth of all it fell in the run
    losses = [2.30, 1.20, 0.60, 0.30, 0.15, 0.08, 0.05, 0.035, 0.03, 0.025, 0.02, 0.018]
    result = levelled_off(losses)                                # window 3: 0.03 -> 0.018
    assert result.relative_drop == pytest.approx(0.4)            # fails the relative test
    assert result.fall_share == pytest.approx(0.012 / 2.282)     # passes the share test
    assert result.levelled and result.fall == result.fall_share


def test_a_slow_tail_after_a_big_first_drop_is_still_falling():
    # fails both tests: 10 % of its value and 7 % of its whole fall in the last quarter
    losses = [2.30, 1.00, 0.96, 0.92, 0.88, 0.84, 0.80, 0.76, 0.72, 0.68, 0.64, 0.60, 0.56]
    result = levelled_off(losses)                                # window 4: 0.72 -> 0.56
    assert not result.levelled
    assert result.relative_drop == pytest.approx(0.16 / 0.72)
    assert result.fall_share == pytest.approx(0.16 / 1.74)


def test_the_share_test_needs_the_first_epoch_and_a_fall():
    tail = [0.030, 0.024, 0.018]                                 # last 3 of 8: no loss[0]
    result = levelled_off(tail, total_epochs=8)
    assert result.fall_share is None and not result.levelled     # relative drop 0.4 decides
    rose = levelled_off([0.5, 1.0, 0.95, 0.9])                   # ends above where it began
    assert rose.fall_share is None and rose.levelled is False    # relative 0.1 decides: not levelled


@pytest.mark.parametrize("time_constants, levelled", [(2.5, False), (4.0, True)])
def test_an_exponential_fall_to_zero_levels_off_at_about_four_percent_left(time_constants, levelled):
    # loss = exp(-t / tau) over 41 epochs spanning `time_constants` taus: the relative test
    # always fails (a quarter of the run divides the loss by e^(tau_count / 4)); the share
    # test passes once less than ~4 % of the whole fall is left (3.27 time constants)
    losses = [math.exp(-time_constants * t / 40) for t in range(41)]
    result = levelled_off(losses)
    assert result.relative_drop > THRESHOLD and result.levelled is levelled
