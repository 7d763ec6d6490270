"""Training curves as TensorBoard scalars (tf.summary), written beside a job, read back.

    with ScalarLog(work / "tensorboard") as tb:          # live, while a job trains
        tb.rows([{"branch": 0, "pass": 3, "loss": 1.2, "ce": 1.1, "kl": 0.1, "lr": 0.02}],
                series="branch", step="pass")
    write_history(entry / "tensorboard", history, series="branch", step="pass",
                  final={"accuracy_b0": 0.71})              # a finished job, from its history
    read_scalars(entry / "tensorboard")   # {"branch_0/loss": [(3, 1.2)], "final/accuracy_b0": ...}

Open them with `tensorboard --logdir <results>/paperN/_store` (`pip install tensorboard`
first: TensorFlow 2.21 no longer installs it, and the kit writes the events without it,
through tf.summary.write with the scalar plugin's metadata): every store entry holds the curves of its job (tensorboard/), a job still
training holds them in its work folder (.work-<key>/tensorboard). Writing a summary
reads numbers the loop already has; it changes nothing in training.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Iterable, Mapping

import numpy as np
import tensorflow as tf

LOG_DIR = "tensorboard"            # the folder name inside a store entry / work folder
CURVES = ("loss", "ce", "kl", "lr")


def _scalar_metadata() -> bytes:
    """The summary metadata TensorBoard's scalar dashboard looks for (plugin "scalars",
    a float32 scalar tensor): what tf.summary.scalar writes, without needing the
    tensorboard package to WRITE (it is needed only to view)."""
    meta = tf.compat.v1.SummaryMetadata()
    meta.plugin_data.plugin_name = "scalars"
    return meta.SerializeToString()


class ScalarLog:
    """A tf.summary file writer for one log folder (created on first use)."""

    def __init__(self, logdir: str | os.PathLike):
        self.logdir = Path(logdir)
        self.logdir.mkdir(parents=True, exist_ok=True)
        self._writer = tf.summary.create_file_writer(str(self.logdir))

    def scalar(self, tag: str, value: float, step: int) -> None:
        with self._writer.as_default():
            tf.summary.write(tag, tf.constant(float(value), tf.float32), step=int(step),
                             metadata=_scalar_metadata())

    def rows(self, rows: Iterable[Mapping], series: str | None, step: str,
             curves: Iterable[str] | None = CURVES) -> None:
        """One point per curve of each history row at step row[step]: tag
        `<series>_<row[series]>/<curve>` (`<row[series]>/<curve>` when that value is a
        string, `<curve>` when series is None); missing or non-numeric curves are skipped;
        curves None: every numeric entry of the row but series and step."""
        for row in rows:
            prefix = "" if series is None else (
                f"{row[series]}/" if isinstance(row[series], str) else f"{series}_{row[series]}/")
            names = [k for k in row if k not in (series, step)] if curves is None else curves
            for name in names:
                value = row.get(name)
                if isinstance(value, (int, float, np.floating, np.integer)) and not isinstance(value, bool):
                    self.scalar(f"{prefix}{name}", value, row[step])
        self.flush()

    def final(self, metrics: Mapping[str, float | None], step: int = 0) -> None:
        """Final metrics as `final/<name>` (None values skipped)."""
        for name, value in metrics.items():
            if value is not None:
                self.scalar(f"final/{name}", value, step)
        self.flush()

    def flush(self) -> None:
        self._writer.flush()

    def close(self) -> None:
        self._writer.close()

    def __enter__(self) -> "ScalarLog":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def write_history(logdir: str | os.PathLike, history: Iterable[Mapping], series: str | None,
                  step: str, final: Mapping[str, float | None] | None = None,
                  curves: Iterable[str] | None = CURVES) -> list[str]:
    """Writes a job's whole history (and final metrics) into a fresh log folder; returns
    the event files written, relative to logdir's parent (for a store entry's file list)."""
    logdir = Path(logdir)
    with ScalarLog(logdir) as log:
        log.rows(history, series, step, curves)
        if final:
            log.final(final)
    return sorted(p.relative_to(logdir.parent).as_posix() for p in logdir.rglob("events.out.tfevents.*"))


def read_scalars(logdir: str | os.PathLike) -> dict[str, list[tuple[int, float]]]:
    """tag -> [(step, value), ...] of every scalar in the event files under `logdir`."""
    out: dict[str, list[tuple[int, float]]] = {}
    files = sorted(Path(logdir).rglob("events.out.tfevents.*"))
    if not files:
        raise FileNotFoundError(f"{logdir}: no TensorBoard event file")
    for path in files:
        for event in tf.compat.v1.train.summary_iterator(str(path)):
            for value in event.summary.value:
                number = (float(tf.make_ndarray(value.tensor)) if value.HasField("tensor")
                          else float(value.simple_value))
                out.setdefault(value.tag, []).append((int(event.step), number))
    return out


__all__ = ["CURVES", "LOG_DIR", "ScalarLog", "read_scalars", "write_history"]
