"""Loss curves behind the claims' arms (replication/claims_curves.py) on hand-made run
records and job-store entries (no training): the record names the store key, the lookup
finds the history under the results root, and the report says per arm whether it levelled off."""

from __future__ import annotations

import json

import pytest

from replication.claims_curves import CurveError, fit_index, levelling_index, record_fit, record_levelling
from replication.claims_data import Arm, Claim
from replication.claims_report import markdown, to_json
from replication.claims_stats import evaluate, summary
from replication.records import RunRecord
from replication.store import JobStore

FLAT = [2.0, 1.5, 1.2, 1.1, 1.05, 1.04, 1.04, 1.035]              # levelled (drop 0.5 % over 2 steps)
FALLING = [2.2, 1.75, 1.59, 1.48, 1.34, 1.23]                    # still falling (-16.9 % of its value, 26 % of its fall, over the last 2 steps)


def _store(root, paper, key, history, description=None):
    JobStore(root / f"{paper}/_store").save(key, description or {"k": key}, {"x": [0]}, {"history": history})


def _p1(run, seed, keys, accuracy=0.6, table="paper1/table6"):
    return (f"{run}/{seed}", RunRecord(table=table, run=run, preset="demo", seed=seed,
                                       metrics={"accuracy": accuracy, "map_at_3": None},
                                       extra={"systems": [{"key": k} for k in keys]}))


def _p2_rows(branches, cycles, losses_of, phases=("single", "distill")):
    """History rows of a job: per cycle, each branch's passes in `phases` order."""
    rows, passes = [], [0] * branches
    for q in range(cycles):
        for phase in phases:
            for b in range(branches):
                ce = losses_of(b, q) + (0.3 if phase == "single" else 0.0)
                rows.append({"cycle": q, "phase": phase, "branch": b, "pass": passes[b], "lr": 0.01,
                             "loss": ce, "ce": ce, "kl": 0.0})
                passes[b] += 1
    return rows


def test_paper1_last_step_of_two_step_models_and_every_model_of_an_ensemble(tmp_path):
    _store(tmp_path, "paper1", "raw", {"loss": FALLING, "accuracy": [0.1] * 6})
    _store(tmp_path, "paper1", "gru", {"step1": {"loss": FALLING}, "step2": {"loss": FLAT}})
    (raw,) = record_levelling(_p1("raw_w_ts", 0, ["raw"])[1], tmp_path)
    assert not raw.levelled and raw.relative_drop == pytest.approx((1.48 - 1.23) / 1.48)
    (gru,) = record_levelling(_p1("spec_w_ts", 0, ["gru"])[1], tmp_path)
    assert gru.levelled and gru.epochs == len(FLAT)            # step 2, not the falling step 1
    both = record_levelling(_p1("ensemble_w_ts", 0, ["gru", "raw"])[1], tmp_path)
    assert [c.levelled for c in both] == [True, False]
    # a key the store lacks, and a record naming no model
    assert record_levelling(_p1("spec_w_ts", 0, ["missing"])[1], tmp_path) == (None,)
    assert record_levelling(_p1("spec_w_ts", 0, [])[1], tmp_path) == ()


def test_paper2_independent_passes_and_the_distill_passes_of_the_reported_branch(tmp_path):
    # branch 0 levels off, branch 1 keeps falling; single passes sit 0.3 above (not read)
    cyclic = _p2_rows(2, 8, lambda b, q: 1.0 if b == 0 else 2.0 - 0.1 * q)
    desc = {"branches": [{"network": "resnet", "representation": "logmel64"},
                         {"network": "vgg", "representation": "mfcc"}]}
    _store(tmp_path, "paper2", "cyc", cyclic, desc)
    _store(tmp_path, "paper2", "ind", _p2_rows(1, 8, lambda b, q: 1.0 + 0.5 ** q, ("independent",)))

    def rec(run, kind, key, **extra):
        return RunRecord(table="paper2/tableVII", run=run, preset="demo", seed=0,
                         metrics={"accuracy": 0.5}, extra={"kind": kind, "job": key, **extra})

    (ind,) = record_levelling(rec("resnet_logmel64", "independent", "ind"), tmp_path)
    assert ind.levelled and ind.epochs == 8
    (b1,) = record_levelling(rec("vgg_mfcc_distilled_with_resnet_logmel64", "distilled", "cyc",
                                 branches=[1]), tmp_path)
    assert not b1.levelled and b1.epochs == 8                  # 8 distill passes, CE only
    assert b1.relative_drop == pytest.approx((1.5 - 1.3) / 1.5)
    # records written before extra["branches"]: the branch is found from the run name
    (b0,) = record_levelling(rec("resnet_logmel64_distilled_with_vgg_mfcc", "distilled", "cyc"), tmp_path)
    assert b0.levelled
    ens = record_levelling(rec("ensemble_resnet_logmel64_and_vgg_mfcc", "ensemble", "cyc"), tmp_path)
    assert [c.levelled for c in ens] == [True, False]


def test_paper2_entries_that_kept_only_their_last_rows(tmp_path):
    tail = _p2_rows(2, 8, lambda b, q: 1.0)[-8:]               # the last 2 cycles only
    _store(tmp_path, "paper2", "old", tail)
    rec = RunRecord(table="paper2/tableVII", run="x_distilled_with_y", preset="demo", seed=0,
                    metrics={"accuracy": 0.5}, extra={"kind": "distilled", "job": "old", "branches": [0]})
    assert record_levelling(rec, tmp_path) == (None,)          # window needs 3 of 8 passes, 2 kept: unknown
    rec.extra["kind"] = "independent"                          # no independent rows at all: unknown too
    assert record_levelling(rec, tmp_path) == (None,)
    whole = _p2_rows(2, 8, lambda b, q: 1.0)[-12:]              # the last 3 cycles: the window fits
    _store(tmp_path, "paper2", "old", whole)
    rec.extra["kind"] = "distilled"
    assert record_levelling(rec, tmp_path) == ((True, 0.0, 8, None),)   # a tail: no share of the fall
    _store(tmp_path, "paper2", "bad", [{"cycle": 0, "phase": "distill", "branch": 0}])
    bad = RunRecord(table="paper2/tableVII", run="r", preset="demo", seed=0, metrics={"accuracy": 0.5},
                    extra={"kind": "distilled", "job": "bad", "branches": [0]})
    with pytest.raises(CurveError, match=r"paper2/_store/bad/job\.json"):
        record_levelling(bad, tmp_path)


def test_teacher_signal_fit_of_ts_students_and_distilled_branches(tmp_path):
    # paper 1: a TS student's last distillation loss (last step); a one-hot model has none
    _store(tmp_path, "paper1", "ts", {"step1": {"loss": FALLING}, "step2": {"loss": [0.9, 0.4, 0.25]}},
           {"family": "spec", "ts": {"point": "hidden", "teacher_signal": "matched"}})
    _store(tmp_path, "paper1", "onehot", {"loss": FLAT}, {"family": "raw", "ts": None})
    assert record_fit(_p1("ensemble_w_ts", 0, ["ts", "onehot"])[1], tmp_path) == (0.25, None)
    assert record_fit(_p1("spec_w_ts", 0, ["missing"])[1], tmp_path) == (None,)
    # paper 2: the reported branch's mean KL to P_bar over its last cycle's distill passes
    rows = _p2_rows(2, 3, lambda b, q: 1.0)
    for r in rows:
        r["kl"] = 0.0 if r["phase"] == "single" else 0.1 * (r["branch"] + 1) / (r["cycle"] + 1)
    desc = {"branches": [{"network": "resnet", "representation": "logmel64"},
                         {"network": "vgg", "representation": "mfcc"}]}
    _store(tmp_path, "paper2", "cyc", rows, desc)
    _store(tmp_path, "paper2", "ind", _p2_rows(1, 3, lambda b, q: 1.0, ("independent",)))

    def rec(run, kind, key, **extra):
        return RunRecord(table="paper2/tableVII", run=run, preset="demo", seed=0,
                         metrics={"accuracy": 0.5}, extra={"kind": kind, "job": key, **extra})

    assert record_fit(rec("vgg_mfcc_distilled_with_resnet_logmel64", "distilled", "cyc", branches=[1]),
                      tmp_path) == pytest.approx((0.2 / 3,))
    assert record_fit(rec("ensemble_resnet_logmel64_and_vgg_mfcc", "ensemble", "cyc"),
                      tmp_path) == pytest.approx((0.1 / 3, 0.2 / 3))
    assert record_fit(rec("resnet_logmel64", "independent", "ind"), tmp_path) == (None,)
    index = fit_index([("r", rec("resnet_logmel64", "independent", "ind"))], tmp_path)
    assert index == {("paper2/tableVII", "resnet_logmel64", (None, 0)): (None,)}
    bad = [dict(r) for r in rows]
    del bad[-1]["kl"]
    _store(tmp_path, "paper2", "bad", bad, desc)
    with pytest.raises(CurveError, match=r"bad/job.json: info.history distill rows need"):
        record_fit(rec("vgg_mfcc_distilled_with_resnet_logmel64", "distilled", "bad", branches=[1]), tmp_path)


def test_the_report_says_which_arms_levelled_off(tmp_path):
    _store(tmp_path, "paper1", "flat", {"loss": FLAT})
    _store(tmp_path, "paper1", "fall", {"loss": FALLING})
    records = []
    for seed in range(3):
        records.append(_p1("spec_w_ts", seed, ["flat"], 0.62 + 0.01 * seed))
        records.append(_p1("spec_wo_ts", seed, ["flat" if seed else "fall"], 0.60))
        records.append(_p1("raw_w_ts", seed, ["flat"], 0.40 + 0.01 * seed))
        records.append(_p1("raw_wo_ts", seed, ["flat"], 0.38))
    def claim(cid, a, b):
        terms = ((1, Arm("paper1/table6", (a,))), (-1, Arm("paper1/table6", (b,))))
        return Claim(cid, "paper1", "s", "difference", "accuracy", terms, False, 1.0, ("6",))

    claims = [claim("spec", "spec_w_ts", "spec_wo_ts"), claim("raw", "raw_w_ts", "raw_wo_ts"),
              claim("none", "ensemble_w_ts", "raw_wo_ts")]
    results = evaluate(claims, records, levelling={"runs": levelling_index(records, tmp_path)})
    spec, raw, none = results
    assert spec.verdict == "reproduced" and spec.levelled is False          # seed 0's baseline still falls
    assert [a.levelled for a in spec.levelling] == [True, False] and spec.levelling[1].not_levelled == 1
    assert raw.levelled is True and none.levelled is None                  # no records: unknown
    s = summary(results)
    assert (s["levelled"], s["not_levelled"], s["levelling_unknown"]) == (1, 1, 1)
    text = markdown(results)
    assert "not evidence either way" in text and "1 claim(s) have an arm that did not level off" in text
    assert "B no (fall +16.9 %, 1 of 3 model(s) not levelled)" in text
    data = json.loads(to_json(results))
    assert data["results"][0]["levelled"] is False and data["results"][1]["levelling"][0]["levelled"] is True
    assert data["summary"]["not_levelled"] == 1 and data["levelling"]["threshold"] == 0.05
    # without a levelling index the results carry none (and the report says nothing about it)
    plain = evaluate(claims, records)
    assert plain[0].levelling == () and plain[0].levelled is None
    assert "not evidence either way" not in markdown(plain) and "| reproduced | - |" in markdown(plain)
