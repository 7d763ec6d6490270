"""Every switch the register of decisions names does what it says (issue 13).

For each entry of replication/decisions/*.yaml whose `config_key` names dataclass fields
(replication.decisions._switch_paths), FLIPS says how to flip each field and what must
change: the resolved config and the store key of the jobs that depend on it (paper 1:
paper1_ts.tables.make_plan; paper 2: paper2_multirep.tables.plan_table; nothing is
trained or read). A register entry that names a field this file does not flip fails
`test_every_named_switch_is_flipped`, so a new switch comes with its check.

Kinds of flip:
  "store"    a config field: the plan's store keys change (`changes`: which job kinds of
             paper 2 must change, `same`: which must not);
  "rows"     a setting the table's rows carry (paper 1 TSSpec): rows that differ in it
             have different store keys;
  "scoring"  applied after the store (paper 1's SVM back-end on stored embeddings): store
             keys equal, config fingerprint differs, and the back-end's scores differ;
  "figure"   paper 1 Figure 1's model choice: the figure plans a different model;
  "code"     a FeatureParams field of paper 2 set in shared.features.presets.paper2_params
             (not a preset field): the branch's store key changes with it;
  "process"  shared.determinism.seed_everything's op-determinism switch: TensorFlow's state;
  "kernel"   which kernel computes the same arithmetic (the batch-normalisation one): the
             layers the builders make change, store keys and fingerprints do not (models are
             shared across kernels as across CPUs and placements).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

import keras
import numpy as np
import pytest

from paper1_ts import tables as p1tables
from paper1_ts.experiments import table_by_number as p1_table
from paper1_ts.params import paper_diff as p1_paper_diff
from paper1_ts.params import resolve_params as p1_resolve
from paper2_multirep import table_backend
from paper2_multirep import tables as p2tables
from paper2_multirep.experiments import table_by_number as p2_table
from replication.decisions import _switch_paths, load_decisions
from shared.config import override


@dataclass(frozen=True)
class Flip:
    switch: str                    # the field as the entry names it (class name dropped)
    kind: str                      # store | rows | scoring | figure | code | process
    changes: Any = None            # nested overrides (paper 1 params / paper 2 experiment params)
    table: str = ""                # table planned: paper 1 "1", "4", "5", "6"; paper 2 "I".."VII"
    paper: str = "paper1"          # whose params the override applies to
    changed: tuple = ()            # paper 2: job kinds whose keys must change (default: some job)
    same: tuple = ()               # paper 2: job kinds whose keys must stay
    value: Any = None              # kind "code" / "rows": the flipped value or the row setting


def _p1(switch, changes, table="1", kind="store"):
    return Flip(switch, kind, changes, table)


def _p2(switch, changes, table="VII", changed=(), same=()):
    return Flip(switch, "store", changes, table, "paper2", changed, same)


def _train(path: str, value) -> dict:
    """Paper-2 training override {"training_overrides": {"a": {"b": value}}} from "a.b"."""
    out: dict = value
    for part in reversed(path.split(".")):
        out = {part: out}
    return {"training_overrides": out}


def _code(switch, value, table="VII", representations=()):
    """`representations`: the only ones whose jobs' keys must change (default: every job)."""
    return Flip(switch, "code", None, table, "paper2", changed=representations, value=value)


DISTILLED = dict(changed=("cyclic",), same=("independent",))   # read only by distillation
BOTH = dict(changed=("cyclic", "independent"))

FLIPS: dict[str, tuple[Flip, ...]] = {
    # ---------------------------------------------------------------- paper 1
    "p1-temperature-form": (_p1("teacher_mode", {"ts": {"teacher_mode": "as_printed"}}, "4"),),
    "p1-teacher-signal": (_p1("teacher_signal", {"ts": {"teacher_signal": "permuted"}}, "4"),),
    "p1-ts-loss-composition": (
        Flip("point", "rows", table="5"),
        _p1("output_weight", {"ts": {"output_weight": 0.5}}, "5"),
        _p1("hidden_weight", {"ts": {"hidden_weight": 2.0}}, "5")),
    "p1-teacher-training": (
        _p1("teacher_train_input", {"ts": {"teacher_train_input": "base"}}, "4"),
        Flip("teacher_segments", "rows", table="4")),
    "p1-epochs-checkpoint": (
        _p1("epochs", {"train": {"epochs": 7}}),
        _p1("learning_rate", {"train": {"learning_rate": 0.01}})),
    "p1-lr-schedule": (_p1("lr_schedule", {"train": {"lr_schedule": "cosine"}}),),
    "p1-two-step-epochs": (
        _p1("pool_epochs", {"train": {"pool_epochs": 7}}),
        _p1("gru_epochs", {"train": {"gru_epochs": 7}})),
    "p1-svm-backend": (
        _p1("kernel", {"svm": {"kernel": "rbf"}}, kind="scoring"),
        _p1("c", {"svm": {"c": 0.01}}, kind="scoring"),
        _p1("standardise", {"svm": {"standardise": False}}, kind="scoring")),
    "p1-res-block-order": tuple(
        _p1(f"models.{net}.{name}", {"models": {net: {name: value}}})
        for net in ("raw_cnn", "cnn_gru") for name, value in (("block_order", "post"), ("shortcut_kernel", 3))),
    "p1-leaky-relu": tuple(_p1(f"models.{net}.leaky_slope", {"models": {net: {"leaky_slope": 0.01}}})
                           for net in ("raw_cnn", "cnn_gru")),
    "p1-res4-filters": (_p1("models.cnn_gru.res4_filters", {"models": {"cnn_gru": {"res4_filters": 120}}}),),
    "p1-embedding-point": tuple(
        _p1(f"models.{net}.embedding_activation", {"models": {net: {"embedding_activation": "leaky_relu"}}})
        for net in ("raw_cnn", "cnn_gru")),
    "p1-spectrogram": tuple(
        _p1(name, {"spec_features": {name: value}})
        for name, value in (("padding", "center"), ("max_bins", 200), ("kind", "log_power_spectrogram"),
                            ("trim_frames", [1, 0]), ("pre_emphasis", 0.97))),
    "p1-figure1": (Flip("figure1_model", "figure", {"figure1_model": "baseline"}),),
    # ---------------------------------------------------------------- paper 2
    "p2-train-crops": (_p2("data.crop_frames", {"data": {"crop_frames": 100}}, **BOTH),),
    "p2-eval-crops": (_p2("data.eval_hop_frames", {"data": {"eval_hop_frames": 150}}, **BOTH),),
    "p2-mono-downmix": (_p2("data.downmix", {"data": {"downmix": False}}, **BOTH),),
    "p2-demo-dataset": (_p2("data.dataset", {"data": {"dataset": "demo"}}, **BOTH),),
    "p2-fsdkaggle-train-set": (_p2("data.verified_only", {"data": {"verified_only": True}}, "I",
                                   changed=("independent",)),),
    "p2-features": tuple(_code(name, value) for name, value in (
        ("fft_length", 8192), ("window", "hamming"), ("padding", "none"), ("fmin", 20.0), ("fmax", 8000.0),
        ("mel_htk", True), ("mel_norm", None), ("log_amin", 1e-5), ("log_top_db", 80.0), ("n_mfcc", 40))),
    "p2-cqt": tuple(_code(name, value) for name, value in (
        ("cqt_bins", 72), ("cqt_bins_per_octave", 24), ("cqt_fmin", 50.0), ("hop_seconds", 0.02))),
    "p2-deltas": (_code("deltas", False), _code("delta_width", 5)),
    # Table V: logMel and CQT jobs; only the CQT ones depend on the transform
    "shared-cqt-impl": (_code("cqt_impl", "librosa", "V", representations=("cqt",)),),
    "p2-kl-direction": (
        _p2("cyclic.kl_direction", _train("cyclic.kl_direction", "reverse"), **DISTILLED),
        _p2("cyclic.t_squared", _train("cyclic.t_squared", True), **DISTILLED),
        _p2("cyclic.kl_weight", _train("cyclic.kl_weight", 0.5), **DISTILLED)),
    "p2-temperature": (_p2("cyclic.temperature", _train("cyclic.temperature", 4.0), **DISTILLED),),
    "p2-epoch-accounting": (
        _p2("cyclic.epoch_unit", _train("cyclic.epoch_unit", "pass"), changed=("cyclic",)),
        _p2("cyclic.independent_budget", _train("cyclic.independent_budget", "passes"),
            changed=("independent",), same=("cyclic",))),
    "p2-lr-schedule": (
        _p2("optim.schedule", _train("optim.schedule", "constant"), **BOTH),
        _p2("optim.eta_min", _train("optim.eta_min", 1e-5), **BOTH)),
    "p2-sgd-momentum": (
        _p2("optim.momentum", _train("optim.momentum", 0.5), **BOTH),
        _p2("optim.weight_decay", _train("optim.weight_decay", 1e-4), **BOTH)),
    "p2-mixup": (
        _p2("mixup.alpha", _train("mixup.alpha", 0.4), **BOTH),
        _p2("mixup.mix_soft_labels", _train("mixup.mix_soft_labels", False), changed=("cyclic",)),
        _p2("mixup.enabled", _train("mixup.enabled", False), **BOTH)),
    "p2-soft-label-crops": (
        _p2("cyclic.soft_label_crops", _train("cyclic.soft_label_crops", "one"), **DISTILLED),
        _p2("cyclic.soft_label_average", _train("cyclic.soft_label_average", "logits"), **DISTILLED)),
    "p2-imagenet-weights": (
        _p2("branch.weights", _train("branch.weights", "none"), **BOTH),
        _p2("branch.weights_path", _train("branch.weights_path", "elsewhere/vgg19_notop.h5"), **BOTH),
        _p2("branch.require_weights", _train("branch.require_weights", True), **BOTH)),
    "p2-input-size": (
        _p2("branch.input_policy", _train("branch.input_policy", "resize"), **BOTH),
        _p2("branch.resize_to", _train("branch.resize_to", [256, 256]), **BOTH)),
    "p2-branch-head": (
        _p2("branch.head_hidden", _train("branch.head_hidden", 128), **BOTH),
        _p2("branch.dropout", _train("branch.dropout", 0.5), **BOTH)),
    "p2-aggregate-signal": (_p2("cyclic.aggregate_signal", _train("cyclic.aggregate_signal", "permuted"),
                                **DISTILLED),),
    # ---------------------------------------------------------------- both papers
    "both-feature-cache-dtype": (
        _p1("data.cache_dtype", {"data": {"cache_dtype": "float32"}}),
        _p2("data.cache_dtype", {"data": {"cache_dtype": "float32"}}, **BOTH)),
    "shared-precision": (
        _p1("distribute.precision", {"distribute": {"precision": "mixed_bfloat16"}}),
        _p2("distribute.precision", {"distribute": {"precision": "mixed_bfloat16"}}, **BOTH)),
    "shared-fused-bn": (Flip("distribute.batch_norm", "kernel", paper="both"),),
    "shared-determinism": (Flip("op_determinism", "process", paper="both"),),
}

CASES = [pytest.param(entry, flip, id=f"{entry}:{flip.paper}:{flip.switch}")
         for entry, flips in FLIPS.items() for flip in flips]


def test_every_named_switch_is_flipped():
    """Each field a register entry names is flipped here, and nothing else."""
    entries = {e.id: e for e in load_decisions()}
    for entry in entries.values():
        named = sorted(set(_switch_paths(entry.config_key)))
        flipped = sorted({f.switch for f in FLIPS.get(entry.id, ())})
        assert named == flipped, (f"{entry.source}: entry {entry.id} names switches {named} "
                                  f"(config_key {entry.config_key!r}); this test flips {flipped}")
    assert not set(FLIPS) - set(entries), f"FLIPS names entries the register lacks: {set(FLIPS) - set(entries)}"


# ---------------------------------------------------------------------------- paper 1
def _p1_params(changes=None):
    params = p1_resolve("paper", {"results_root": "unused-results", "data": {"root": "no-such-data-root"}})
    return override(params, changes, source="test flip") if changes else params


def _p1_keys(params, table: str) -> dict[tuple[str, str], str]:
    plan = p1tables.make_plan(p1_table(table), params, warn=lambda line: None)
    return {(run, ref.job.label): ref.key for (run, _seed), refs in plan.systems.items() for ref in refs}


def _check_p1_store(entry, flip):
    base, flipped = _p1_params(), _p1_params(flip.changes)
    fp_base, fp_flip = p1tables.config_fingerprint(base), p1tables.config_fingerprint(flipped)
    assert fp_base["hash"] != fp_flip["hash"], f"{entry}: {flip.switch} does not reach the config fingerprint"
    keys, keys_flipped = _p1_keys(base, flip.table), _p1_keys(flipped, flip.table)
    assert keys.keys() == keys_flipped.keys()
    changed = [k for k in keys if keys[k] != keys_flipped[k]]
    assert changed, f"{entry}: flipping {flip.switch} changes no store key of paper 1 table {flip.table}"
    # The record names the entry when the field departs from the paper (fields the paper
    # does not state, such as epochs, are no deviation).
    diff = p1_paper_diff(flipped)
    if diff["keys"]:
        assert entry in diff["decisions"], f"{entry}: paper_diff {diff} does not name the entry"


def _check_p1_rows(entry, flip):
    plan = p1tables.make_plan(p1_table(flip.table), _p1_params(), warn=lambda line: None)
    students = {}
    for (run, _seed), refs in plan.systems.items():
        for ref in refs:
            if ref.job.ts is not None:
                students.setdefault(getattr(ref.job.ts, flip.switch), set()).add((ref.job.ts.temperature, ref.key))
    assert len(students) >= 2, f"{entry}: table {flip.table}'s rows do not vary {flip.switch}"
    # rows that differ only in this setting (same T) are different models
    by_t: dict = {}
    for value, pairs in students.items():
        for t, key in pairs:
            by_t.setdefault(t, {})[value] = key
    compared = [d for d in by_t.values() if len(d) >= 2]
    assert compared, f"{entry}: no two rows of table {flip.table} differ only in {flip.switch}"
    for keys in compared:
        assert len(set(keys.values())) == len(keys), f"{entry}: rows {keys} share a store key"


def _check_p1_scoring(entry, flip):
    from paper1_ts import backend_svm as svm
    base, flipped = _p1_params(), _p1_params(flip.changes)
    assert p1tables.config_fingerprint(base)["hash"] != p1tables.config_fingerprint(flipped)["hash"]
    assert _p1_keys(base, "1") == _p1_keys(flipped, "1"), "the SVM is fitted after the store"
    rng = np.random.default_rng(0)
    labels = np.repeat(np.arange(3), 20)
    vectors = rng.normal(size=(60, 8)) * np.linspace(0.1, 10.0, 8) + labels[:, None] * 0.7
    train = svm.Embeddings(vectors[::2], labels[::2], np.arange(30))
    test = svm.Embeddings(vectors[1::2], labels[1::2], np.arange(30))
    a = svm.svm_backend(train, test, base.svm, 3, seed=0)
    b = svm.svm_backend(train, test, flipped.svm, 3, seed=0)
    assert not np.allclose(a, b, atol=1e-4), f"{entry}: {flip.switch} does not change the SVM scores"


def _check_p1_figure(entry, flip, monkeypatch):
    from paper1_ts import figures
    planned = []
    real = p1tables.make_plan

    def capture(*args, **kwargs):
        planned.append(real(*args, **kwargs))
        return planned[-1]

    monkeypatch.setattr(p1tables, "make_plan", capture)
    for params in (_p1_params(), _p1_params(flip.changes)):
        assert figures.figure1(params, "paper", dry_run=True) is None
    assert [len(p.jobs) for p in planned] == [1, 1]
    assert planned[0].jobs[0].key != planned[1].jobs[0].key, f"{entry}: Figure 1 plans the same model"
    assert [p.jobs[0].job.input_segments for p in planned] == [2, 1]


# ---------------------------------------------------------------------------- paper 2
def _p2_params(changes=None):
    params = p2tables.resolve_params("paper")
    return override(params, changes, source="test flip") if changes else params


def _p2_keys(params, table: str, tmp_path) -> dict[tuple[str, str], str]:
    plan = p2tables.plan_table(p2_table(table), params, seeds=1, data_root=str(tmp_path / "no-data"),
                               results_root=str(tmp_path / "results"), require_data=False)
    return {(job.kind, " + ".join(b.key for b in job.branches)): job.key for job in plan.jobs}


def _check_p2_store(entry, flip, tmp_path):
    base, flipped = _p2_params(), _p2_params(flip.changes)
    assert backend_or_config(base) != backend_or_config(flipped), f"{entry}: {flip.switch} changes no setting"
    keys, keys_flipped = _p2_keys(base, flip.table, tmp_path), _p2_keys(flipped, flip.table, tmp_path)
    assert keys.keys() == keys_flipped.keys()
    changed_kinds = {kind for (kind, branches) in keys if keys[(kind, branches)] != keys_flipped[(kind, branches)]}
    assert changed_kinds, f"{entry}: flipping {flip.switch} changes no store key of paper 2 table {flip.table}"
    for kind in flip.changed:
        assert kind in changed_kinds, f"{entry}: {flip.switch} leaves the {kind} jobs' keys unchanged"
    for kind in flip.same:
        assert kind not in changed_kinds, f"{entry}: {flip.switch} retrains the {kind} jobs needlessly"


def backend_or_config(params) -> dict:
    """The resolved experiment config plus the training params it resolves to (flat)."""
    from replication.fingerprint import flatten
    return {**flatten(params), **flatten(table_backend.training_params(params), "training.")}


def _check_p2_code(entry, flip, tmp_path, monkeypatch):
    from shared.features.params import FeatureParams
    real = table_backend.feature_params
    keys = _p2_keys(_p2_params(), flip.table, tmp_path)

    def flipped(representation, sample_rate, downmix=False):
        fp = real(representation, sample_rate, downmix)
        assert hasattr(fp, flip.switch), f"{entry}: FeatureParams has no field {flip.switch}"
        assert getattr(fp, flip.switch) != flip.value, f"{entry}: {flip.switch} is already {flip.value!r}"
        return FeatureParams(**{**{f: getattr(fp, f) for f in fp.__dataclass_fields__}, flip.switch: flip.value})

    monkeypatch.setattr(table_backend, "feature_params", flipped)
    keys_flipped = _p2_keys(_p2_params(), flip.table, tmp_path)
    assert keys.keys() == keys_flipped.keys()
    if not flip.changed:
        assert all(keys[k] != keys_flipped[k] for k in keys), f"{entry}: {flip.switch} does not reach the store key"
        return

    def uses(key):   # the job has a branch on one of flip.changed ("<network>_<representation>")
        return any(b.rsplit("_", 1)[1] in flip.changed for b in key[1].split(" + "))
    assert any(uses(k) for k in keys) and not all(uses(k) for k in keys), f"{entry}: table {flip.table}"
    for k in keys:
        if uses(k):
            assert keys[k] != keys_flipped[k], f"{entry}: {flip.switch} does not reach the key of {k}"
        else:
            assert keys[k] == keys_flipped[k], f"{entry}: {flip.switch} retrains {k} needlessly"


def _check_process(entry, flip):
    from shared.determinism import DeterminismParams, op_determinism_enabled, seed_everything, set_op_determinism
    before = op_determinism_enabled()
    try:
        seed_everything(DeterminismParams(op_determinism=False))
        assert not op_determinism_enabled()
        seed_everything(DeterminismParams(op_determinism=True))
        assert op_determinism_enabled()
    finally:
        set_op_determinism(before)


def _check_kernel(entry, flip, tmp_path):
    from paper1_ts.model_params import demo_params
    from paper1_ts.models import build_cnn_gru
    from shared.distribute import DistributeParams, make_strategy
    from shared.fused_bn import FusedBatchNormalization, batch_norm_layers
    kinds = {}
    try:
        for value in ("keras", "fused"):
            make_strategy(DistributeParams(**{flip.switch.split(".")[1]: value}))
            kinds[value] = {type(layer) for layer in batch_norm_layers(build_cnn_gru(demo_params().cnn_gru))}
    finally:
        make_strategy(DistributeParams())
    assert kinds == {"keras": {keras.layers.BatchNormalization}, "fused": {FusedBatchNormalization}}, entry
    changes = {"distribute": {"batch_norm": "keras"}}
    base, flipped = _p1_params(), _p1_params(changes)
    assert p1tables.config_fingerprint(base) == p1tables.config_fingerprint(flipped), entry
    assert _p1_keys(base, "6") == _p1_keys(flipped, "6"), entry
    assert _p2_keys(_p2_params(), "VII", tmp_path) == _p2_keys(_p2_params(changes), "VII", tmp_path), entry


@pytest.mark.parametrize("entry, flip", CASES)
def test_switch_changes_config_and_store_key(entry, flip, tmp_path, monkeypatch):
    if flip.kind == "store" and flip.paper == "paper1":
        _check_p1_store(entry, flip)
    elif flip.kind == "store":
        _check_p2_store(entry, flip, tmp_path)
    elif flip.kind == "rows":
        _check_p1_rows(entry, flip)
    elif flip.kind == "scoring":
        _check_p1_scoring(entry, flip)
    elif flip.kind == "figure":
        _check_p1_figure(entry, flip, monkeypatch)
    elif flip.kind == "code":
        _check_p2_code(entry, flip, tmp_path, monkeypatch)
    elif flip.kind == "process":
        _check_process(entry, flip)
    elif flip.kind == "kernel":
        _check_kernel(entry, flip, tmp_path)
    else:
        raise AssertionError(f"unknown flip kind {flip.kind}")


def test_placement_switches_leave_store_keys_and_fingerprints(tmp_path):
    """distribute.kind (registers shared-multiworker-input, shared-chief-writes) places the
    same computation on other devices: models are shared across placements, by design."""
    mirrored = {"distribute": {"kind": "mirrored", "devices": ["/cpu:0", "/cpu:1"]}}
    base, moved = _p1_params(), _p1_params(mirrored)
    assert _p1_keys(base, "6") == _p1_keys(moved, "6")
    assert p1tables.config_fingerprint(base) == p1tables.config_fingerprint(moved)
    assert _p2_keys(_p2_params(), "VII", tmp_path) == _p2_keys(_p2_params(mirrored), "VII", tmp_path)


# ------------------------------------------------------------- per-row overrides (paper 1)
def test_row_settings_from_a_preset_warn_and_explicit_ones_fail(tmp_path):
    from shared.config import ConfigError
    table4 = p1_table("4")
    quiet = p1tables.make_plan(table4, _p1_params(), warn=lambda line: None)
    assert quiet.warnings == []
    # A preset file that sets ts.temperature (even to the default) and ts.loss: one line each
    preset = tmp_path / "mine.yaml"
    preset.write_text("data:\n  root: no-such-data-root\nts:\n  temperature: 5.0\n  loss: hidden\n")
    params = p1_resolve(str(preset))
    lines = []
    plan = p1tables.make_plan(table4, params, str(preset), warn=lines.append)
    assert plan.warnings == lines and len(lines) == 2
    rows = ", ".join(r.name for r in table4.runs)
    assert lines[0] == (f"warning: ts.temperature = 5.0 (set by preset {preset}) is not used by paper1/table4: "
                        f"rows {rows} set their own temperature")
    assert lines[1].startswith("warning: ts.loss = 'hidden' ") and rows in lines[1]
    assert all(line in p1tables.plan_text(plan) for line in lines)
    # An override (no preset file) that departs from the default also warns
    lines = []
    p1tables.make_plan(table4, _p1_params({"ts": {"teacher_query": "base"}}), warn=lines.append)
    assert len(lines) == 1 and "ts.teacher_query = 'base' (from the overrides)" in lines[0]
    # Table 1 has no TS rows: nothing to warn about
    assert p1tables.make_plan(p1_table("1"), params, str(preset), warn=lines.append).warnings == []
    # Given explicitly on the command line: an error naming the key and the rows
    with pytest.raises(ConfigError, match=r"ts\.temperature=5\.0 was given explicitly.*T1_teacher10s"):
        p1tables.make_plan(table4, params, str(preset), explicit=["ts.temperature"])


def test_table_command_warns_for_a_preset_file_that_sets_a_row_setting(tmp_path, capsys):
    from paper1_ts import commands
    from paper1_ts.run import build_parser
    preset = tmp_path / "mine.yaml"
    preset.write_text("data:\n  root: no-such-data-root\nts:\n  temperature: 5.0\n")   # the default value
    args = build_parser().parse_args(["--table", "5", "--preset", str(preset), "--results",
                                      str(tmp_path / "results"), "--dry-run"])
    assert commands.run_result_table(args) == 0
    out, err = capsys.readouterr()
    warning = (f"warning: ts.temperature = 5.0 (set by preset {preset}) is not used by paper1/table5: "
               "rows output, output_and_hidden, hidden set their own temperature")
    assert warning in err.splitlines() and warning in out


def test_feature_cache_is_anchored_to_the_checkout_in_both_papers(tmp_path, monkeypatch):
    from paper1_ts import data as p1data
    from shared.paths import CACHE_ENV, checkout_root, feature_cache_root
    monkeypatch.delenv(CACHE_ENV, raising=False)
    monkeypatch.chdir(tmp_path)                               # the working directory plays no part
    expected = checkout_root() / "data" / "cache"
    assert p1data.cache_root(_p1_params()) == expected
    assert feature_cache_root(_p2_params().data.cache_root) == expected
    monkeypatch.setenv(CACHE_ENV, str(tmp_path / "env-cache"))
    assert p1data.cache_root(_p1_params()) == tmp_path / "env-cache"
    assert feature_cache_root(_p2_params().data.cache_root) == tmp_path / "env-cache"
    # the config field wins over the environment
    assert p1data.cache_root(_p1_params({"data": {"cache_root": "a"}})) == __import__("pathlib").Path("a")
    assert feature_cache_root(_p2_params({"data": {"cache_root": "b"}}).data.cache_root).name == "b"


def test_default_dataset_root_is_anchored_to_the_checkout_in_both_papers(tmp_path, monkeypatch):
    from paper1_ts import data as p1data
    from paper2_multirep.table_backend import data_context
    from shared.paths import checkout_root
    monkeypatch.chdir(tmp_path)                               # the working directory plays no part
    datasets = checkout_root() / "data" / "datasets"
    p1 = _p1_params({"data": {"root": ""}})                   # the helper sets a root; a user's preset does not
    assert p1data.dataset_root(p1) == datasets / p1.data.dataset
    # paper 2 resolves the root the same way, whether or not the data set is there
    context = data_context("dcase2018_task1a", _p2_params(), require_data=False)
    assert context.root == datasets / "dcase2018_task1a"
    assert data_context("dcase2018_task1a", _p2_params(), data_root=str(tmp_path / "x"),
                        require_data=False).root == tmp_path / "x"
