from dataclasses import dataclass, field

import pytest

from shared.config import ConfigError, load_config, override, save_config, read_yaml


@dataclass(frozen=True)
class Inner:
    lr: float = 1e-3  # Sec. 4.2
    sizes: tuple[int, ...] = (1, 2)


@dataclass(frozen=True)
class Outer:
    name: str = "x"
    epochs: int = 10
    inner: Inner = field(default_factory=Inner)


def test_override_nested_and_types():
    o = override(Outer(), {"epochs": 3, "inner": {"lr": 1, "sizes": [4, 5, 6]}})
    assert o.epochs == 3
    assert o.inner.lr == 1.0 and isinstance(o.inner.lr, float)
    assert o.inner.sizes == (4, 5, 6)
    assert Outer().epochs == 10  # original untouched (frozen copy)


@dataclass(frozen=True)
class WithMapping:
    extra: dict = field(default_factory=dict)


def test_a_mapping_valued_field_is_deep_merged_not_replaced():
    # `--set training_overrides.optim.epochs=15` on a preset that also sets
    # training_overrides.cyclic must keep the cyclic part
    base = override(WithMapping(), {"extra": {"optim": {"epochs": 5, "lr": 0.02}, "cyclic": {"budget": "passes"}}})
    o = override(base, {"extra": {"optim": {"epochs": 15}}})
    assert o.extra == {"optim": {"epochs": 15, "lr": 0.02}, "cyclic": {"budget": "passes"}}
    assert base.extra["optim"]["epochs"] == 5                      # the original is untouched
    assert override(base, {"extra": {"cyclic": "off"}}).extra["cyclic"] == "off"   # a non-mapping replaces
    with pytest.raises(ConfigError, match="extra"):
        override(base, {"extra": [1, 2]})


def test_unknown_key_names_key_and_file(tmp_path):
    preset = tmp_path / "demo.yaml"
    preset.write_text("inner:\n  lrr: 0.1\n")
    with pytest.raises(ConfigError) as err:
        load_config(Outer, preset)
    assert "lrr" in str(err.value) and str(preset) in str(err.value)


def test_wrong_type_is_an_error(tmp_path):
    with pytest.raises(ConfigError, match="epochs"):
        override(Outer(), {"epochs": "many"}, source="x.yaml")


def test_resolved_config_round_trips(tmp_path):
    o = override(Outer(), {"inner": {"sizes": [7]}})
    save_config(o, tmp_path / "config.yaml")
    assert load_config(Outer, tmp_path / "config.yaml") == o
    assert read_yaml(tmp_path / "config.yaml")["inner"]["sizes"] == [7]
