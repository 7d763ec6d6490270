"""replication.band: the demo check's band holds on an unchanged kit and catches a break.

The committed demo references are real: every recorded seed, left out of its reference,
must be judged "within" by the band the other seeds give (what another CPU's run looks
like to the check), and the same seed with its labels shuffled (chance accuracy) must be
"regressed".
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

from replication.band import ALPHA, MIN_SEEDS, Band, Pooled, demo_band, pooled_sd

REFERENCES = sorted((Path(__file__).resolve().parents[2] / "data" / "reference" / "demo").glob("*.json"))


def test_pooled_sd_by_hand():
    cells = [{"std": 2.0, "n": 5}, {"std": 4.0, "n": 3}, {"std": 9.0, "n": 1}]   # n=1 carries no spread
    pooled = pooled_sd(cells)
    assert pooled.df == 4 + 2
    assert pooled.sd == pytest.approx(math.sqrt((4 * 4.0 + 2 * 16.0) / 6))


def test_band_formula_and_floor():
    band = demo_band({"mean": 60.0, "std": 3.0, "n": 5}, Pooled(4.0, 40), n_run=1, abs_tol=1.5)
    assert band.sd == 4.0                                   # pooled std wins over a lucky cell
    from scipy.stats import t
    assert band.half == pytest.approx(t.ppf(1 - ALPHA, 40) * 4.0 * math.sqrt(1 + 1 / 5))
    assert band.verdict(60.0 - band.half + 0.01) == "within"
    assert band.verdict(60.0 - band.half - 0.01) == "regressed"
    assert band.verdict(60.0 + band.half + 0.01) == "better"
    flat = demo_band({"mean": 60.0, "std": 0.0, "n": 5}, Pooled(0.0, 0), n_run=2, abs_tol=1.5)
    assert flat.half == 1.5 and flat.k == 0.0               # no spread known: the tolerance alone
    more = demo_band({"mean": 60.0, "std": 3.0, "n": 5}, Pooled(4.0, 40), n_run=4, abs_tol=1.5)
    assert more.half < band.half                            # more seeds of the run, a narrower band


def _simulate(shift: float, trials: int, rng, cells: int = 10, sd: float = 4.0, n_ref: int = 5) -> float:
    """Fraction of one-seed runs flagged 'regressed' when the true mean moved by `shift`."""
    flagged = 0
    for _ in range(trials):
        ref = rng.normal(60.0, sd, (cells, n_ref))                          # [cells, seeds]
        stats = [{"mean": r.mean(), "std": r.std(ddof=1), "n": n_ref} for r in ref]
        pooled = pooled_sd(stats)
        run = rng.normal(60.0 + shift, sd)
        flagged += demo_band(stats[0], pooled, 1, 1.5).verdict(run) == "regressed"
    return flagged / trials


def test_false_alarms_are_rare_and_a_chance_level_model_is_caught():
    rng = np.random.default_rng(0)
    assert _simulate(0.0, 3000, rng) <= 3 * ALPHA            # unchanged kit, another CPU (~another seed)
    assert _simulate(-50.0, 300, rng) == 1.0                 # labels shuffled: ~10 % on a ~60 % table
    assert _simulate(-5.0, 300, rng) < 0.2                   # a 5-point loss is beyond one seed's power


def _reference_file(spec: str) -> Path:
    paper, _, table = spec.partition(":")          # "paper1:6" -> paper1_table6.json
    return REFERENCES[0].parent / f"{paper}_table{table}.json"


def test_the_main_jobs_references_know_their_seed_spread():
    from replication.drivers.demo import HEADLINE
    for spec in HEADLINE:
        data = json.loads(_reference_file(spec).read_text(encoding="utf-8"))
        for run, entry in data["runs"].items():
            for metric, stats in entry["metrics"].items():
                assert stats["n"] >= MIN_SEEDS, (
                    f"{spec} {run} {metric}: {stats['n']} seeds; record the reference with >= {MIN_SEEDS} "
                    "(python -m replication.check --record-reference RESULTS)")


def _leave_one_out(data: dict, run: str, metric: str, seed: int) -> tuple[float, Band]:
    """(the left-out seed's value, the band the reference's other seeds give a one-seed run)."""
    per_seed = {int(k): float(v) for k, v in data["runs"][run]["metrics"][metric]["per_seed"].items()}
    rest = [v for k, v in per_seed.items() if k != seed]
    others = [c for r, e in data["runs"].items() for m, c in e["metrics"].items() if m == metric and r != run]
    loo = {"mean": float(np.mean(rest)), "std": float(np.std(rest, ddof=1)), "n": len(rest)}
    return per_seed[seed], demo_band(loo, pooled_sd([loo, *others]), 1, float(data["abs_tol"]),
                                     float(data.get("alpha", ALPHA)))


@pytest.mark.parametrize("path", REFERENCES, ids=lambda p: p.stem)
def test_committed_reference_holds_its_own_seeds(path):
    """Leave-one-seed-out on every reference recorded over >= MIN_SEEDS seeds (a reference
    with fewer gives "no reference" in the checker: tests/replication/test_check.py):
    each left-out seed is "within" (what another CPU's run looks like), and a run whose
    every accuracy cell is at chance (labels shuffled) is "regressed" on at least one cell.
    A single weak cell at chance may pass at one seed (paper 1's raw demo CNN, 39.5 +- 6.4 %,
    in the 3-cell Table 1): the check is an alarm for the table, not for each cell."""
    data = json.loads(path.read_text(encoding="utf-8"))
    for seed in sorted({int(k) for e in data["runs"].values() for s in e["metrics"].values()
                        for k in s["per_seed"]}):
        flagged = []
        for run, entry in data["runs"].items():
            for metric, stats in entry["metrics"].items():
                if len(stats["per_seed"]) < MIN_SEEDS or str(seed) not in stats["per_seed"]:
                    continue
                value, band = _leave_one_out(data, run, metric, seed)
                assert band.verdict(value) == "within", f"{path.name} {run} {metric} seed {seed}: {band.describe()}"
                if metric == "accuracy":
                    flagged.append(band.verdict(100.0 / 10) == "regressed")       # 10 classes
        assert not flagged or any(flagged), f"{path.name}: a chance-level table would pass at seed {seed}"


def test_the_main_jobs_check_flags_every_chance_level_cell():
    """The headline tables' cells are strong enough that each one at chance is flagged alone."""
    from replication.drivers.demo import HEADLINE
    for spec in HEADLINE:
        data = json.loads(_reference_file(spec).read_text(encoding="utf-8"))
        for run, entry in data["runs"].items():
            for seed in entry["metrics"]["accuracy"]["per_seed"]:
                _, band = _leave_one_out(data, run, "accuracy", int(seed))
                assert band.verdict(100.0 / 10) == "regressed", f"{spec} {run}: {band.describe()}"
