"""Paper 1 table runner: the paper preset resolves and plans; a tiny demo table runs end to end."""

import json

import pytest

from paper1_ts import commands, tables
from paper1_ts.experiments import table_by_number
from paper1_ts.params import Paper1Params, deviations_from_paper, resolve_params
from paper1_ts.run import build_parser, main
from replication.check import check_records
from replication.records import find_records

# A demo run small enough for a unit test: 2 + 2 clips per class, 1 epoch per step, tiny nets.
TINY = {"data": {"train_per_class": 2, "eval_per_class": 2},
        "train": {"epochs": 1, "pool_epochs": 1, "gru_epochs": 1, "batch_size": 8},
        "models": {"raw_cnn": {"conv1_filters": 4, "res_filters": [4, 4, 4, 4, 4, 4, 4]},
                   "cnn_gru": {"conv1_filters": 4, "res_filters": [4, 4, 4], "res4_filters": 8,
                               "gru_units": 16}}}


def test_paper_preset_is_the_paper():
    params = resolve_params("paper")
    assert deviations_from_paper(params) == []
    assert (params.train.learning_rate, params.train.batch_size) == (1e-3, 40)
    assert params.models.raw_cnn.input_length == 479999
    assert params.models.cnn_gru.input_shape == (249, 256, 2)
    assert params.spec_features.output_shape(480000, 2) == (249, 256, 2)
    assert params.raw_features.output_shape(480000, 2) == (479999, 2)
    assert params.data.eval_split == "fold1_evaluate"


def test_demo_preset_deviates_and_fits_its_models():
    params = resolve_params("demo")
    devs = deviations_from_paper(params)
    assert any(d.startswith("data.dataset") for d in devs)
    assert params.spec_features.output_shape(64000, 2) == params.models.cnn_gru.input_shape
    assert params.raw_features.output_shape(64000, 2) == params.models.raw_cnn.input_shape


def test_paper_plan_shares_models_and_dry_run_prints_it(tmp_path, capsys):
    params = resolve_params("paper", {"results_root": str(tmp_path)})
    plan4 = tables.make_plan(table_by_number(4), params, "paper", {"fold1_train": 6122})
    assert len(plan4.jobs) == 8 and len(plan4.pending()) == 8
    # T plays no part in hidden-layer distillation; Table 5's output row is Table 4's T=5/20 s model.
    plan5 = tables.make_plan(table_by_number(5), params, "paper")
    assert plan5.systems[("output", 0)] == plan4.systems[("T5_teacher20s", 0)]
    text = tables.plan_text(plan4)
    assert "fold1_train 6122" in text and "(10 epochs" not in text and "50 (pool head) + 50 (GRU)" in text
    assert "15400 steps" in text         # ceil(6122 / 40) * (50 + 50)
    assert main(["--table", "6", "--preset", "paper", "--dry-run", "--results", str(tmp_path),
                 "--data-root", str(tmp_path / "absent")]) == 0
    out = capsys.readouterr().out
    assert "paper1/table6" in out and "dry run" in out and "6 to train" in out
    assert not list(tmp_path.rglob("results.json"))


def test_store_keys_depend_on_what_matters():
    a = resolve_params("paper")
    b = resolve_params("paper", {"train": {"verbose": 0}, "results_root": "elsewhere"})
    c = resolve_params("paper", {"train": {"gru_epochs": 7}})
    key = lambda p: tables.make_plan(table_by_number(1), p).jobs[1].key   # noqa: E731 (spec model)
    assert key(a) == key(b) != key(c)


def test_a_learning_rate_schedule_retrains_every_model_and_the_constant_one_keeps_old_keys():
    # register p1-lr-schedule: the constant rate leaves the field out of the description, so the
    # keys of models trained before the field existed still find them
    assert _retrained_jobs({"train": {"lr_schedule": "cosine"}}) == _jobs(lambda job: True)
    plan = tables.make_plan(table_by_number(6), resolve_params("paper"))
    assert all("lr_schedule" not in ref.description["train"] for ref in plan.jobs)


def _retrained_jobs(overlay: dict) -> set:
    """The Table 4-6 jobs whose store key the overlay of the paper preset changes
    (asserting the two plans have the same jobs)."""
    changed = set()
    for number in (4, 5, 6):
        plans = [tables.make_plan(table_by_number(number), p)
                 for p in (resolve_params("paper"), resolve_params("paper", overlay))]
        keys = [{ref.job: ref.key for ref in plan.jobs} for plan in plans]
        assert keys[0].keys() == keys[1].keys()
        changed |= {job for job, key in keys[0].items() if key != keys[1][job]}
    return changed


def _jobs(select) -> set:
    return {ref.job for number in (4, 5, 6)
            for ref in tables.make_plan(table_by_number(number), resolve_params("paper")).jobs if select(ref.job)}


def test_permuted_teacher_signal_never_shares_a_ts_model():
    # Negative control (register p1-teacher-signal): its students get their own store keys
    # and config fingerprint; the one-hot teachers and baselines do not depend on it.
    assert _retrained_jobs({"ts": {"teacher_signal": "permuted"}}) == _jobs(lambda job: job.ts is not None)
    permuted = resolve_params("paper", {"ts": {"teacher_signal": "permuted"}})
    fps = [tables.config_fingerprint(p) for p in (resolve_params("paper"), permuted)]
    assert fps[0]["hash"] != fps[1]["hash"]
    assert fps[1]["fields"]["ts.teacher_signal"] == "permuted"
    assert "ts.teacher_signal: 'permuted' (paper: 'matched')" in deviations_from_paper(permuted)


def test_eq3_as_printed_retrains_only_the_output_layer_students():
    # The claims harness's as_printed arms (register p1-temperature-form) share the
    # teachers, one-hot models and hidden-layer students with the faithful runs: only the
    # students that train on output-layer soft labels (Eq. (3)) change key.
    retrained = _retrained_jobs({"ts": {"teacher_mode": "as_printed"}})
    assert retrained and retrained == _jobs(lambda job: job.ts is not None and job.ts.point != "hidden")


def test_cli_needs_exactly_one_of_table_or_figure():
    with pytest.raises(SystemExit):
        main([])
    with pytest.raises(SystemExit):
        main(["--table", "1", "--figure", "1"])
    assert build_parser().parse_args(["--figure", "2", "--preset", "demo"]).figure == "2"


def test_tiny_demo_table1_end_to_end(tiny_table1):
    results, code, printed = tiny_table1
    records = find_records([results / "paper1" / "table1"])
    assert code == 0
    assert sorted(r.run for _, r in records) == ["ensemble_improved", "raw_improved", "spec_improved"]
    for path, rec in records:
        assert rec.preset == "demo" and not rec.faithful and rec.deviations
        assert 0.0 <= rec.metrics["accuracy"] <= 1.0
        assert rec.extra["evaluated_clips"] == 20
        assert rec.extra["config"]["fields"]["data.train_per_class"] == 2
        assert (path.parent / "config.yaml").is_file()
    # The recorded demo reference (data/reference/demo) comes from the full demo preset: the tiny
    # config is not comparable with it, so the checker says so instead of "regressed" or "within".
    assert "no reference (config differs" in printed
    report = check_records(records)
    assert report.exit_code == 0 and report.rows
    assert all(r.verdict == "no reference" and r.reason.startswith("config differs") for r in report.rows)
    assert "data.train_per_class: 2 (reference: 0)" in report.rows[0].reason
    ens = next(r for _, r in records if r.run == "ensemble_improved")
    assert len(ens.extra["systems"]) == 2


@pytest.mark.slow
def test_tiny_demo_rerun_reuses_the_store(tmp_path):
    args = build_parser().parse_args(["--table", "1", "--preset", "demo", "--results", str(tmp_path)])
    assert commands.run_result_table(args, extra=TINY) == 0
    # Rerun: models come from the store, finished records are refused without --overwrite.
    assert commands.run_result_table(args, extra=TINY) == 2
    store = tmp_path / "paper1" / "_store"
    entries = sorted(p.name for p in store.iterdir())
    args.overwrite = True
    assert commands.run_result_table(args, extra=TINY) == 0
    assert sorted(p.name for p in store.iterdir()) == entries
    job = json.loads((store / entries[0] / "job.json").read_text())
    assert job["description"]["seed"] == 0


@pytest.mark.slow
@pytest.mark.parametrize("number", ["4", "5", "6"])
def test_tiny_demo_tables_end_to_end(tmp_path, number):
    args = build_parser().parse_args(["--table", number, "--preset", "demo", "--results", str(tmp_path)])
    assert commands.run_result_table(args, extra=TINY) in (0, 1)
    runs = {r.run for _, r in find_records([tmp_path])}
    assert runs == {r.name for r in table_by_number(number).runs}


def test_params_reject_bad_values():
    with pytest.raises(ValueError, match="seeds"):
        Paper1Params(seeds=0)
    with pytest.raises(ValueError, match="preset"):
        resolve_params("gpu")


def _preset_copy(tmp_path, source: str, name: str, changes: dict):
    """A user's copy of presets/<source>.yaml under another name, with nested changes."""
    import yaml
    from paper1_ts.params import preset_path
    from replication.drivers.claims import merge
    data = merge(yaml.safe_load(preset_path(source).read_text()), changes)
    path = tmp_path / f"{name}.yaml"
    path.write_text(yaml.safe_dump(data))
    return str(path)


def test_reference_choice_follows_the_config_not_the_preset_name(tmp_path):
    """Issue 17: a renamed demo preset keeps the demo fingerprint (so it meets the demo
    reference); one switch changed gives another fingerprint (no reference); a copied
    paper preset with one reading changed names the key and its register entry."""
    demo = tables.config_fingerprint(resolve_params("demo"))
    renamed = tables.config_fingerprint(resolve_params(_preset_copy(tmp_path, "demo", "my_demo", {})))
    assert renamed == demo
    switched = tables.config_fingerprint(resolve_params(
        _preset_copy(tmp_path, "demo", "my_demo2", {"ts": {"teacher_mode": "as_printed"}})))
    assert switched["hash"] != demo["hash"] and switched["fields"]["ts.teacher_mode"] == "as_printed"
    assert tables.paper_diff(resolve_params("paper")) == {"keys": [], "decisions": []}
    mine = tables.paper_diff(resolve_params(_preset_copy(tmp_path, "paper", "my_paper",
                                                         {"ts": {"teacher_mode": "as_printed"}})))
    assert mine == {"keys": ["ts.teacher_mode: 'as_printed' (paper: 'hinton')"],
                    "decisions": ["p1-temperature-form"]}
