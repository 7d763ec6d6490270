"""What a faithful run of a table costs, before it starts (issue 14): the table's work in
clip-passes, from the runner's plan, divided by a measured throughput in clips/s.

    rates = load_throughput(path)                  # a JSON `python -m replication.drivers.bench` wrote
    cost = TableCost(name, caption, jobs=[JobCost(...)], rows=[...], features=[...])
    print("\\n".join(cost_lines(cost, rates, Devices(4))))

Each paper turns its plan into a TableCost (paper1_ts/cost.py, paper2_multirep/cost.py);
this module only does the arithmetic and the text, and imports no paper package.

The model of the cost, stated (every assumption is printed under the estimate):

  * training: clip-passes = training clips x passes (epochs) of each job, each weighted by
    the job's cost relative to one benchmarked training clip of its model (paper 1: joined
    inputs, a TS student's teacher pass); seconds = clip-passes / the benchmark's training
    clips/s of that model (sections.training.models.<name>.clips_per_s);
  * scoring (inference passes: embeddings, soft labels, test crops): one forward pass costs
    FORWARD_SHARE of a training clip (the benchmark's FLOP count: training = 3 x forward);
  * an input of another size than the benchmarked one: clips/s scaled by the ratio of the
    input sizes (convolutions cost in proportion to the input's area); printed per model;
  * feature extraction: CPU work before training, seconds per clip from the benchmark's
    DCASE feature-cache section; not divided over devices (it runs on the host's cores);
  * N devices: tf.distribute mirrored data parallel with the preset's global batch (each
    device gets batch / N clips per step); time = time on one device / (N x efficiency).
    No multi-device speed-up has been measured in the kit, so the default efficiency is
    1.0 (ideal scaling): hours on N devices are then a lower bound.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

from shared.cli import UsageError

FORWARD_SHARE = 1.0 / 3.0            # one inference pass / one training step, per clip
DEFAULT_EFFICIENCY = 1.0
EFFICIENCY_WHY = ("no multi-device speed-up has been measured in the kit (no GPU here), so the "
                  "default is ideal scaling and the N-device hours are a lower bound; the global "
                  "batch is kept, so each device gets batch/N clips per step and real scaling is lower "
                  "(pass --scaling-efficiency)")
DEFAULT_THROUGHPUT = "docs/results/bench/after.json"      # in the checkout: this machine's benchmark


class CostError(UsageError):
    """A throughput file that cannot give a table's cost (missing, malformed, lacks a model)."""


def default_throughput_path() -> Path:
    from shared.paths import checkout_root
    return checkout_root() / DEFAULT_THROUGHPUT


# ------------------------------------------------------------------ throughput file
@dataclass(frozen=True)
class ModelRate:
    """One benchmarked model: training clips/s at its input shape and batch."""
    name: str
    clips_per_s: float
    input_shape: tuple[int, ...]
    batch: int


@dataclass(frozen=True)
class Throughput:
    """The training throughput of a benchmark JSON and where it was measured."""
    path: str
    models: dict[str, ModelRate]
    host: dict = field(default_factory=dict)
    created: str = ""
    feature_seconds: dict[str, float] = field(default_factory=dict)   # per clip, DCASE format

    @property
    def machine(self) -> str:
        """One line: where the numbers were measured."""
        h = self.host
        gpus = h.get("gpus")
        if gpus:
            devices = f"GPU {', '.join(map(str, gpus))} (the benchmark trains on the first)"
        elif gpus is not None:
            devices = f"{h.get('cpus', '?')} CPU cores, no GPU"
        else:
            devices = f"{h.get('cpus', '?')} CPU cores, GPUs not recorded"
        return (f"{h.get('machine', '?')} with {devices}, TensorFlow {h.get('tensorflow', '?')}, "
                f"measured {self.created or '(date not recorded)'}")

    def rate(self, model: str, input_shape: Sequence[int] | None = None) -> tuple[float, str]:
        """(training clips/s of `model` for inputs of `input_shape`, a note when scaled).

        Raises:
          CostError: the file has no such model (names the file and the models it has).
        """
        if model not in self.models:
            raise CostError(f"{self.path}: no model '{model}' in sections.training.models (it has "
                            f"{', '.join(sorted(self.models)) or 'none'}); run `python -m "
                            "replication.drivers.bench --section training --json FILE` on the machine "
                            "to estimate and pass --throughput FILE")
        m = self.models[model]
        if input_shape is None or tuple(input_shape) == m.input_shape:
            return m.clips_per_s, ""
        ratio = math.prod(input_shape) / math.prod(m.input_shape)
        return m.clips_per_s / ratio, (f"{model} benchmarked on {'x'.join(map(str, m.input_shape))}, "
                                       f"scaled to {'x'.join(map(str, input_shape))} by input size (x{ratio:.2f} cost)")


def _shown(path: Path) -> str:
    """`path` relative to the checkout when inside it (the same text on every machine)."""
    from shared.paths import checkout_root
    try:
        return str(path.resolve().relative_to(checkout_root().resolve()))
    except ValueError:
        return str(path)


def load_throughput(path: str | Path) -> Throughput:
    """The training section of a benchmark JSON (`python -m replication.drivers.bench --json`).

    Raises:
      CostError: the file is missing, not JSON, or has no training section / clips/s.
    """
    path = Path(path)
    try:
        report = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise CostError(f"{path}: throughput file not found (write one with `python -m "
                        "replication.drivers.bench --section training --json FILE`)") from None
    except (OSError, ValueError) as err:
        raise CostError(f"{path}: not a benchmark JSON ({err})") from None
    training = (report.get("sections") or {}).get("training") if isinstance(report, dict) else None
    if not isinstance(training, dict) or not isinstance(training.get("models"), dict):
        raise CostError(f"{path}: no sections.training.models (run the benchmark's training section)")
    models = {}
    for name, entry in training["models"].items():
        try:
            rate = float(entry["clips_per_s"])
            shape = tuple(int(v) for v in entry["input_shape"])
            batch = int(entry["batch"])
        except (KeyError, TypeError, ValueError):
            raise CostError(f"{path}: sections.training.models.{name} lacks clips_per_s, input_shape "
                            "or batch") from None
        if not rate > 0:
            raise CostError(f"{path}: sections.training.models.{name}.clips_per_s must be > 0, got {rate}")
        models[name] = ModelRate(name, rate, shape, batch)
    cache = training.get("dcase_feature_cache") or {}
    features = {k: float(v) for k, v in (cache.get("seconds_per_clip") or {}).items()}
    return Throughput(_shown(path), models, dict(report.get("host") or {}), str(report.get("created", "")),
                      features)


def from_args(args: Any) -> tuple[Throughput, "Devices"]:
    """The throughput file (--throughput, else this machine's benchmark) and the devices
    (--devices, --scaling-efficiency) of a table command's --estimate."""
    path = args.throughput or default_throughput_path()
    efficiency = DEFAULT_EFFICIENCY if args.scaling_efficiency is None else args.scaling_efficiency
    devices = Devices(args.devices, efficiency)
    return load_throughput(path), devices


# ------------------------------------------------------------------ the table's work
@dataclass(frozen=True)
class JobCost:
    """One training job of a plan: its model, how many training clip-passes (weighted by
    the job's cost per clip, see `factor`) and inference passes it makes."""
    key: str                          # the job's store key
    label: str
    model: str                        # benchmark model name ("p1_raw_cnn_paper", ...)
    train_clips: float                # training clip-passes (clips x passes)
    factor: float = 1.0               # cost of one of them / one benchmarked training clip
    score_clips: float | None = 0.0   # inference passes of one benchmarked clip's size (None: unknown)
    input_shape: tuple[int, ...] | None = None    # one clip's input here (None: as benchmarked)
    batch: int = 0                    # global batch of the job's training


@dataclass(frozen=True)
class FeatureCost:
    """Feature extraction of one representation over the clips a table reads (once per data
    set: shared by every table and job, free when the cache holds it)."""
    name: str                         # benchmark key ("p1_waveform", "p2_logMel64", ...)
    clips: int


@dataclass(frozen=True)
class TableCost:
    """A table's work: its distinct jobs, which jobs each row (run) reads, feature extraction."""
    name: str
    caption: str
    jobs: list[JobCost]
    rows: list[tuple[str, tuple[str, ...]]]       # (run name, keys of the jobs it reads)
    features: list[FeatureCost] = field(default_factory=list)
    feature_note: str = ""            # why feature extraction is not estimated (empty: it is)
    what: str = ""                    # one line: clips, epochs, seeds
    assumptions: list[str] = field(default_factory=list)   # the paper's own cost model lines


@dataclass(frozen=True)
class Devices:
    """N devices of the throughput file's kind under tf.distribute mirrored data parallelism."""
    count: int = 1
    efficiency: float = DEFAULT_EFFICIENCY

    def __post_init__(self) -> None:
        if self.count < 1:
            raise CostError(f"--devices must be >= 1, got {self.count}")
        if not 0.0 < self.efficiency <= 1.0:
            raise CostError(f"--scaling-efficiency must be in (0, 1], got {self.efficiency}")

    def seconds(self, one_device: float) -> float:
        return one_device if self.count == 1 else one_device / (self.count * self.efficiency)


def job_seconds(job: JobCost, rates: Throughput) -> tuple[float | None, float | None, str]:
    """(training seconds, scoring seconds or None, scaling note) of one job on one device."""
    rate, note = rates.rate(job.model, job.input_shape)
    train = job.train_clips * job.factor / rate
    score = None if job.score_clips is None else job.score_clips * FORWARD_SHARE / rate
    return train, score, note


def feature_seconds(cost: TableCost, rates: Throughput) -> float | None:
    """CPU seconds of the table's feature extraction, or None when not estimated."""
    if cost.feature_note or not cost.features:
        return None
    missing = [f.name for f in cost.features if f.name not in rates.feature_seconds]
    if missing:
        return None
    return sum(f.clips * rates.feature_seconds[f.name] for f in cost.features)


def hours(seconds: float | None) -> str:
    """Hours with one decimal (two below one hour); "n/a" for None."""
    if seconds is None:
        return "n/a"
    h = seconds / 3600
    return f"{h:.2f}" if h < 1 else f"{h:.1f}"


@dataclass(frozen=True)
class Estimate:
    """The numbers of one table's cost (seconds on one device; None = not estimated)."""
    jobs: list[tuple[JobCost, float, float | None]]       # (job, train s, score s)
    rows: list[tuple[str, float, float | None, int]]      # (run, train s, score s, new jobs) of jobs first read by the row
    train: float
    score: float | None
    features: float | None
    notes: list[str]


def estimate(cost: TableCost, rates: Throughput) -> Estimate:
    """Per job, per row (the jobs a row is the first to read, so the rows add up to the
    total; a job shared by several rows is counted once) and total seconds on one device."""
    per_job, notes = {}, []
    for job in cost.jobs:
        train, score, note = job_seconds(job, rates)
        per_job[job.key] = (job, train, score)
        if note and note not in notes:
            notes.append(note)
    rows, seen = [], set()
    for run, keys in cost.rows:
        new = [k for k in dict.fromkeys(keys) if k not in seen]
        seen.update(new)
        scores = [per_job[k][2] for k in new]
        rows.append((run, sum(per_job[k][1] for k in new),
                     None if any(s is None for s in scores) else sum(scores), len(new)))
    scores = [s for _, _, s in per_job.values()]
    return Estimate(list(per_job.values()), rows, sum(t for _, t, _ in per_job.values()),
                    None if any(s is None for s in scores) else sum(scores),
                    feature_seconds(cost, rates), notes)


def total_seconds(e: Estimate, devices: Devices) -> float | None:
    """Training + scoring on the devices + feature extraction (None when a part is unknown)."""
    if e.score is None or e.features is None:
        return None
    return devices.seconds(e.train + e.score) + e.features


def cost_lines(cost: TableCost, rates: Throughput, devices: Devices = Devices()) -> list[str]:
    """The estimate as text: source, per job, per row, total, assumptions."""
    n = devices.count
    batches = sorted({j.batch for j in cost.jobs if j.batch})
    if any(b < n for b in batches):
        raise CostError(f"--devices {n}: more devices than clips in the global batch ({min(batches)}) "
                        "of a mirrored step")
    e = estimate(cost, rates)
    cols = "1 device" + (f" | {n} devices" if n > 1 else "")

    def pair(seconds: float | None, divisible: bool = True) -> str:
        one = hours(seconds)
        if n == 1:
            return f"{one:>9}"
        return f"{one:>9} | {hours(None if seconds is None else devices.seconds(seconds) if divisible else seconds):>9}"

    lines = [f"faithful cost of {cost.name} ({cost.caption})" if cost.caption else f"faithful cost of {cost.name}",
             f"  throughput: {rates.path} ({rates.machine})",
             f"  work: {cost.what}" if cost.what else "",
             f"  hours of training + scoring, {cols}" + (f" (mirrored, efficiency {devices.efficiency:g})"
                                                           if n > 1 else "") + ":",
             "  jobs:"]
    lines = [line for line in lines if line]
    for job, train, score in e.jobs:
        both = None if score is None else train + score
        lines.append(f"    {pair(both)}  {job.label}  [{job.model}, {job.train_clips:,.0f} training clip-passes"
                     f"{'' if job.factor == 1 else f' x{job.factor:.2f}'}, "
                     f"{'unknown' if job.score_clips is None else f'{job.score_clips:,.0f}'} inference passes]")
    lines.append("  rows (jobs a row is the first to need; shared jobs counted once):")
    for run, train, score, new in e.rows:
        both = None if score is None else train + score
        lines.append(f"    {pair(both)}  {run}  ({new} new job{'s' if new != 1 else ''})")
    lines.append(f"  training only:       {pair(e.train)}")
    lines.append(f"  scoring (inference): {pair(e.score)}")
    if e.features is not None:
        lines.append(f"  feature extraction:  {pair(e.features, divisible=False)}  (CPU, once per data set; "
                     "0 when the feature cache holds it)")
    else:
        lines.append("  feature extraction:  n/a  (" + (cost.feature_note or "not in the throughput file") + ")")
    total = total_seconds(e, devices)
    one = total_seconds(e, Devices(1))
    if total is None:
        partial = e.train + (e.score or 0.0)
        lines.append(f"  TOTAL (known parts): {pair(partial)}  hours; the parts marked n/a are not included")
    else:
        lines.append(f"  TOTAL:               {hours(one):>9}" + (f" | {hours(total):>9}" if n > 1 else "")
                     + "  hours")
    lines.append("  assumptions:")
    lines += [f"    - {a}" for a in cost.assumptions]
    lines.append(f"    - inference pass = {FORWARD_SHARE:.2f} of a training clip (benchmark FLOPs: training = 3 x forward)")
    lines += [f"    - {note}" for note in e.notes]
    if n > 1:
        lines.append(f"    - {n} devices: tf.distribute mirrored, global batch kept "
                     f"({', '.join(f'{b} = {n} x {b / n:g}' for b in batches)}); "
                     f"time / ({n} x {devices.efficiency:g}); feature extraction not divided")
    if devices.efficiency == DEFAULT_EFFICIENCY and n > 1:
        lines.append(f"    - efficiency {DEFAULT_EFFICIENCY:g}: {EFFICIENCY_WHY}")
    if not rates.host.get("gpus"):
        lines.append("    - the throughput file names no GPU: for a GPU machine, run the benchmark there "
                     "(`python -m replication.drivers.bench --section training --json gpu.json`) and "
                     "pass --throughput gpu.json")
    return lines


__all__ = ["CostError", "DEFAULT_EFFICIENCY", "DEFAULT_THROUGHPUT", "Devices", "EFFICIENCY_WHY", "Estimate",
           "FORWARD_SHARE", "FeatureCost", "JobCost", "ModelRate", "TableCost", "Throughput", "cost_lines",
           "default_throughput_path", "estimate", "from_args", "feature_seconds", "job_seconds", "load_throughput",
           "total_seconds"]
