"""The demo check's band: how far a run may sit from the demo reference by chance.

A demo reference is recorded over several seeds (>= 5) on one machine. Another machine
(another CPU, another vector instruction set, another thread count) picks other kernels,
sums floats in another order, and a small-data training run then drifts as far as a run
with another seed does. So the check treats a run, whatever its seeds, as a fresh draw
from the reference's seed distribution (register check-demo-band):

  s     = max(s_cell, s_pool)        seed std of the reference cell, never below the
                                     table's pooled seed std (all cells of a table share
                                     the evaluation split, so their seed noise is alike)
  se    = s * sqrt(1/n + 1/n_ref)    std of (run mean - reference mean); n = the run's seeds
  k     = t quantile (1 - alpha, df = pooled degrees of freedom), alpha = 0.001 one-sided
  half  = max(abs_tol, k * se)
  verdict: "regressed" if run mean < reference mean - half, "better" if > + half,
  "within" otherwise.

With alpha = 0.001 per cell, a 26-cell main job raises a false alarm about once in 40
runs on an unchanged kit; what a band this wide still catches at one seed (labels
shuffled, a branch that no longer learns) is tested in tests/replication/test_band.py.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Iterable, Mapping

ALPHA = 0.001          # one-sided false-alarm probability per cell (register check-demo-band)
MIN_SEEDS = 5          # a reference recorded over fewer seeds cannot know its spread


@dataclass(frozen=True)
class Pooled:
    """The pooled seed std of a reference table's cells for one metric."""
    sd: float
    df: int            # sum over cells of (n - 1)


@dataclass(frozen=True)
class Band:
    """The demo band of one cell; numbers in percent."""
    reference: float   # reference mean over its seeds
    sd: float          # seed std used (max of the cell's and the pooled one)
    n_ref: int
    n_run: int
    df: int
    k: float           # t quantile
    half: float        # half width, >= abs_tol

    def verdict(self, mean: float, eps: float = 1e-9) -> str:
        if mean < self.reference - self.half - eps:
            return "regressed"
        if mean > self.reference + self.half + eps:
            return "better"
        return "within"

    def describe(self) -> str:
        return (f"band ±{self.half:.2f} = max(abs_tol, t{self.df}={self.k:.2f} x sd {self.sd:.2f} "
                f"x sqrt(1/{self.n_run} + 1/{self.n_ref}))")


def pooled_sd(cells: Iterable[Mapping[str, Any]]) -> Pooled:
    """Pools the per-cell sample variances {"std", "n"} (cells with n < 2 carry no spread)."""
    num, df = 0.0, 0
    for stats in cells:
        n = int(stats.get("n") or 0)
        if n >= 2:
            num += (n - 1) * float(stats.get("std") or 0.0) ** 2
            df += n - 1
    return Pooled(math.sqrt(num / df) if df else 0.0, df)


def t_quantile(p: float, df: int) -> float:
    """Student's t quantile (scipy, installed with scikit-learn)."""
    from scipy.stats import t
    return float(t.ppf(p, df))


def demo_band(stats: Mapping[str, Any], pooled: Pooled, n_run: int, abs_tol: float,
              alpha: float = ALPHA) -> Band:
    """The band of one reference cell {"mean", "std", "n"} for a run of `n_run` seeds.

    A reference without spread (fewer than 2 seeds in every cell) gives the absolute
    tolerance alone (k = 0): such a reference should be re-recorded (MIN_SEEDS).
    """
    if n_run < 1:
        raise ValueError(f"a run has at least one seed, got n_run={n_run}")
    n_ref = max(1, int(stats.get("n") or 1))
    sd = max(float(stats.get("std") or 0.0), pooled.sd)
    k = t_quantile(1.0 - alpha, pooled.df) if pooled.df else 0.0
    half = max(abs_tol, k * sd * math.sqrt(1.0 / n_run + 1.0 / n_ref))
    return Band(float(stats["mean"]), sd, n_ref, n_run, pooled.df, k, half)
