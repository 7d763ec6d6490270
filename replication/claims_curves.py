"""Training-loss curves behind the claims' arms, read from the job stores their run records
name, and judged by replication/convergence.py.

    index = levelling_index(records, root)   # (table, run, unit) -> (Levelling | None, ...), one per model

`root` is the results root the records were written under (the driver's <results>/runs,
control or equal_budget); its job stores are <root>/paper1/_store and <root>/paper2/_store
(the papers' tables.py STORE_DIR; under control / equal_budget they are links to those of
runs). Which models and which series, per paper:

Paper 1 (paper1_ts/tables.py run_metrics): record.extra["systems"] = [{"key": ...}], one
per model of the run (two for a score-sum ensemble). Entry info["history"] is {"loss":
[...], ...} for a one-step model (raw CNN) or {"step1": {...}, "step2": {...}} for the
two-step CNN-GRU (Sec. 4.2). Series: "loss" of the last step (step 2, the GRU model whose
embeddings the SVM reads); for a TS student it is the distillation loss it trained on.

Paper 2 (paper2_multirep/tables.py records_for): record.extra["job"] = the store key,
extra["kind"] = independent | distilled | ensemble, extra["branches"] = indices of the
job's branches whose outputs the run reports (records written before that field: all
branches of an ensemble, branch 0 of an independent job, and for a distilled run the
branch whose "<network>_<representation>" starts the run name "..._distilled_with_...").
Entry info["history"] = one row per (branch, pass): cycle, phase, branch, pass, lr, loss,
ce, kl. Series: "ce" of the branch's passes in the phase that produces the evaluated
weights: "independent" passes for an independent job, "distill" passes for a cyclic one
(Algorithm 1 ends every cycle with them; one value per distill pass). The CE on the
(mixed) labels and not the total loss, because the KL target P_bar changes every cycle, so
two distill passes' totals are not one objective; CE is, and both arms share it. Entries
written before the whole history was kept hold its last 8 rows: the series is then a tail
of (last cycle + 1) x (rows per cycle) values, read when the window fits in it (else
unknown: the run was not short, its record is).

A record that names no store key, a missing entry or a history without the series gives
None for that model ("unknown").

Teacher-signal fit (`fit_index`, read by the claims' teacher-signal rows): per model, how
closely it fits its teacher signal when training ends. Paper 1: a TS student's last-epoch
distillation loss (its last step's "loss"); paper 2: a distilled branch's mean KL to P_bar
over its last cycle's distill passes; None for a one-hot model or an independent branch.
A student whose teacher signal is aligned with its clips can fit it (the teacher's output is
a function of the clip); one given another clip's signal can only memorise it, so its loss
stays higher. Equal fits with the real and the permuted signal mean the signal carries
nothing clip-specific the student can use (e.g. a teacher that learned nothing), whatever
the accuracies say. Nothing here imports a paper package.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence

from replication.claims_stats import Unit, unit_of
from replication.convergence import Levelling, levelled_off

STORES = {"paper1": "paper1/_store", "paper2": "paper2/_store"}     # under a results root
JOB_FILE = "job.json"                                               # replication/store.py JOB


class CurveError(ValueError):
    """A store entry whose history is malformed (names the file and the key)."""


def _payload(store: Path, key: str, cache: dict) -> dict | None:
    path = store / key / JOB_FILE
    if path not in cache:
        try:
            cache[path] = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            cache[path] = None
        except (OSError, ValueError) as err:
            raise CurveError(f"{path}: unreadable job entry ({err})") from None
    return cache[path]


def paper1_series(history: Any, where: str) -> list[float] | None:
    """Per-epoch "loss" of the last training step of a paper-1 model history."""
    if not isinstance(history, Mapping):
        return None
    step = history["step2"] if "step2" in history else history
    losses = step.get("loss") if isinstance(step, Mapping) else None
    if losses is None:
        return None
    if not isinstance(losses, list):
        raise CurveError(f"{where}: info.history loss: expected a list, got {type(losses).__name__}")
    return [float(v) for v in losses]


def paper2_series(history: Any, branch: int, kind: str, where: str) -> tuple[list[float], int] | None:
    """(per-pass "ce" of branch `branch` in its evaluated phase, total passes of that phase)."""
    if not isinstance(history, list) or not history:
        return None
    phase = "independent" if kind == "independent" else "distill"
    try:
        rows = [r for r in history if r["branch"] == branch and r["phase"] == phase]
        if not rows:
            return None
        last_cycle = rows[-1]["cycle"]
        per_cycle = sum(r["cycle"] == last_cycle for r in rows)
        return [float(r["ce"]) for r in rows], (int(last_cycle) + 1) * per_cycle
    except (KeyError, TypeError) as err:
        raise CurveError(f"{where}: info.history rows need branch, phase, cycle, ce ({err!r})") from None


def _paper2_branches(record: Any, description: Mapping) -> list[int] | None:
    extra = record.extra
    if isinstance(extra.get("branches"), list):
        return [int(i) for i in extra["branches"]]
    kind, branches = extra.get("kind"), description.get("branches") or []
    if kind == "independent":
        return [0]
    if kind == "ensemble":
        return list(range(len(branches)))
    if kind == "distilled":
        hits = [i for i, b in enumerate(branches)
                if record.run.startswith(f"{b.get('network')}_{b.get('representation')}_distilled_with_")]
        return hits[:1] or None
    return None


def _models(record: Any, root: str | os.PathLike, cache: dict) -> list[tuple[dict | None, str, int | None, str]] | None:
    """The models the record's metric comes from: (payload or None, where, branch, kind) per
    model (paper 1: branch None, kind "model"; paper 2: the reported branch and "independent" /
    "cyclic"); [] when the record names no model, None for a paper-2 record whose branch is
    unknown (one unknown model)."""
    extra = record.extra if isinstance(getattr(record, "extra", None), Mapping) else {}
    paper = str(record.table).partition("/")[0]
    if paper not in STORES:
        return []
    store = Path(root) / STORES[paper]
    if paper == "paper1":
        keys = [s.get("key") for s in extra.get("systems", []) if isinstance(s, Mapping)]
        return [(_payload(store, str(key), cache) if key else None, f"{store / str(key) / JOB_FILE}", None, "model")
                for key in keys]
    key = extra.get("job")
    if not key:
        return []
    payload = _payload(store, str(key), cache)
    where = f"{store / str(key) / JOB_FILE}"
    if payload is None:
        return [(None, where, None, "")]
    branches = _paper2_branches(record, payload.get("description", {}))
    if branches is None:
        return None
    kind = "independent" if extra.get("kind") == "independent" else "cyclic"
    return [(payload, where, branch, kind) for branch in branches]


def record_levelling(record: Any, root: str | os.PathLike, cache: dict | None = None) -> tuple[Levelling | None, ...]:
    """One verdict per model the record's metric comes from (None: no readable curve);
    () when the record names no model."""
    models = _models(record, root, {} if cache is None else cache)
    if models is None:
        return (None,)
    out: list[Levelling | None] = []
    for payload, where, branch, kind in models:
        history = (payload or {}).get("info", {}).get("history")
        if payload is None:
            out.append(None)
        elif branch is None:
            series = paper1_series(history, where)
            out.append(levelled_off(series) if series is not None else None)
        else:
            found = paper2_series(history, branch, kind, where)
            verdict = levelled_off(found[0], total_epochs=found[1]) if found else None
            if verdict is not None and verdict.relative_drop is None and len(found[0]) < found[1]:
                verdict = None                  # a truncated history whose window is gone: unknown, not short
            out.append(verdict)
    return tuple(out)


def paper1_fit(payload: Mapping, where: str) -> float | None:
    """Last-epoch distillation loss of a paper-1 TS student (the last step's "loss", which for
    a student is the soft-label / embedding loss it trained on); None for a one-hot model."""
    if not isinstance(payload.get("description"), Mapping) or not payload["description"].get("ts"):
        return None
    series = paper1_series(payload.get("info", {}).get("history"), where)
    return series[-1] if series else None


def paper2_fit(history: Any, branch: int, where: str) -> float | None:
    """Mean KL to P_bar over branch `branch`'s distill passes of the last cycle that has any
    (None: no distill pass, e.g. an independent job)."""
    if not isinstance(history, list):
        return None
    try:
        rows = [r for r in history if r["branch"] == branch and r["phase"] == "distill"]
        if not rows:
            return None
        last = [float(r["kl"]) for r in rows if r["cycle"] == rows[-1]["cycle"]]
    except (KeyError, TypeError, ValueError) as err:
        raise CurveError(f"{where}: info.history distill rows need branch, phase, cycle, kl ({err!r})") from None
    return sum(last) / len(last)


def record_fit(record: Any, root: str | os.PathLike, cache: dict | None = None) -> tuple[float | None, ...]:
    """Per model the record's metric comes from, how closely it fits its teacher signal at the
    end of training (paper 1: a TS student's last distillation loss; paper 2: a distilled
    branch's KL to P_bar over its last cycle); None for a model without one (one-hot,
    independent) or without a readable entry; () when the record names no model."""
    models = _models(record, root, {} if cache is None else cache)
    if models is None:
        return (None,)
    out: list[float | None] = []
    for payload, where, branch, kind in models:
        if payload is None or kind == "independent":
            out.append(None)
        elif branch is None:
            out.append(paper1_fit(payload, where))
        else:
            out.append(paper2_fit(payload.get("info", {}).get("history"), branch, where))
    return tuple(out)


def levelling_index(records: Iterable[tuple[Any, Any]], root: str | os.PathLike
                    ) -> dict[tuple[str, str, Unit], tuple[Levelling | None, ...]]:
    """(table, run, unit) -> the verdicts of the models behind each record under `root`."""
    cache: dict = {}
    return {(rec.table, rec.run, unit_of(rec)): record_levelling(rec, root, cache) for _, rec in records}


def fit_index(records: Iterable[tuple[Any, Any]], root: str | os.PathLike
              ) -> dict[tuple[str, str, Unit], tuple[float | None, ...]]:
    """(table, run, unit) -> record_fit of the models behind each record under `root`."""
    cache: dict = {}
    return {(rec.table, rec.run, unit_of(rec)): record_fit(rec, root, cache) for _, rec in records}


__all__ = ["CurveError", "fit_index", "levelling_index", "paper1_fit", "paper1_series", "paper2_fit",
           "paper2_series", "record_fit", "record_levelling"]
