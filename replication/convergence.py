"""Has a model's training loss levelled off? A pure function of its per-epoch mean loss.

The kit's rule (issue 12): an arm trained only part of the way to where its loss stops
falling is a point on a rising curve, so the difference between two such arms mixes the
method with how far each arm got; read a claim only when both arms levelled off.

    result = levelled_off([2.2, 1.7, 1.5, 1.45, 1.44, 1.44, 1.43, 1.43])
    result.levelled, result.relative_drop, result.epochs      # True, 0.0069, 8

Definition, over the E epochs of the last training step (the caller picks the series,
replication/claims_curves.py): the window is the last quarter of training, at least
MIN_WINDOW epochs, w = max(MIN_WINDOW, ceil(E / 4)) epoch-to-epoch steps;

    relative_drop = (loss[E - 1 - w] - loss[E - 1]) / |loss[E - 1 - w]|

and the loss has levelled off when relative_drop < THRESHOLD. A loss that rises over the
window (negative drop) has levelled off too (it no longer improves). A series of fewer
than w + 1 epochs cannot show a window: levelled is False, relative_drop None ("too
short": such an arm is not shown to have converged). A series that holds only the last
rows of a longer run (`total_epochs` > len(losses)) is read when the window fits in it.

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
# Still falling by 5 % or more over the last quarter = undertrained. A choice of this kit,
# stated in neither paper: loose enough that the noise of a flat mixup / random-crop
# training loss does not trip it, tight enough that a loss that would still gain a
# twentieth of its value from the same extra budget does not count as converged. Note that
# a cosine schedule ending near lr 0 flattens any loss in its last quarter: there the test
# says the schedule ended, which is what the budget allows, not that more epochs would not help.
THRESHOLD = 0.05


class Levelling(NamedTuple):
    """Verdict on one model's loss curve."""
    levelled: bool                     # True: the loss fell by less than THRESHOLD over the window
    relative_drop: float | None        # over the window (fraction; negative = rose); None: too short
    epochs: int                        # epochs of the series (its full length when total_epochs given)


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
    return Levelling(drop < threshold, drop, epochs)


class ArmLevelling(NamedTuple):
    """The verdicts of every model behind one arm of a claim, over the paired units."""
    arm: str                           # the arm's label
    models: int                        # model curves looked at (seeds x models per run)
    not_levelled: int                  # of them: still falling, or too short to tell
    unknown: int                       # of them: no readable curve (record or store entry lacks it)
    worst_drop: float | None           # largest relative drop over the window (None: none measured)
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
    drops = [c.relative_drop for c in known if c.relative_drop is not None]
    return ArmLevelling(arm=arm, models=len(curves), not_levelled=sum(not c.levelled for c in known),
                        unknown=len(curves) - len(known), worst_drop=max(drops) if drops else None,
                        min_epochs=min((c.epochs for c in known), default=None))


__all__ = ["ArmLevelling", "Levelling", "MIN_WINDOW", "THRESHOLD", "WINDOW_FRACTION", "combine", "levelled_off",
           "window_of"]
