"""Has a model's training loss levelled off? A pure function of its per-epoch mean loss.

The kit's rule (issue 12): an arm trained only part of the way to where its loss stops
falling is a point on a rising curve, so the difference between two such arms mixes the
method with how far each arm got; read a claim only when both arms levelled off.

    result = levelled_off([2.2, 1.7, 1.5, 1.45, 1.44, 1.44, 1.43, 1.43])
    result.levelled, result.relative_drop, result.fall_share   # True, 0.0069, 0.013

Definition, over the E epochs of the last training step (the caller picks the series,
replication/claims_curves.py): the window is the last quarter of training, at least
MIN_WINDOW epochs, w = max(MIN_WINDOW, ceil(E / 4)) epoch-to-epoch steps;

    relative_drop = (loss[E - 1 - w] - loss[E - 1]) / |loss[E - 1 - w]|
    fall_share    = (loss[E - 1 - w] - loss[E - 1]) / (loss[0] - loss[E - 1])

and the loss has levelled off when relative_drop < THRESHOLD or fall_share < THRESHOLD:
over the last quarter it fell by less than a twentieth of its own value, or by less than a
twentieth of all it fell in the run. The first test alone fails a cross-entropy heading to
zero (0.04 -> 0.02 halves the loss though the model gains nothing more; measured on the
demo's one-hot arms, issue 12), the second alone passes a loss with a large first-epoch
drop and a long slow tail; a curve must fail both to count as still falling.
fall_share is None when the series does not start at the first epoch (a tail) or the loss
did not fall over the run (loss[0] <= loss[E - 1]); then relative_drop decides alone.
A loss that rises over the window (negative drop) has levelled off too (it no longer
improves). A series of fewer than w + 1 epochs cannot show a window: levelled is False,
relative_drop None ("too short": such an arm is not shown to have converged). A series
that holds only the last rows of a longer run (`total_epochs` > len(losses)) is read when
the window fits in it.

Nothing here imports a paper package or numpy.
"""

from __future__ import annotations

import math
from typing import NamedTuple, Sequence

# The window spans the last quarter of training: late enough that a schedule's warm phase
# is over, long enough to see a trend through epoch-to-epoch noise.
WINDOW_FRACTION = 0.25
# At least two epoch-to-epoch steps: one step alone cannot tell a trend from noise.
MIN_WINDOW = 2
# Still falling by 5 % or more of its value, and 5 % or more of its whole fall, over the
# last quarter = undertrained (register both-levelled-off). A choice of this kit,
# stated in neither paper: loose enough that the noise of a flat mixup / random-crop
# training loss does not trip it, tight enough that a loss that would still gain a
# twentieth of its value from the same extra budget does not count as converged. Note that
# a cosine schedule ending near lr 0 flattens any loss in its last quarter: there the test
# says the schedule ended, which is what the budget allows, not that more epochs would not help.
THRESHOLD = 0.05


class Levelling(NamedTuple):
    """Verdict on one model's loss curve."""
    levelled: bool                     # True: relative_drop or fall_share below THRESHOLD
    relative_drop: float | None        # over the window (fraction; negative = rose); None: too short
    epochs: int                        # epochs of the series (its full length when total_epochs given)
    fall_share: float | None = None    # the window's part of the run's whole fall; None: a tail, or no fall

    @property
    def fall(self) -> float | None:
        """The smaller of relative_drop and fall_share (levelled iff below THRESHOLD); None: too short."""
        known = [v for v in (self.relative_drop, self.fall_share) if v is not None]
        return min(known) if known else None


def window_of(epochs: int) -> int:
    """Epoch-to-epoch steps of the window for a series of `epochs` epochs."""
    return max(MIN_WINDOW, math.ceil(WINDOW_FRACTION * epochs))


def levelled_off(losses: Sequence[float], threshold: float = THRESHOLD,
                 total_epochs: int | None = None) -> Levelling:
    """Levelled-off verdict of a per-epoch mean training loss series.

    Args:
      losses: per-epoch mean training loss, oldest first (the last `len(losses)` epochs of
        the run when total_epochs is given).
      threshold: the relative drop below which the loss counts as levelled off.
      total_epochs: epochs of the whole run when `losses` holds only its tail.

    Raises:
      ValueError: a non-finite loss, or total_epochs below len(losses).
    """
    values = [float(v) for v in losses]
    if not all(math.isfinite(v) for v in values):
        raise ValueError(f"non-finite training loss in {values}")
    epochs = len(values) if total_epochs is None else int(total_epochs)
    if epochs < len(values):
        raise ValueError(f"total_epochs {epochs} < {len(values)} losses given")
    w = window_of(epochs)
    if epochs < w + 1 or len(values) < w + 1:
        return Levelling(False, None, epochs)
    start, end = values[-1 - w], values[-1]
    drop = (start - end) / abs(start) if start else 0.0          # a zero loss cannot fall
    whole = values[0] - end if len(values) == epochs else 0.0     # a tail does not hold loss[0]
    share = (start - end) / whole if whole > 0 else None
    return Levelling(drop < threshold or (share is not None and share < threshold), drop, epochs, share)


class ArmLevelling(NamedTuple):
    """The verdicts of every model behind one arm of a claim, over the paired units."""
    arm: str                           # the arm's label
    models: int                        # model curves looked at (seeds x models per run)
    not_levelled: int                  # of them: still falling, or too short to tell
    unknown: int                       # of them: no readable curve (record or store entry lacks it)
    worst_fall: float | None           # largest `fall` of its models (None: none measured)
    min_epochs: int | None             # shortest series among the measured curves

    @property
    def levelled(self) -> bool | None:
        """True: every curve levelled off; False: at least one did not; None: unknown."""
        if self.not_levelled:
            return False
        if self.unknown or not self.models:
            return None
        return True

    def to_dict(self) -> dict:
        return {**self._asdict(), "levelled": self.levelled}


def combine(arm: str, curves: Sequence[Levelling | None]) -> ArmLevelling:
    """One arm's summary from its models' verdicts (None = no readable curve)."""
    known = [c for c in curves if c is not None]
    falls = [c.fall for c in known if c.fall is not None]
    return ArmLevelling(arm=arm, models=len(curves), not_levelled=sum(not c.levelled for c in known),
                        unknown=len(curves) - len(known), worst_fall=max(falls) if falls else None,
                        min_epochs=min((c.epochs for c in known), default=None))


__all__ = ["ArmLevelling", "Levelling", "MIN_WINDOW", "THRESHOLD", "WINDOW_FRACTION", "combine", "levelled_off",
           "window_of"]
