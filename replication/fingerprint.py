"""Config fingerprints: which resolved settings produced a run, as a hash plus flat fields.

A demo reference is only meaningful for the configuration that produced it. A table
runner stores `fingerprint(config, ignore=...)` in each record's `extra["config"]`
({"hash": ..., "fields": {dotted key: value}}); the demo reference keeps the same per
run; the checker reports a run whose hash differs as "no reference (config differs: ...)".

    fp = fingerprint(params, ignore=("results_root", "train.verbose", "distribute."))
    differing_fields(fp["fields"], reference_fields)   # ["data.train_per_class: 2 (reference: 0)"]
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import is_dataclass
from typing import Any, Iterable, Mapping

HASH_CHARS = 16


def flatten(value: Any, prefix: str = "") -> dict[str, Any]:
    """{dotted key: leaf} of a (nested) dataclass or mapping; lists/tuples become lists."""
    if is_dataclass(value):
        from shared.config import to_dict
        value = to_dict(value)
    out: dict[str, Any] = {}
    if isinstance(value, Mapping):
        for key in sorted(value):
            out.update(flatten(value[key], f"{prefix}{key}."))
        return out
    leaf = list(value) if isinstance(value, tuple) else value
    out[prefix[:-1]] = json.loads(json.dumps(leaf, default=str))    # JSON-normal form
    return out


def is_ignored(key: str, ignore: Iterable[str]) -> bool:
    return any(key == k or (k.endswith(".") and key.startswith(k)) for k in ignore)


def config_hash(fields: Mapping[str, Any]) -> str:
    """Stable hash (16 hex digits) of flat config fields."""
    text = json.dumps(dict(fields), sort_keys=True, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:HASH_CHARS]


def fingerprint(config: Any, ignore: Iterable[str] = ()) -> dict[str, Any]:
    """{"hash", "fields"} of a resolved config; keys in `ignore` (exact, or prefixes ending
    in ".") are left out (paths, verbosity, seed counts: they do not change a run's result)."""
    ignore = tuple(ignore)
    fields = {k: v for k, v in flatten(config).items() if not is_ignored(k, ignore)}
    return {"hash": config_hash(fields), "fields": fields}


def differing_fields(fields: Mapping[str, Any], reference: Mapping[str, Any], limit: int = 6,
                     label: str = "reference") -> list[str]:
    """`key: value (<label>: value)` for every key whose value differs (at most `limit`,
    then a count of the rest)."""
    keys = sorted(set(fields) | set(reference))
    missing = object()
    out = []
    for k in keys:
        a, b = fields.get(k, missing), reference.get(k, missing)
        if a != b:
            show = lambda v: "absent" if v is missing else repr(v)    # noqa: E731
            out.append(f"{k}: {show(a)} ({label}: {show(b)})")
    if len(out) > limit:
        out = out[:limit] + [f"... {len(out) - limit} more"]
    return out


def record_config(extra: Mapping[str, Any]) -> dict[str, Any] | None:
    """The {"hash", "fields"} a run record stores in extra["config"], or None."""
    config = extra.get("config") if isinstance(extra, Mapping) else None
    if isinstance(config, Mapping) and isinstance(config.get("hash"), str):
        return {"hash": config["hash"], "fields": dict(config.get("fields") or {})}
    return None


def config_mismatch(reference_config: Mapping[str, Any] | None,
                    records: Iterable[tuple[str, Any]]) -> str | None:
    """Why records cannot be compared with a reference recorded under `reference_config`
    ("config differs: ..." / "config unknown: ..."), or None when they can.

    A reference without a config (recorded before fingerprints existed) is compared as
    before: None.
    """
    if not reference_config or not isinstance(reference_config.get("hash"), str):
        return None
    for path, rec in records:
        own = record_config(rec.extra)
        if own is None:
            return f"config unknown: {path} stores no config hash"
        if own["hash"] != reference_config["hash"]:
            diffs = differing_fields(own["fields"], reference_config.get("fields") or {})
            return ("config differs: " + "; ".join(diffs)) if diffs else \
                f"config differs: hash {own['hash']} vs reference {reference_config['hash']}"
    return None


def common_config(records: Iterable[tuple[str, Any]]) -> dict[str, Any] | None:
    """The config all records of one run share (None when none stores one).

    Raises:
      ValueError: some records store a config and others none, or the hashes differ.
    """
    configs = [(path, record_config(rec.extra)) for path, rec in records]
    known = [(p, c) for p, c in configs if c is not None]
    if not known:
        return None
    if len(known) != len(configs) or len({c["hash"] for _, c in known}) != 1:
        listing = ", ".join(f"{p}: {c['hash'] if c else 'none'}" for p, c in configs)
        raise ValueError(f"records of one run were produced by different configs ({listing})")
    return known[0][1]
