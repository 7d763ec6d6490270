"""Frozen-dataclass configuration with YAML preset overlays.

Every hyper-parameter of the kit lives in a frozen dataclass whose field comments
name their source (a table or section of a paper, or a register entry). A preset
is a YAML file that overrides fields; nested dataclasses are nested mappings.
An unknown key is an error that names the key and the file, so a typo in a
preset can never silently fall back to a default.

    params = load_config(Paper1Params, "paper1_ts/presets/demo.yaml")
    params = override(params, {"train": {"epochs": 3}}, source="--set")
    save_config(params, run_dir / "config.yaml")
"""

from __future__ import annotations

import dataclasses
import math
import os
import tempfile
import types
import typing
from pathlib import Path
from typing import Any, Mapping, TypeVar

import yaml

# Publishing a directory as one unit lives in shared/publish.py; re-exported for callers.
from shared.publish import PublishExistsError, atomic_directory  # noqa: F401
from shared.publish import publish as _publish  # noqa: F401

T = TypeVar("T")


class ConfigError(ValueError):
    """A preset or override does not fit the dataclass it configures."""


def _field_types(cls: type) -> dict[str, Any]:
    hints = typing.get_type_hints(cls)
    return {f.name: hints[f.name] for f in dataclasses.fields(cls)}


def _is_dataclass_type(tp: Any) -> bool:
    return isinstance(tp, type) and dataclasses.is_dataclass(tp)


def _coerce(value: Any, tp: Any, where: str) -> Any:
    """Converts a YAML value to the annotated type (tuples, nested dataclasses)."""
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if origin in (typing.Union, types.UnionType):
        if value is None and type(None) in args:
            return None
        non_none = [a for a in args if a is not type(None)]
        if len(non_none) == 1:
            return _coerce(value, non_none[0], where)
        return value
    if _is_dataclass_type(tp):
        if not isinstance(value, Mapping):
            raise ConfigError(f"{where}: expected a mapping for {tp.__name__}, got {value!r}")
        return value  # merged by the caller
    if origin is tuple:
        if not isinstance(value, (list, tuple)):
            raise ConfigError(f"{where}: expected a list, got {value!r}")
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(_coerce(v, args[0], where) for v in value)
        if args and len(args) != len(value):
            raise ConfigError(f"{where}: expected {len(args)} items, got {len(value)}")
        return tuple(_coerce(v, a, where) for v, a in zip(value, args or [Any] * len(value)))
    if (tp is dict or origin is dict) and not isinstance(value, Mapping):
        raise ConfigError(f"{where}: expected a mapping, got {value!r}")
    if tp in (int, float) and isinstance(value, bool):
        # bool is an int subclass in Python: `epochs: true` must not mean 1
        raise ConfigError(f"{where}: expected {tp.__name__}, got the boolean {value!r}")
    if tp is float and isinstance(value, int):
        return float(value)
    if tp in (int, float, str, bool) and not isinstance(value, tp):
        raise ConfigError(f"{where}: expected {tp.__name__}, got {value!r}")
    if tp is float and not math.isfinite(value):
        raise ConfigError(f"{where}: expected a finite number, got {value!r}")
    return value


def merge_mappings(base: Mapping[str, Any], overlay: Mapping[str, Any]) -> dict[str, Any]:
    """Deep merge of two mappings (overlay wins; nested mappings merged, not replaced)."""
    out = dict(base)
    for key, value in overlay.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), Mapping):
            out[key] = merge_mappings(out[key], value)
        else:
            out[key] = value
    return out


def override(obj: T, changes: Mapping[str, Any], source: str = "<overrides>") -> T:
    """Returns a copy of the frozen dataclass `obj` with `changes` applied.

    Args:
      obj: a dataclass instance.
      changes: field name -> value; a nested dataclass takes a nested mapping, and a
        mapping-valued field (e.g. ExperimentParams.training_overrides) is deep-merged with
        its current value, so `--set training_overrides.optim.epochs=15` keeps the preset's
        other training overrides.
      source: where the changes came from (a file name), used in error messages.
    Raises:
      ConfigError: naming `source` and the key: an unknown key, a value of the wrong type
        (a boolean for a number, NaN or infinity for a float) or one the dataclass's own
        checks (`__post_init__`) refuse.
    """
    if not dataclasses.is_dataclass(obj):
        raise TypeError(f"{obj!r} is not a dataclass instance")
    types_ = _field_types(type(obj))
    updates: dict[str, Any] = {}
    for key, value in changes.items():
        where = f"{source}: {type(obj).__name__}.{key}"
        if key not in types_:
            valid = ", ".join(sorted(types_))
            raise ConfigError(
                f"unknown key '{key}' in {source} for {type(obj).__name__} "
                f"(valid keys: {valid})")
        tp = types_[key]
        current = getattr(obj, key)
        if dataclasses.is_dataclass(current) and isinstance(value, Mapping):
            updates[key] = override(current, value, source)
        elif isinstance(current, Mapping) and isinstance(value, Mapping):
            updates[key] = _coerce(merge_mappings(current, value), tp, where)
        else:
            updates[key] = _coerce(value, tp, where)
    try:
        return dataclasses.replace(obj, **updates)
    except (ValueError, TypeError) as err:   # a field check in __post_init__ (FeatureError, ...)
        message = str(err)
        if type(obj).__name__ not in message:
            message = f"{type(obj).__name__}: {message}"
        raise ConfigError(f"{source}: {message}") from None


def read_yaml(path: str | os.PathLike) -> dict[str, Any]:
    path = Path(path)
    try:
        with path.open("r", encoding="utf-8") as f:
            data = yaml.safe_load(f)
    except FileNotFoundError:
        raise ConfigError(f"preset file not found: {path}") from None
    except OSError as err:                       # a directory, no permission, ...
        raise ConfigError(f"{path}: cannot read the preset ({err.strerror or err})") from None
    except UnicodeDecodeError as err:
        raise ConfigError(f"{path}: not a UTF-8 text file ({err.reason})") from None
    except yaml.YAMLError as err:
        raise ConfigError(f"{path}: not valid YAML: {' '.join(str(err).split())}") from None
    if data is None:
        return {}
    if not isinstance(data, Mapping):
        raise ConfigError(f"{path}: top level must be a mapping, got {type(data).__name__}")
    return dict(data)


def load_config(cls: type[T], *presets: str | os.PathLike) -> T:
    """Builds `cls()` and applies each YAML preset in order."""
    obj = cls()
    for preset in presets:
        obj = override(obj, read_yaml(preset), source=str(preset))
    return obj


def to_dict(obj: Any) -> Any:
    """A plain, YAML-safe structure (tuples become lists).

    A dataclass may name fields that have no effect on its value in `inert_fields()`;
    they are left out (keys hashed from this dict then ignore them).
    """
    if dataclasses.is_dataclass(obj):
        inert = obj.inert_fields() if hasattr(obj, "inert_fields") and not isinstance(obj, type) else ()
        return {f.name: to_dict(getattr(obj, f.name)) for f in dataclasses.fields(obj)
                if f.name not in inert}
    if isinstance(obj, (list, tuple)):
        return [to_dict(v) for v in obj]
    if isinstance(obj, Mapping):
        return {k: to_dict(v) for k, v in obj.items()}
    if isinstance(obj, Path):
        return str(obj)
    return obj


def atomic_write_text(path: str | os.PathLike, text: str) -> None:
    """Writes `text` to `path` through a temporary file and a rename.

    A crash leaves either the old file or no file, never a partial one.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def save_config(obj: Any, path: str | os.PathLike) -> None:
    """Writes the resolved config as YAML, atomically."""
    atomic_write_text(path, yaml.safe_dump(to_dict(obj), sort_keys=False))
