"""Claims statistics and report (replication/claims_stats.py, claims_report.py) on
hand-made run records with known paired differences."""

from __future__ import annotations

import json
import math
import subprocess
import sys

import pytest

from replication.claims_data import Arm, Claim
from replication.claims_report import markdown, to_json, write_report
from replication.claims_stats import ClaimsStatsError, evaluate, measure, summary, t_interval, values_by_run
from replication.records import RunRecord

T_975_DF2 = 4.302652729911275      # Student t, 97.5 % quantile, 2 degrees of freedom (printed tables)

A, B, C, D = (Arm("paper1/table6", (run,)) for run in ("spec_w_ts", "spec_wo_ts", "raw_w_ts", "raw_wo_ts"))


def _claim(terms, cid="c", kind="difference", published=1.0, control=True):
    return Claim(id=cid, paper="paper1", statement="s", kind=kind, metric="accuracy", terms=tuple(terms),
                 control=control, published=published, printed=("6",))


def _records(values: dict, fold=None):
    """{run: [percent per seed]} -> [(path, RunRecord)] with fractions, as the runners write."""
    out = []
    for run, per_seed in values.items():
        for seed, v in enumerate(per_seed):
            extra = {} if fold is None else {"fold": fold}
            rec = RunRecord(table="paper1/table6", run=run, preset="demo", seed=seed,
                            metrics={"accuracy": v / 100.0, "map_at_3": None}, extra=extra)
            out.append((f"{run}/seed-{seed}/results.json", rec))
    return out


def test_known_differences_give_the_known_t_interval():
    # d = 2, 3, 4 points: mean 3, sample std 1, half width t(0.975, 2) / sqrt(3)
    recs = _records({"spec_w_ts": [62.0, 63.0, 64.0], "spec_wo_ts": [60.0, 60.0, 60.0]})
    r = measure(_claim([(1, A), (-1, B)]), values_by_run(recs, "accuracy"))
    assert r.n == 3 and r.units == ("seed 0", "seed 1", "seed 2")
    assert r.differences == pytest.approx((2.0, 3.0, 4.0))
    half = T_975_DF2 / math.sqrt(3)
    assert (r.mean, r.low, r.high) == pytest.approx((3.0, 3.0 - half, 3.0 + half))
    assert r.verdict == "reproduced"
    # same mean, wider spread (d = 1, 3, 5): the interval now contains 0
    recs = _records({"spec_w_ts": [61.0, 63.0, 65.0], "spec_wo_ts": [60.0, 60.0, 60.0]})
    assert measure(_claim([(1, A), (-1, B)]), values_by_run(recs, "accuracy")).verdict == "inconclusive"


def test_a_measured_effect_against_the_paper_is_contradicted():
    recs = _records({"spec_w_ts": [55.0, 56.0, 54.0, 55.5], "spec_wo_ts": [60.0, 60.5, 59.0, 61.0]})
    r = measure(_claim([(1, A), (-1, B)], published=1.67), values_by_run(recs, "accuracy"))
    assert r.verdict == "contradicted" and r.high < 0 and r.published == 1.67


def test_one_seed_is_too_few_and_missing_arms_are_named():
    r = measure(_claim([(1, A), (-1, B)]), values_by_run(_records({"spec_w_ts": [62.0], "spec_wo_ts": [60.0]}),
                                                         "accuracy"))
    assert (r.n, r.verdict, r.low) == (1, "too few seeds", None) and r.mean == pytest.approx(2.0)
    r = measure(_claim([(1, A), (-1, B)]), values_by_run(_records({"spec_w_ts": [62.0, 61.0]}), "accuracy"))
    assert r.n == 0 and r.verdict == "too few seeds" and r.missing == ("paper1/table6 spec_wo_ts",)


def test_pairs_only_shared_units_and_keeps_folds_apart():
    recs = _records({"spec_w_ts": [62.0, 63.0, 70.0], "spec_wo_ts": [60.0, 60.0]})  # seed 2 unpaired
    r = measure(_claim([(1, A), (-1, B)]), values_by_run(recs, "accuracy"))
    assert r.differences == pytest.approx((2.0, 3.0))
    folds = _records({"spec_w_ts": [62.0], "spec_wo_ts": [60.0]}, fold=1) \
        + _records({"spec_w_ts": [65.0], "spec_wo_ts": [60.0]}, fold=2)
    r = measure(_claim([(1, A), (-1, B)]), values_by_run(folds, "accuracy"))
    assert r.units == ("fold 1 seed 0", "fold 2 seed 0") and r.differences == pytest.approx((2.0, 5.0))


def test_gain_difference_and_best_of():
    # (C - D) - (A - B): raw gains 4, 5; spec gains 1, 1 -> 3, 4
    recs = _records({"raw_w_ts": [64.0, 65.0], "raw_wo_ts": [60.0, 60.0],
                     "spec_w_ts": [61.0, 62.0], "spec_wo_ts": [60.0, 61.0]})
    r = measure(_claim([(1, C), (-1, D), (-1, A), (1, B)], kind="gain_difference"), values_by_run(recs, "accuracy"))
    assert r.differences == pytest.approx((3.0, 4.0))
    best = Arm("paper1/table6", ("spec_w_ts", "raw_w_ts"))
    r = measure(_claim([(1, B), (-1, best)]), values_by_run(recs, "accuracy"))
    assert r.differences == pytest.approx((60.0 - 64.0, 61.0 - 65.0))   # best per seed: raw_w_ts


def test_negative_control_rows_follow_their_claim():
    claims = [_claim([(1, A), (-1, B)], cid="ts"), _claim([(1, C), (-1, D)], cid="raw")]
    main = _records({"spec_w_ts": [62.0, 63.0, 64.0], "spec_wo_ts": [60.0] * 3,
                     "raw_w_ts": [63.0, 64.0, 65.0], "raw_wo_ts": [60.0] * 3})
    control = _records({"spec_w_ts": [59.0, 61.0, 60.5], "spec_wo_ts": [60.0] * 3,       # effect gone
                        "raw_w_ts": [63.0, 64.0, 65.0], "raw_wo_ts": [60.0] * 3})        # effect survives
    results = evaluate(claims, main, control)
    assert [(r.claim_id, r.control, r.signal) for r in results] == [
        ("ts", False, False), ("ts", True, False), ("ts", True, True),
        ("raw", False, False), ("raw", True, False), ("raw", True, True)]
    assert [r.control_passes for r in results] == [None, True, None, None, False, None]
    s = summary(results)
    assert (s["claims"], s["reproduced"], s["controls"], s["controls_passing"], s["controls_failing"]) == (2, 2, 2, 1, 1)
    assert len(evaluate(claims, main)) == 2                   # no control records: no control rows


def test_teacher_signal_row_is_claim_minus_control_per_seed():
    claims = [_claim([(1, A), (-1, B)], cid="ts"), _claim([(1, C), (-1, D)], cid="raw")]
    main = _records({"spec_w_ts": [62.0, 63.0, 64.0], "spec_wo_ts": [60.0] * 3,
                     "raw_w_ts": [63.0, 64.0, 65.0], "raw_wo_ts": [60.0, 61.0, 60.0]})
    control = _records({"spec_w_ts": [59.0, 61.0, 60.5], "spec_wo_ts": [60.0] * 3,
                        "raw_w_ts": [63.0, 64.0, 65.0], "raw_wo_ts": [60.0, 61.0]})     # seed 2 missing
    ts, raw = (r for r in evaluate(claims, main, control) if r.signal)
    # ts: (62 - 60) - (59 - 60), ... = 3, 2, 3.5: the real signal beats the permuted one
    assert ts.differences == pytest.approx((3.0, 2.0, 3.5)) and ts.verdict == "reproduced"
    assert ts.control_passes is None and ts.arms.endswith(") - control")
    # raw: the same gain with the signal permuted, paired only on the seeds both rows have
    assert raw.units == ("seed 0", "seed 1") and raw.differences == pytest.approx((0.0, 0.0))
    assert raw.verdict == "inconclusive"
    s = summary(evaluate(claims, main, control))
    assert (s["signals"], s["signal_reproduced"], s["signal_inconclusive"]) == (2, 1, 1)
    md = markdown(evaluate(claims, main, control))
    assert "teacher signal over a permuted one: 1 of 2 helps" in md and "(the signal helps)" in md


def test_an_arm_with_the_same_models_in_claim_and_control_cancels_out_of_the_signal_row():
    # The one-hot baseline does not read the permuted switch: the control's records name the
    # same store keys, so it cancels out of the signal row and its (falling) curve does not
    # make the row unreadable; the TS students differ, so both count. An arm whose models
    # differ (another key) or are unknown (a record naming none) still counts.
    from replication.convergence import levelled_off

    def recs(values, keys):
        out = _records(values)
        for _, rec in out:
            rec.extra["systems"] = [{"key": f"{keys[rec.run]}-{rec.seed}"}]
        return out

    claims = [_claim([(1, A), (-1, B)], cid="ts")]
    values = {"spec_w_ts": [62.0, 63.0, 64.0], "spec_wo_ts": [60.0] * 3}
    main = recs(values, {"spec_w_ts": "ts", "spec_wo_ts": "onehot"})
    control = recs({"spec_w_ts": [59.0, 61.0, 60.5], "spec_wo_ts": [60.0] * 3},
                   {"spec_w_ts": "ts-permuted", "spec_wo_ts": "onehot"})
    flat, falling = levelled_off([2.0, 1.0, 1.0, 1.0]), levelled_off([2.0, 1.5, 1.0, 0.5])
    index = lambda ts: {("paper1/table6", run, (None, seed)): (curve,) for seed in range(3)
                        for run, curve in (("spec_w_ts", ts), ("spec_wo_ts", falling))}
    levelling = {"runs": index(flat), "control": index(flat)}
    claim, ctrl, signal = evaluate(claims, main, control, levelling=levelling)
    assert claim.levelled is False and ctrl.levelled is False             # the baseline still falls
    assert signal.cancelled == (1, 3) and signal.levelled is True         # ... but cancels here
    assert json.loads(to_json([signal]))["results"][0]["cancelled"] == [1, 3]
    row = next(line for line in markdown([signal]).splitlines() if line.startswith("| `ts`"))
    assert "B cancels (same models as D)" in row and "D cancels (same models as B)" in row
    # the baseline retrained for the control (another key): it counts again
    other = recs({"spec_w_ts": [59.0, 61.0, 60.5], "spec_wo_ts": [60.0] * 3},
                 {"spec_w_ts": "ts-permuted", "spec_wo_ts": "onehot-again"})
    signal = evaluate(claims, main, other, levelling=levelling)[2]
    assert signal.cancelled == () and signal.levelled is False
    # records that name no model: unknown, nothing cancels
    signal = evaluate(claims, _records(values), _records(values), levelling=levelling)[2]
    assert signal.cancelled == ()


def test_the_signal_row_says_how_closely_each_distilled_arm_fits_the_real_and_the_permuted_signal():
    # fits (claims_curves.fit_index): the TS student's last distillation loss, None for the
    # one-hot baseline; the row gives per arm (mean with the real signal, with the permuted one)
    # over the paired seeds, and nothing for an arm that cancels or has no teacher signal
    claims = [_claim([(1, A), (-1, B)], cid="ts")]
    main = _records({"spec_w_ts": [62.0, 63.0, 64.0], "spec_wo_ts": [60.0] * 3})
    control = _records({"spec_w_ts": [20.0, 21.0, 19.0], "spec_wo_ts": [60.0] * 3})
    fit = lambda ts: {("paper1/table6", run, (None, seed)): value for seed in range(3)   # noqa: E731
                      for run, value in (("spec_w_ts", (ts[seed],)), ("spec_wo_ts", (None,)))}
    fits = {"runs": fit([0.1, 0.2, 0.3]), "control": fit([1.0, 1.2, 1.4])}
    claim, ctrl, signal = evaluate(claims, main, control, fits=fits)
    assert claim.fit == () and ctrl.fit == ()                        # only the signal row carries it
    assert signal.fit[1] is None and signal.fit[0] == pytest.approx((0.2, 1.2))
    assert json.loads(to_json([signal]))["results"][0]["fit"][0] == pytest.approx([0.2, 1.2])
    md = markdown([claim, ctrl, signal])
    assert "Teacher signal fitted" in md and "A 0.2 / 1.2 (x0.17)" in md
    # a seed the control lacks a fit for does not enter the means
    fits["control"][("paper1/table6", "spec_w_ts", (None, 2))] = (None,)
    assert evaluate(claims, main, control, fits=fits)[2].fit[0] == pytest.approx((0.15, 1.1))
    # without fits the report has no such column
    assert "Teacher signal fitted" not in markdown(evaluate(claims, main, control))


def test_two_records_of_one_run_and_seed_are_an_error():
    recs = _records({"spec_w_ts": [62.0]}) + [("other/results.json", _records({"spec_w_ts": [61.0]})[0][1])]
    with pytest.raises(ClaimsStatsError, match=r"other/results.json: a second record of paper1/table6 spec_w_ts at seed 0"):
        values_by_run(recs, "accuracy")


def test_t_interval_needs_two_values():
    assert t_interval([1.0]) is None
    assert t_interval([1.0, 1.0]) == (1.0, 1.0, 1.0)


def test_report_markdown_json_and_forest_plot(tmp_path):
    claims = [_claim([(1, A), (-1, B)], cid="ts", published=1.67)]
    main = _records({"spec_w_ts": [62.0, 63.0, 64.0], "spec_wo_ts": [60.0] * 3})
    control = _records({"spec_w_ts": [59.0, 61.0, 60.5], "spec_wo_ts": [60.0] * 3})
    results = evaluate(claims, main, control)
    md = markdown(results)
    assert "1 of 1 claims reproduced" in md and "1 of 1 pass" in md
    assert "+3.00 [" in md and "+1.67" in md and "(control passes)" in md
    data = json.loads(to_json(results))
    assert data["results"][0]["verdict"] == "reproduced" and data["results"][1]["control_passes"] is True
    paths = write_report(results, tmp_path)
    assert paths["plot"].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "![forest plot](claims.png)" in paths["markdown"].read_text()


def test_the_harness_core_imports_no_paper_package():
    code = ("import sys, replication.claims_data, replication.claims_stats, replication.claims_report, "
            "replication.claims_curves, replication.convergence, replication.drivers.claims; "
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('paper1_ts', 'paper2_multirep')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
