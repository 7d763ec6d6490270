"""Strict preset values: no boolean for a number, no NaN / infinity for a float, and every
params dataclass's own checks reported as a ConfigError naming the preset file."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import pytest
import yaml

from shared.config import ConfigError, load_config, override


@dataclass(frozen=True)
class Inner:
    rate: float = 0.5
    count: int = 3

    def __post_init__(self):
        if not 0.0 <= self.rate <= 1.0:
            raise ValueError(f"Inner.rate must be in [0, 1], got {self.rate}")


@dataclass(frozen=True)
class Outer:
    inner: Inner = field(default_factory=Inner)
    size: int = 4
    scale: float = 1.0
    maybe: float | None = None
    pair: tuple[float, float] = (1.0, 2.0)
    flag: bool = False


@pytest.mark.parametrize("changes, where, what", [
    ({"size": True}, "Outer.size", "boolean True"),
    ({"scale": False}, "Outer.scale", "boolean False"),
    ({"inner": {"count": True}}, "Inner.count", "boolean True"),
    ({"scale": float("nan")}, "Outer.scale", "finite"),
    ({"scale": float("inf")}, "Outer.scale", "finite"),
    ({"maybe": float("-inf")}, "Outer.maybe", "finite"),
    ({"pair": [1.0, float("nan")]}, "Outer.pair", "finite"),
    ({"pair": [True, 1.0]}, "Outer.pair", "boolean"),
    ({"size": "abc"}, "Outer.size", "expected int, got 'abc'"),
    ({"flag": 1}, "Outer.flag", "expected bool, got 1"),
])
def test_wrong_typed_values_name_the_key_and_the_source(changes, where, what):
    with pytest.raises(ConfigError) as err:
        override(Outer(), changes, source="my.yaml")
    text = str(err.value)
    assert text.startswith("my.yaml: ") and where in text and what in text, text


def test_good_values_still_pass():
    params = override(Outer(), {"size": 7, "scale": 3, "maybe": 0.25, "pair": [0, 1],
                                "flag": True, "inner": {"rate": 1}}, source="ok.yaml")
    assert params.size == 7 and params.scale == 3.0 and isinstance(params.scale, float)
    assert params.pair == (0.0, 1.0) and params.inner.rate == 1.0 and params.flag is True


def test_post_init_refusals_become_config_errors_naming_the_file(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("inner:\n  rate: 1.5\n")
    with pytest.raises(ConfigError, match=r"bad\.yaml: Inner\.rate must be in \[0, 1\], got 1\.5"):
        load_config(Outer, path)


def test_yaml_nan_and_inf_spellings_are_refused(tmp_path):
    for text in ("scale: .nan\n", "scale: .inf\n", "scale: -.Inf\n"):
        path = tmp_path / "p.yaml"
        path.write_text(text)
        assert not math.isfinite(yaml.safe_load(text)["scale"])
        with pytest.raises(ConfigError, match="p.yaml: Outer.scale: expected a finite number"):
            load_config(Outer, path)


def test_a_directory_or_binary_file_as_preset_is_a_config_error(tmp_path):
    with pytest.raises(ConfigError, match="cannot read the preset"):
        load_config(Outer, tmp_path)
    binary = tmp_path / "b.yaml"
    binary.write_bytes(b"\xff\xfe\x00bad")
    with pytest.raises(ConfigError, match="b.yaml"):
        load_config(Outer, binary)


# ---- the kit's params dataclasses: obvious ranges are checked when a preset is loaded


def _kit_cases():
    from paper1_ts.params import Paper1Params
    from paper2_multirep.experiments import ExperimentParams
    from paper2_multirep.params import TrainParams as P2Train
    from shared.datasets.demo import DemoParams
    return [
        (Paper1Params, {"train": {"learning_rate": float("nan")}}, "TrainParams.learning_rate"),
        (Paper1Params, {"train": {"learning_rate": 0.0}}, "learning_rate must be > 0"),
        (Paper1Params, {"train": {"epochs": True}}, "TrainParams.epochs"),
        (Paper1Params, {"train": {"verbose": 5}}, "TrainParams.verbose"),
        (Paper1Params, {"ts": {"temperature": float("inf")}}, "TSParams.temperature"),
        (Paper1Params, {"ts": {"temperature": -1.0}}, "temperature must be > 0"),
        (Paper1Params, {"ts": {"hidden_weight": -0.5}}, "TSParams.hidden_weight"),
        (Paper1Params, {"ts": {"loss": "everything"}}, "TSParams.loss"),
        (Paper1Params, {"svm": {"max_iter": 0}}, "SVMParams.max_iter"),
        (Paper1Params, {"first_seed": -1}, "Paper1Params.first_seed"),
        (Paper1Params, {"distribute": {"kind": "horovod"}}, "distribute.kind 'horovod'"),
        (Paper1Params, {"distribute": {"logical_cpus": -2}}, "distribute.logical_cpus"),
        (Paper1Params, {"spec_features": {"sample_rate": 0}}, "sample_rate"),
        (Paper1Params, {"spec_features": {"n_mels": 0}}, "n_mels must be >= 1"),
        (Paper1Params, {"spec_features": {"log_top_db": -80.0}}, "log_top_db"),
        (Paper1Params, {"spec_features": {"hop_seconds": float("nan")}}, "hop_seconds"),
        (P2Train, {"optim": {"learning_rate": float("nan")}}, "OptimParams.learning_rate"),
        (P2Train, {"optim": {"momentum": 1.5}}, "OptimParams.momentum"),
        (P2Train, {"cyclic": {"temperature": 0.0}}, "CyclicParams.temperature"),
        (P2Train, {"branch": {"dropout": 1.0}}, "BranchParams.dropout"),
        (P2Train, {"mixup": {"alpha": float("nan")}}, "MixupParams.alpha"),
        (ExperimentParams, {"resnet_arch": "resnet9000"}, "ExperimentParams.resnet_arch"),
        (ExperimentParams, {"data": {"cache_dtype": "int8"}}, "DataParams.cache_dtype"),
        (ExperimentParams, {"seeds": 0}, "ExperimentParams.seeds"),
        (DemoParams, {"sample_rate": True}, "DemoParams.sample_rate"),
        (DemoParams, {"sample_rate": 100}, "DemoParams.sample_rate must be >= 8000"),
        (DemoParams, {"train_per_class": 0}, "DemoParams.train_per_class"),
        (DemoParams, {"clip_seconds": 0.0}, "DemoParams.clip_seconds"),
        (DemoParams, {"channels": 3}, "DemoParams.channels"),
    ]


@pytest.mark.parametrize("case", range(len(_kit_cases())))
def test_kit_params_refuse_bad_preset_values(case):
    cls, changes, needle = _kit_cases()[case]
    with pytest.raises(ConfigError) as err:
        override(cls(), changes, source="preset.yaml")
    assert str(err.value).startswith("preset.yaml: ") and needle in str(err.value), str(err.value)


def test_kit_params_defaults_and_shipped_presets_still_load():
    from pathlib import Path

    from paper1_ts.params import PRESETS, resolve_params
    from paper2_multirep.experiments import ExperimentParams
    from paper2_multirep.params import TrainParams as P2Train
    for name in PRESETS:
        resolve_params(name)
    p2 = Path(__file__).resolve().parents[2] / "paper2_multirep" / "presets"
    experiments = sorted(p2.glob("experiment_*.yaml"))
    assert len(experiments) >= 2
    for path in experiments:
        load_config(ExperimentParams, path)
    for path in sorted(set(p2.glob("*.yaml")) - set(experiments)):
        load_config(P2Train, path)
