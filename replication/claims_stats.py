"""Claims statistics: pair a claim's arms by seed (and fold), paired differences, a 95 %
t interval and a verdict.

For a claim with terms ((s_1, arm_1), ..., (s_k, arm_k)) (replication/claims_data.py) and
run records of its arms, each unit u = (fold, seed) present in every arm gives one paired
difference d_u = sum_j s_j * value_j(u), in percent points (records store fractions; they
are multiplied by 100 here). With n units, mean m and sample std s (n - 1):

    interval = m -+ t_{0.975, n-1} * s / sqrt(n)        (scipy.stats.t)

Verdict (the paper's direction is d > 0):
    "reproduced"     interval above 0
    "contradicted"   interval below 0
    "inconclusive"   interval contains 0
    "too few seeds"  n < 2 (no interval)
A negative-control result (the same claim on runs with the teacher signal permuted)
passes when it is not "reproduced": its effect must vanish (or turn against the claim).
A teacher-signal row follows each claim that has both: per unit, the claim's difference
minus its control's (the arms the two share, e.g. a baseline trained once, cancel), so it
is the paired effect of the real teacher signal over a permuted one at the same training
budget; "reproduced" there means the signal itself helps. An arm whose models are the
same in the claim's and the control's records at every paired unit (the same store keys,
`model_identity`: a baseline the negative-control switch does not touch) cancels out of
that row, so its levelling does not count there (the row still lists it, marked). The
signal row also gives, per distilled arm, its models' mean fit to the real teacher signal
and to the permuted one when training ended (claims_curves.record_fit; `fit`): a student
fits an aligned signal far better than a permuted one; alike fits say the signal carries
nothing clip-specific, so that arm's accuracies cannot show the teacher's effect.
An arm with a variant (claims_data.VARIANTS, e.g. equal_budget) takes its values from that
variant's records. Each result also says, per arm, whether the training loss of every
model behind it levelled off over the paired units (replication/convergence.py; the
curves come from replication/claims_curves.py): a claim whose arms have not levelled off
is not evidence either way.

    results = evaluate(claims, records, control_records,    # records: [(path, RunRecord)]
                       variant_records={"equal_budget": [...]},
                       levelling={"runs": index, "control": index, "equal_budget": index})

Nothing here imports a paper package.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping, Sequence

from replication.claims_data import Arm, Claim
from replication.convergence import ArmLevelling, combine

CONFIDENCE = 0.95
VERDICTS = ("reproduced", "contradicted", "inconclusive", "too few seeds")
Unit = tuple            # (fold or None, seed)
MAIN, CONTROL = "runs", "control"      # sources of records besides the variants (folder names)


class ClaimsStatsError(ValueError):
    """Records that cannot be paired (e.g. two records of one run at one seed)."""


def unit_of(record: Any) -> Unit:
    """(fold, seed) of a run record; fold from record.extra["fold"] when present, else None."""
    extra = record.extra if isinstance(getattr(record, "extra", None), Mapping) else {}
    return (extra.get("fold"), int(record.seed))


def model_identity(record: Any) -> tuple | None:
    """The models a record's metric comes from, as store keys (None: the record names none).

    Paper 1 (paper1_ts/tables.py run_metrics): the keys of extra["systems"]; paper 2
    (paper2_multirep/tables.py records_for): extra["job"] with extra["branches"] (the
    branches of that job the record reports; absent in older records)."""
    extra = record.extra if isinstance(getattr(record, "extra", None), Mapping) else {}
    if isinstance(extra.get("systems"), list):
        keys = tuple(s.get("key") for s in extra["systems"] if isinstance(s, Mapping))
        return keys if keys and all(keys) else None
    if extra.get("job"):
        branches = extra.get("branches")
        return (str(extra["job"]), tuple(branches) if isinstance(branches, list) else None)
    return None


def identities_by_run(records: Iterable[tuple[Any, Any]]) -> dict[tuple[str, str, Unit], tuple | None]:
    """(table, run, unit) -> model_identity of the record."""
    return {(rec.table, rec.run, unit_of(rec)): model_identity(rec) for _, rec in records}


def unit_label(unit: Unit) -> str:
    fold, seed = unit
    return f"seed {seed}" if fold is None else f"fold {fold} seed {seed}"


def values_by_run(records: Iterable[tuple[Any, Any]], metric: str) -> dict[tuple[str, str], dict[Unit, float]]:
    """(table, run) -> unit -> metric in percent, from (path, RunRecord) pairs.

    Raises:
      ClaimsStatsError: two records of one run at one unit (naming both files).
    """
    out: dict[tuple[str, str], dict[Unit, float]] = {}
    where: dict[tuple[str, str, Unit], str] = {}
    for path, rec in records:
        value = (rec.metrics or {}).get(metric)
        if value is None:
            continue
        unit = unit_of(rec)
        key = (rec.table, rec.run, unit)
        if key in where:
            raise ClaimsStatsError(f"{path}: a second record of {rec.table} {rec.run} at {unit_label(unit)} "
                                   f"(also {where[key]}); give one results root per arm set")
        where[key] = str(path)
        out.setdefault((rec.table, rec.run), {})[unit] = 100.0 * float(value)
    return out


def arm_values(arm: Arm, values: Mapping[tuple[str, str], Mapping[Unit, float]]) -> dict[Unit, float]:
    """unit -> value of one arm: its run's value, or the best of its runs at that unit
    (units where every run has a record)."""
    per_run = [values.get((arm.table, run), {}) for run in arm.runs]
    units = set(per_run[0]).intersection(*per_run[1:]) if per_run else set()
    return {u: max(v[u] for v in per_run) for u in units}


def t_interval(diffs: Sequence[float], confidence: float = CONFIDENCE) -> tuple[float, float, float] | None:
    """(mean, low, high) of the t interval over paired differences, or None when n < 2."""
    n = len(diffs)
    if n < 2:
        return None
    from scipy.stats import t
    mean = sum(diffs) / n
    sd = math.sqrt(sum((d - mean) ** 2 for d in diffs) / (n - 1))
    half = float(t.ppf(0.5 + confidence / 2, n - 1)) * sd / math.sqrt(n)
    return mean, mean - half, mean + half


def verdict_of(interval: tuple[float, float, float] | None) -> str:
    if interval is None:
        return "too few seeds"
    _, low, high = interval
    if low > 0:
        return "reproduced"
    if high < 0:
        return "contradicted"
    return "inconclusive"


@dataclass(frozen=True)
class ClaimResult:
    """One claim measured on one set of runs (the main runs, or the negative control's)."""
    claim_id: str
    paper: str
    statement: str
    kind: str
    metric: str
    arms: str                          # "A - B" or "(A - B) - (C - D)"
    printed: tuple[str, ...]           # printed tables the arms come from
    published: float                   # the paper's effect, points
    control: bool                      # True: the negative-control row of the claim
    units: tuple[str, ...]             # paired units, "seed 0", ...
    differences: tuple[float, ...]     # d_u per unit, points
    mean: float | None
    low: float | None
    high: float | None
    verdict: str                       # one of VERDICTS
    missing: tuple[str, ...] = ()      # arms without any record
    levelling: tuple[ArmLevelling, ...] = ()   # per arm: did its models' training loss level off
    signal: bool = False               # True: the teacher-signal row (claim minus its control, per unit)
    cancelled: tuple[int, ...] = ()    # signal row: indices into levelling of arms that cancel out
    # signal row, per arm of the claim: (mean fit with the real signal, with the permuted one)
    # over the paired units (claims_curves.record_fit), None where an arm has no teacher signal
    fit: tuple[tuple[float, float] | None, ...] = ()
    # per arm: unit label -> model_identity per run at the paired units (None: unknown); not reported
    arm_models: tuple = field(default=(), compare=False, repr=False)
    # per arm: unit label -> record_fit per run at the paired units; not reported
    arm_fits: tuple = field(default=(), compare=False, repr=False)

    @property
    def n(self) -> int:
        return len(self.differences)

    @property
    def levelled(self) -> bool | None:
        """True: every arm levelled off; False: an arm did not; None: unknown for an arm."""
        states = [a.levelled for i, a in enumerate(self.levelling) if i not in self.cancelled]
        if False in states:
            return False
        if not states or None in states:
            return None
        return True

    @property
    def control_passes(self) -> bool | None:
        """Negative control: True when the effect vanished (not reproduced); None when
        there are too few seeds to tell or this is not a control row."""
        if not self.control or self.signal or self.verdict == "too few seeds":
            return None
        return self.verdict != "reproduced"

    def to_dict(self) -> dict[str, Any]:
        out = {k: getattr(self, k) for k in self.__dataclass_fields__ if k not in ("arm_models", "arm_fits")}
        out.update(cancelled=list(self.cancelled), n=self.n, control_passes=self.control_passes,
                   fit=[list(f) if f else None for f in self.fit],
                   printed=list(self.printed), units=list(self.units),
                   differences=[round(d, 6) for d in self.differences], missing=list(self.missing),
                   levelled=self.levelled, levelling=[a.to_dict() for a in self.levelling])
        return out


Values = Mapping[tuple[str, str], Mapping[Unit, float]]
LevellingIndex = Mapping[tuple[str, str, Unit], Sequence[Any]]     # replication/claims_curves.py
FitIndex = Mapping[tuple[str, str, Unit], Sequence[float | None]]  # claims_curves.fit_index


def _arm_levelling(arm: Arm, units: Sequence[Unit], index: LevellingIndex | None) -> ArmLevelling:
    """The arm's models' verdicts at the paired units (each run of a best-of arm counts)."""
    curves: list = []
    for unit in units:
        for run in arm.runs:
            found = (index or {}).get((arm.table, run, unit))
            curves.extend(found if found else [None])     # a record naming no model: unknown
    return combine(arm.label, curves)


def measure(claim: Claim, values: Values, control: bool = False, confidence: float = CONFIDENCE,
            variant_values: Mapping[str, Values] | None = None,
            levelling: Mapping[str, LevellingIndex] | None = None,
            identities: Mapping[str, Mapping] | None = None,
            fits: Mapping[str, FitIndex] | None = None) -> ClaimResult:
    """The claim's paired differences over the units every arm has, interval and verdict.

    Args:
      values: values_by_run of the main (or, control=True, the control) records.
      variant_values: variant name -> values_by_run of its records (arms with a variant).
      levelling: source ("runs", "control" or a variant) -> levelling index of its records.
      identities: source -> identities_by_run of its records (for the signal row's cancelling).
      fits: source -> claims_curves.fit_index of its records (for the signal row's fit).
    """
    def source(arm: Arm) -> str:
        return arm.variant or (CONTROL if control else MAIN)

    def values_of(arm: Arm) -> Values:
        return (variant_values or {}).get(arm.variant, {}) if arm.variant else values

    per_arm = [(sign, arm, arm_values(arm, values_of(arm))) for sign, arm in claim.terms]
    missing = tuple(dict.fromkeys(arm.label for _, arm, v in per_arm if not v))
    units = sorted(set.intersection(*(set(v) for _, _, v in per_arm)),
                   key=lambda u: (u[0] is not None, u[0] if u[0] is not None else 0, u[1]))
    diffs = tuple(sum(sign * v[u] for sign, _, v in per_arm) for u in units)
    interval = t_interval(diffs, confidence)
    mean = interval[0] if interval else (diffs[0] if diffs else None)
    arms = tuple(dict.fromkeys(arm for _, arm in claim.terms))
    levels = tuple(_arm_levelling(arm, units, (levelling or {}).get(source(arm))) for arm in arms) \
        if levelling is not None else ()
    models = tuple({unit_label(u): tuple((identities or {}).get(source(arm), {}).get((arm.table, run, u))
                                         for run in arm.runs) for u in units} for arm in arms)
    fitted = tuple({unit_label(u): tuple(fits.get(source(arm), {}).get((arm.table, run, u), ())
                                         for run in arm.runs) for u in units} for arm in arms) \
        if fits is not None else ()
    return ClaimResult(
        claim_id=claim.id, paper=claim.paper, statement=claim.statement, kind=claim.kind,
        metric=claim.metric, arms=claim.arm_text(), printed=claim.printed, published=claim.published,
        control=control, units=tuple(unit_label(u) for u in units), differences=diffs, mean=mean,
        low=interval[1] if interval else None, high=interval[2] if interval else None,
        verdict=verdict_of(interval), missing=missing, levelling=levels, arm_models=models,
        arm_fits=fitted)


def _same_models(a: Mapping, b: Mapping, units: Sequence[str]) -> bool:
    """One arm's models are the same in two rows at every given unit (all known)."""
    pairs = [(a.get(u), b.get(u)) for u in units]
    return bool(pairs) and all(x is not None and None not in x and x == y for x, y in pairs)


def _fit_pair(main: Mapping, control: Mapping, units: Sequence[str]) -> tuple[float, float] | None:
    """(mean fit with the real signal, with the permuted one) of one arm over the units where
    both runs' models have one, model by model; None when no model pairs up."""
    pairs = [(m, c) for u in units
             for runs_m, runs_c in zip(main.get(u, ()), control.get(u, ()))
             for m, c in zip(runs_m, runs_c) if m is not None and c is not None]
    if not pairs:
        return None
    return sum(m for m, _ in pairs) / len(pairs), sum(c for _, c in pairs) / len(pairs)


def signal_contrast(main: ClaimResult, control: ClaimResult, confidence: float = CONFIDENCE) -> ClaimResult:
    """The teacher-signal row of a claim: per unit both rows paired, the claim's difference
    minus the control's; interval and verdict as for a claim; its levelling is that of the
    arms of both rows (claim's first, then the control's), those whose models are the same
    in both rows marked cancelled (they do not enter the difference)."""
    ctrl = dict(zip(control.units, control.differences))
    units = tuple(u for u in main.units if u in ctrl)
    mains, ctrls = main.arm_models, control.arm_models
    same = [i for i in range(min(len(mains), len(ctrls), len(main.levelling)))
            if _same_models(mains[i], ctrls[i], units)]
    cancelled = tuple(same) + tuple(len(main.levelling) + i for i in same) if control.levelling else ()
    diffs = tuple(d - ctrl[u] for u, d in zip(main.units, main.differences) if u in ctrl)
    interval = t_interval(diffs, confidence)
    return ClaimResult(
        claim_id=main.claim_id, paper=main.paper, statement=main.statement, kind=main.kind,
        metric=main.metric, arms=f"({main.arms}) - control", printed=main.printed, published=main.published,
        control=True, units=units, differences=diffs,
        mean=interval[0] if interval else (diffs[0] if diffs else None),
        low=interval[1] if interval else None, high=interval[2] if interval else None,
        verdict=verdict_of(interval), missing=tuple(dict.fromkeys(main.missing + control.missing)),
        levelling=main.levelling + control.levelling, signal=True, cancelled=cancelled,
        fit=tuple(None if i in same else _fit_pair(m, c, units)
                  for i, (m, c) in enumerate(zip(main.arm_fits, control.arm_fits))))


def evaluate(claims: Sequence[Claim], records: Iterable[tuple[Any, Any]],
             control_records: Iterable[tuple[Any, Any]] | None = None,
             confidence: float = CONFIDENCE, *,
             variant_records: Mapping[str, Iterable[tuple[Any, Any]]] | None = None,
             levelling: Mapping[str, LevellingIndex] | None = None,
             fits: Mapping[str, FitIndex] | None = None) -> list[ClaimResult]:
    """One result per claim on `records`, each followed by its negative-control result
    (claims with control: true) when `control_records` are given.

    Args:
      variant_records: variant name -> records of that variant's runs (arms with a variant).
      levelling: source ("runs", "control", variant) -> claims_curves.levelling_index of its
        records; None leaves the results without levelling.
      fits: source -> claims_curves.fit_index of its records; the teacher-signal rows then say,
        per arm, how closely its models fit the real signal and the permuted one (ClaimResult.fit).
    """
    sources: dict[str, list] = {MAIN: list(records)}
    if control_records is not None:
        sources[CONTROL] = list(control_records)
    for name, recs in (variant_records or {}).items():
        sources[name] = list(recs)
    cache: dict[tuple[str, str], dict] = {}

    def values(name: str, metric: str):
        if (name, metric) not in cache:
            cache[(name, metric)] = values_by_run(sources.get(name, []), metric)
        return cache[(name, metric)]

    identities = {name: identities_by_run(recs) for name, recs in sources.items()}
    out = []
    for claim in claims:
        variants = {a.variant: values(a.variant, claim.metric) for a in claim.arms if a.variant}
        out.append(measure(claim, values(MAIN, claim.metric), False, confidence, variants, levelling, identities,
                           fits))
        if claim.control and CONTROL in sources:
            out.append(measure(claim, values(CONTROL, claim.metric), True, confidence, variants, levelling,
                               identities, fits))
            out.append(signal_contrast(out[-2], out[-1], confidence))
    return out


def summary(results: Sequence[ClaimResult]) -> dict[str, Any]:
    """Counts of verdicts over the main rows and of passing / failing controls."""
    main = [r for r in results if not r.control]
    ctrl = [r for r in results if r.control and not r.signal]
    signal = [r for r in results if r.signal]
    return {"claims": len(main), **{v: sum(r.verdict == v for r in main) for v in VERDICTS},
            "controls": len(ctrl), "controls_passing": sum(r.control_passes is True for r in ctrl),
            "controls_failing": sum(r.control_passes is False for r in ctrl),
            "signals": len(signal), **{f"signal_{v}": sum(r.verdict == v for r in signal) for v in VERDICTS},
            "levelled": sum(r.levelled is True for r in main),
            "not_levelled": sum(r.levelled is False for r in main),
            "levelling_unknown": sum(r.levelled is None for r in main)}


__all__ = ["CONFIDENCE", "CONTROL", "ClaimResult", "ClaimsStatsError", "MAIN", "VERDICTS", "arm_values", "evaluate",
           "identities_by_run", "measure", "model_identity", "signal_contrast", "summary", "t_interval",
           "unit_label", "unit_of", "values_by_run", "verdict_of"]
