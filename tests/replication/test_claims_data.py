"""The papers' claims as data (data/claims/*.yaml, replication/claims_data.py): every arm is
a run of a registered table, every published effect equals the one computed by hand from
the published cells, and a malformed file is an error naming the file and the key."""

from __future__ import annotations

import textwrap

import pytest
import yaml

import paper1_ts.experiments  # noqa: F401  (registers paper 1's tables)
import paper2_multirep.experiments as p2_experiments
from replication import registry
from replication.claims_data import ClaimsError, default_claims_dir, load_claims, load_claims_file, tables_needed
from replication.published import load_published

PUBLISHED = load_published()


def _registered_runs(table: str) -> set[str]:
    spec = registry.build(table)
    if table.startswith("paper1/"):
        return {run.name for run in spec.runs}
    return {run.run for run in p2_experiments.table_runs(spec)}


def _arm_value(arm: dict, metric: str) -> float:
    runs = arm["best_of"] if "best_of" in arm else [arm["run"]]
    return max(PUBLISHED.lookup(arm["table"], run, metric).value for run in runs)


def test_every_arm_is_a_run_of_a_registered_table():
    claims = load_claims()
    assert {c.paper for c in claims} == {"paper1", "paper2"}
    for table in tables_needed(claims):
        assert table in registry.names(), table
    for claim in claims:
        for arm in claim.arms:
            missing = set(arm.runs) - _registered_runs(arm.table)
            assert not missing, f"{claim.id}: {arm.table} has no run(s) {missing}"


def test_published_effects_equal_the_cells_by_hand():
    by_id = {c.id: c for c in load_claims()}
    checked = 0
    for path in sorted(default_claims_dir().glob("*.yaml")):
        for raw in yaml.safe_load(path.read_text())["claims"]:
            m = raw["metric"]
            if raw["kind"] == "difference":
                want = _arm_value(raw["higher"], m) - _arm_value(raw["lower"], m)
            else:
                big, small = raw["larger_gain"], raw["smaller_gain"]
                want = (_arm_value(big["higher"], m) - _arm_value(big["lower"], m)) \
                    - (_arm_value(small["higher"], m) - _arm_value(small["lower"], m))
            assert by_id[raw["id"]].published == pytest.approx(want, abs=1e-9), raw["id"]
            assert want > 0
            checked += 1
    assert checked == len(by_id)
    # a few written out from the printed tables
    assert by_id["p1-ts-beats-onehot-spec"].published == pytest.approx(74.26 - 72.59)
    assert by_id["p2-ii-g1-weaker-gains-more"].published == pytest.approx((87.19 - 84.18) - (88.31 - 88.01))
    assert by_id["p2-vii-g2-ensemble-beats-best-distilled"].published == pytest.approx(70.29 - 68.19)


def test_the_issues_minimum_claims_are_there():
    pairs = {(c.terms[0][1].table, c.terms[0][1].runs, c.terms[1][1].runs) for c in load_claims()
             if c.kind == "difference"}
    for table, higher, lower in [
            ("paper1/table6", ("spec_w_ts",), ("spec_wo_ts",)),
            ("paper1/table6", ("raw_w_ts",), ("raw_wo_ts",)),
            ("paper1/table6", ("ensemble_w_ts",), ("ensemble_wo_ts",)),
            ("paper1/table4", ("T5_teacher20s",), ("T5_teacher10s",)),
            ("paper1/table4", ("T5_teacher20s",), ("T1_teacher20s",)),
            ("paper1/table5", ("hidden",), ("output",))]:
        assert (table, higher, lower) in pairs
    claims = load_claims()
    # every distilled branch of Table VII against its independent twin
    vii = [c for c in claims if c.printed == ("VII",) and c.id.endswith("distilled-beats-independent")]
    assert len(vii) == 4
    assert any(c.kind == "gain_difference" for c in claims)
    assert any(c.terms[1][1].best_of for c in claims)
    assert all(c.control for c in claims if not any(a.variant for a in c.arms))


def test_every_distilled_beats_independent_claim_has_its_equal_budget_twin():
    claims = load_claims()
    faithful = {c.id: c for c in claims if c.id.endswith("-distilled-beats-independent")}
    twins = {c.id: c for c in claims if c.id.endswith("-distilled-beats-independent-equal-budget")}
    assert len(faithful) == 28 and {i + "-equal-budget" for i in faithful} == set(twins)
    assert tables_needed(list(faithful.values())) == tables_needed(claims, "equal_budget")
    for cid, claim in faithful.items():
        twin = twins[cid + "-equal-budget"]
        (s1, hi), (s2, lo) = twin.terms
        assert (s1, s2) == (1, -1) and hi == claim.terms[0][1] and not hi.variant
        assert lo.variant == "equal_budget" and (lo.table, lo.runs) == (claim.terms[1][1].table, claim.terms[1][1].runs)
        assert twin.published == claim.published and not twin.control
        assert "Q epochs" in twin.note and "as many passes" in twin.statement
        assert lo.label.endswith("[equal budget]")


GOOD = """\
    schema: 1
    paper: paper1
    claims:
      - id: c1
        statement: TS beats one-hot.
        kind: difference
        metric: accuracy
        higher: {table: paper1/table6, run: spec_w_ts}
        lower: {table: paper1/table6, run: spec_wo_ts}
        control: true
"""


def _write(tmp_path, text, name="claims.yaml"):
    path = tmp_path / name
    path.write_text(textwrap.dedent(text))
    return path


def test_a_good_file_loads(tmp_path):
    (claim,) = load_claims_file(_write(tmp_path, GOOD))
    assert claim.published == pytest.approx(74.26 - 72.59)
    assert claim.printed == ("6",) and claim.arm_text() == "paper1/table6 spec_w_ts - paper1/table6 spec_wo_ts"


@pytest.mark.parametrize("change, message", [
    (("control: true", "control: true\n        colour: red"), r"claims\[0\] \(id 'c1'\): unknown key\(s\) colour"),
    (("paper1/table6, run: spec_w_ts", "paper1/table9, run: spec_w_ts"), r"claims\[0\] \(id 'c1'\)\.higher\.table: unknown table 'paper1/table9'"),
    (("run: spec_w_ts", "run: spec_with_ts"), r"\.higher: table 'paper1/table6' has no published run 'spec_with_ts'"),
    (("{table: paper1/table6, run: spec_wo_ts}", "{table: paper1/table1, run: spec_jung}"), r"\.lower: 'paper1/table1' run 'spec_jung' is published only"),
    (("{table: paper1/table6, run: spec_wo_ts}", "{table: paper2/tableI, run: vgg_mfcc}"), r"\.lower\.table: 'paper2/tableI' is not a table of paper1"),
    (("metric: accuracy", "metric: f1"), r"\.metric: 'f1' unknown"),
    (("kind: difference", "kind: ratio"), r"\.kind: 'ratio' unknown"),
    (("control: true", "control: yes please"), r"\.control: must be true or false"),
    (("higher: {table: paper1/table6, run: spec_w_ts}\n        lower: {table: paper1/table6, run: spec_wo_ts}",
      "higher: {table: paper1/table6, run: spec_wo_ts}\n        lower: {table: paper1/table6, run: spec_w_ts}"),
     r"published cells give -1\.67 points, against the claimed direction"),
])
def test_malformed_claims_name_the_file_and_key(tmp_path, change, message):
    path = _write(tmp_path, GOOD.replace(*change))
    with pytest.raises(ClaimsError, match=message) as err:
        load_claims_file(path)
    assert str(path) in str(err.value)


EQUAL = """\
    schema: 1
    paper: paper2
    claims:
      - id: c2
        statement: Distilled beats an equal-budget twin.
        kind: difference
        metric: accuracy
        higher: {table: paper2/tableVII, run: resnet_logmel64_distilled_with_vgg_mfcc}
        lower: {table: paper2/tableVII, run: resnet_logmel64, variant: equal_budget}
        control: false
"""


def test_an_equal_budget_arm_loads_with_the_printed_cells(tmp_path):
    (claim,) = load_claims_file(_write(tmp_path, EQUAL))
    assert claim.terms[1][1].variant == "equal_budget" and claim.terms[0][1].variant == ""
    cell = lambda run: PUBLISHED.lookup("paper2/tableVII", run, "accuracy").value
    assert claim.published == pytest.approx(cell("resnet_logmel64_distilled_with_vgg_mfcc") - cell("resnet_logmel64"))


@pytest.mark.parametrize("change, message", [
    (("variant: equal_budget", "variant: twice"),
     r"claims\[0\] \(id 'c2'\)\.lower\.variant: 'twice' unknown \(choose from equal_budget, as_printed\)"),
    (("control: false", "control: true"),
     r"\(id 'c2'\)\.control: a claim with a variant arm has no negative control"),
    (("run: resnet_logmel64, variant", "run: resnet_logmel64, colour: red, variant"),
     r"\.lower: unknown key\(s\) colour"),
])
def test_malformed_variants_name_the_file_and_key(tmp_path, change, message):
    path = _write(tmp_path, EQUAL.replace(*change))
    with pytest.raises(ClaimsError, match=message) as err:
        load_claims_file(path)
    assert str(path) in str(err.value)


def test_the_equal_budget_variant_is_paper2_only(tmp_path):
    path = _write(tmp_path, GOOD.replace("run: spec_wo_ts}", "run: spec_wo_ts, variant: equal_budget}")
                  .replace("control: true", "control: false"))
    with pytest.raises(ClaimsError, match=r"\.lower\.variant: 'equal_budget' exists for paper2 only, not paper1"):
        load_claims_file(path)


def test_the_as_printed_variant_is_paper1_only(tmp_path):
    path = _write(tmp_path, EQUAL.replace("variant: equal_budget", "variant: as_printed"))
    with pytest.raises(ClaimsError, match=r"\.lower\.variant: 'as_printed' exists for paper1 only, not paper2"):
        load_claims_file(path)


def test_every_as_printed_claim_twins_a_faithful_output_layer_claim():
    # Eq. (3) enters only the output-layer soft labels: each twin flips the TS arms of its
    # faithful claim (same id without -as-printed, same runs and printed cells) to the
    # printed reading and keeps the one-hot arm faithful
    claims = {c.id: c for c in load_claims()}
    twins = [c for c in claims.values() if c.id.endswith("-as-printed")]
    assert len(twins) == 3
    for twin in twins:
        faithful = claims[twin.id[:-len("-as-printed")]]
        assert twin.published == faithful.published and not twin.control and faithful.control
        for (sign, arm), (f_sign, f_arm) in zip(twin.terms, faithful.terms):
            assert (sign, arm.table, arm.runs) == (f_sign, f_arm.table, f_arm.runs)
            assert arm.variant == ("as_printed" if arm.table == "paper1/table4" else "")
    assert tables_needed(twins, "as_printed") == ["paper1/table4"]


def test_duplicate_ids_across_files_are_refused(tmp_path):
    a, b = _write(tmp_path, GOOD, "a.yaml"), _write(tmp_path, GOOD, "b.yaml")
    with pytest.raises(ClaimsError, match=r"b\.yaml: duplicate claim id 'c1' \(also in .*a\.yaml\)"):
        load_claims([a, b])
