"""Run records: one results.json (+ resolved config.yaml) per (table, run, seed).

Layout: <results_root>/<table>/<run>/seed-<k>/{results.json, config.yaml}
with <table> like "paper1/table4". A record directory is published as one unit
(shared/publish.py): both files are written into a hidden staging folder beside it,
`<run>/.seed-<k>.record-<pid>-<random>/seed-<k>/`, which is then renamed into place,
so readers see a matched pair or nothing. An existing record is never replaced unless
the caller asks (--overwrite); of two runs that publish the same record at once exactly
one wins and the other gets RecordExistsError. The runners call
`refuse_existing_records` before any training, which also removes staging folders
left by killed runs. docs/records.md describes it for users.
"""

from __future__ import annotations

import datetime as _dt
import json
import os
import platform
import socket
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable

from shared.config import atomic_write_text, save_config
from shared.publish import PublishExistsError, atomic_directory, clean_stale

SCHEMA_VERSION = 1
RESULTS_FILE = "results.json"
MAX_NAMED = 10                     # paths named in one refusal message


class RecordExistsError(FileExistsError):
    """A run record is already there (or another run published it first); names its path."""


class RecordError(ValueError):
    """A results.json that is not a run record (bad JSON, a missing key, a wrong type); names the file."""


def now_iso() -> str:
    return _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")


VECTOR_FLAGS = ("sse4_1", "avx", "avx2", "fma", "avx512f", "avx512_vnni", "avx512_bf16", "avx512_fp16",
                "amx_tile", "amx_bf16", "amx_int8")
NUMERIC_ENV = ("TF_ENABLE_ONEDNN_OPTS", "ONEDNN_MAX_CPU_ISA", "TF_DETERMINISTIC_OPS", "OMP_NUM_THREADS",
               "TF_NUM_INTRAOP_THREADS", "TF_NUM_INTEROP_THREADS")


def cpu_facts(cpuinfo: str | None = None) -> dict[str, Any]:
    """CPU model and its vector instruction flags (the kernels oneDNN picks depend on them).

    Args:
      cpuinfo: text of /proc/cpuinfo (read from the file when None; other systems give
        platform.processor() and no flags).
    """
    if cpuinfo is None:
        try:
            cpuinfo = Path("/proc/cpuinfo").read_text(encoding="utf-8", errors="replace")
        except OSError:
            cpuinfo = ""
    model, flags = "", set()
    for line in cpuinfo.splitlines():
        key, _, value = line.partition(":")
        key = key.strip()
        if key == "model name" and not model:
            model = value.strip()
        elif key in ("flags", "Features") and not flags:
            flags = set(value.split())
    return {"cpu_model": model or platform.processor() or platform.machine(),
            "vector_flags": [f for f in VECTOR_FLAGS if f in flags]}


def host_facts() -> dict[str, Any]:
    """Where a record was made: machine, CPU and its vector ISA, library versions and the
    settings that change floating-point results (oneDNN, threads, op determinism)."""
    facts: dict[str, Any] = {
        "hostname": socket.gethostname(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "cpu_count": os.cpu_count(),
        **cpu_facts(),
        "env": {k: os.environ[k] for k in NUMERIC_ENV if k in os.environ},
    }
    try:  # imported lazily: records are also read by tools that do not need TF
        import tensorflow as tf
        import keras
        facts["tensorflow"] = tf.__version__
        facts["keras"] = keras.__version__
        facts["gpus"] = [d.name for d in tf.config.list_physical_devices("GPU")]
        facts["onednn"] = os.environ.get("TF_ENABLE_ONEDNN_OPTS", "1") != "0"   # TF 2.21 x86 default: on
        facts["intra_op_threads"] = tf.config.threading.get_intra_op_parallelism_threads()  # 0 = one per core
        from shared.determinism import op_determinism_enabled
        facts["op_determinism"] = op_determinism_enabled()
    except Exception:  # pragma: no cover - TF missing is reported, not fatal
        facts["tensorflow"] = None
    return facts


def host_summary(host: Any) -> str:
    """One line of the facts that decide floating-point results, for a failed check."""
    if not isinstance(host, dict) or not host:
        return "unknown (not recorded)"
    flags = host.get("vector_flags")
    parts = [str(host.get("cpu_model") or "CPU model not recorded"),
             f"{host.get('cpu_count', '?')} cores",
             "vector ISA " + ("/".join(flags) if flags else "not recorded"),
             f"TF {host.get('tensorflow', '?')}", f"Keras {host.get('keras', '?')}",
             f"oneDNN {'on' if host.get('onednn', True) else 'off'}"
             + (f" (max ISA {host['env']['ONEDNN_MAX_CPU_ISA']})"
                if (host.get('env') or {}).get('ONEDNN_MAX_CPU_ISA') else ""),
             f"intra-op threads {host.get('intra_op_threads', '?')}"]
    return ", ".join(parts)


@dataclass
class RunRecord:
    """What the checker, reports and figures read back."""
    table: str                         # registry name, e.g. "paper1/table4"
    run: str                           # run name inside the table, e.g. "T5_teacher20s"
    preset: str                        # "paper" | "demo" | custom
    seed: int
    metrics: dict[str, float | None]   # e.g. {"accuracy": 0.73, "map_at_3": None}; fractions in [0, 1]
    published_cell: dict[str, Any] | None = None   # {"table": "4", "row": "T=5", "column": "20 seconds"}
    faithful: bool = True              # False when a run departs from the paper (e.g. no ImageNet weights)
    deviations: list[str] = field(default_factory=list)   # human-readable, printed by the checker
    decisions: list[str] = field(default_factory=list)    # register ids this run depended on
    dataset: str = ""
    extra: dict[str, Any] = field(default_factory=dict)   # per-run details (epochs, timings, paths)
    config: str = "config.yaml"
    started: str = ""
    finished: str = ""
    host: dict[str, Any] = field(default_factory=dict)
    schema: int = SCHEMA_VERSION

    def to_json(self) -> str:
        return json.dumps(self.__dict__, indent=2, sort_keys=False, default=str)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "RunRecord":
        known = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        return cls(**known)


def run_dir(results_root: str | os.PathLike, table: str, run: str, seed: int) -> Path:
    return Path(results_root) / table / run / f"seed-{seed}"


def staging_prefix(seed_dir_name: str) -> str:
    """Name prefix of a record's staging folder, beside `seed-<k>` in its run folder."""
    return f".{seed_dir_name}.record-"


def write_record(record: RunRecord, results_root: str | os.PathLike,
                 config: Any | None = None, overwrite: bool = False) -> Path:
    """Publishes the record directory (results.json and config.yaml) as one unit.

    Returns the results.json path.

    Raises:
      RecordExistsError: the record directory exists, or another process published it
        while this one wrote it, and overwrite is False.
    """
    directory = run_dir(results_root, record.table, record.run, record.seed)
    path = directory / RESULTS_FILE
    if os.path.lexists(directory) and not overwrite:     # early, cheap; the rename decides
        raise RecordExistsError(f"{path}: a run record is already there; pass --overwrite "
                                f"(overwrite=True) to replace it")
    if not record.finished:
        record.finished = now_iso()
    if not record.host:
        record.host = host_facts()
    try:
        with atomic_directory(directory, replace=overwrite,
                              prefix=staging_prefix(directory.name)) as staging:
            if config is not None:
                save_config(config, staging / record.config)
            atomic_write_text(staging / RESULTS_FILE, record.to_json() + "\n")
    except PublishExistsError as err:
        if err.target != directory:
            raise
        raise RecordExistsError(f"{path}: another run published this record while this one "
                                f"was writing it; kept theirs (pass --overwrite to replace it)"
                                ) from None
    return path


def clean_record_staging(results_root: str | os.PathLike, keys: Iterable[tuple[str, str, int]],
                         echo: Callable[[str], None] | None = print) -> list[Path]:
    """Removes record staging folders left by killed runs (their process is gone) in
    the run folders of `keys` ((table, run, seed)); returns what was removed."""
    removed: list[Path] = []
    for folder in sorted({run_dir(results_root, t, r, s).parent for t, r, s in keys}):
        removed += clean_stale(folder, [staging_prefix("seed-*")], echo)
    return removed


def refuse_existing_records(results_root: str | os.PathLike, keys: Iterable[tuple[str, str, int]],
                            overwrite: bool = False,
                            echo: Callable[[str], None] | None = print) -> list[Path]:
    """Called by both papers' runners before any training: cleans stale record staging,
    then refuses, in one message naming them, records that already exist.

    Args:
      keys: (table, run, seed) of every record the command will write.
      overwrite: allow replacing them (--overwrite); they are then only returned.
    Returns:
      The existing record directories (empty unless overwrite).
    Raises:
      RecordExistsError: some exist and overwrite is False.
    """
    keys = list(keys)
    clean_record_staging(results_root, keys, echo)
    existing = [d for d in (run_dir(results_root, t, r, s) for t, r, s in keys) if os.path.lexists(d)]
    if existing and not overwrite:
        named = [str(d / RESULTS_FILE) if (d / RESULTS_FILE).exists() else f"{d} (incomplete)"
                 for d in existing[:MAX_NAMED]]
        more = f" and {len(existing) - MAX_NAMED} more" if len(existing) > MAX_NAMED else ""
        raise RecordExistsError(
            f"{len(existing)} of the {len(keys)} run record(s) this command writes already exist: "
            f"{', '.join(named)}{more}. Nothing was trained; pass --overwrite to replace them "
            f"(trained models in the store are reused either way)")
    return existing


def read_record(path: str | os.PathLike) -> RunRecord:
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise RecordError(f"{path}: not valid JSON ({err})") from None
    if not isinstance(data, dict):
        raise RecordError(f"{path}: a run record is a JSON object, got {type(data).__name__}")
    for key, kind in (("table", str), ("run", str), ("preset", str), ("seed", int), ("metrics", dict)):
        if key not in data:
            raise RecordError(f"{path}: results file lacks the key '{key}'")
        if not isinstance(data[key], kind) or isinstance(data[key], bool):
            raise RecordError(f"{path}: '{key}' must be a {kind.__name__}, got {data[key]!r}")
    return RunRecord.from_dict(data)


def find_records(paths: Iterable[str | os.PathLike]) -> list[tuple[Path, RunRecord]]:
    """Every results.json under the given files/directories, sorted by path."""
    found: list[Path] = []
    for p in map(Path, paths):
        if p.is_dir():
            found.extend(q for q in sorted(p.rglob(RESULTS_FILE))
                         if not any(part.startswith(".") for part in q.relative_to(p).parts))
        elif p.is_file():
            found.append(p)
        else:
            raise FileNotFoundError(f"{p}: no such results file or directory")
    return [(p, read_record(p)) for p in sorted(set(found))]
