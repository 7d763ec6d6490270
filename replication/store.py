"""Content-addressed store of finished training jobs, shared by every table and figure.

A training job (a model, or a group of distilled branches, at one seed under one
resolved configuration) is described by a plain JSON-able dict; its entry lives under
the hash of that description. A model that several tables need (paper 1's baselines
are Table 1, Table 6 "W/O TS" and Table 4's 10 s teachers; paper 2's independent
ResNet on logMel64 appears in four FSDKaggle tables) is therefore trained once, and a
killed table run resumes at job granularity.

Layout: <root>/<key>/{job.json, outputs.npz[, model.weights.h5]}. job.json lists the
files the entry holds; an entry is written under a temporary name and renamed when
complete, so a crash never leaves an entry that looks finished; the staging folder
(`.<key>.<pid>-*`) a killed save leaves is removed by the next save of that job.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any, Callable, Mapping

import numpy as np

from shared.publish import atomic_directory, clean_stale

STORE_VERSION = 1          # bump when the meaning of a stored entry changes
JOB = "job.json"
OUTPUTS = "outputs.npz"
WEIGHTS = "model.weights.h5"


def describe_key(description: Mapping[str, Any]) -> str:
    """A stable 16-hex-digit key of a JSON-able description (sorted keys)."""
    text = json.dumps({"store_version": STORE_VERSION, **description}, sort_keys=True, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


class JobStore:
    """Finished jobs (outputs, optionally weights) keyed by their resolved configuration."""

    def __init__(self, root: str | os.PathLike):
        self.root = Path(root)

    def path(self, key: str) -> Path:
        return self.root / key

    def _files(self, key: str) -> list[str] | None:
        try:
            payload = json.loads((self.path(key) / JOB).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        if "files" in payload:
            return list(payload["files"])
        # Entries written before job.json listed its files: what is there is what it holds.
        return [OUTPUTS] + ([WEIGHTS] if (self.path(key) / WEIGHTS).is_file() else [])

    def has(self, key: str, *, weights: bool = False) -> bool:
        """True when the entry is complete (and, if asked, holds weights)."""
        files = self._files(key)
        if files is None or (weights and WEIGHTS not in files):
            return False
        return all((self.path(key) / name).is_file() for name in files)

    def save(self, key: str, description: Mapping[str, Any], outputs: Mapping[str, np.ndarray],
             info: Mapping[str, Any],
             save_weights: Callable[[Path], None] | None = None) -> Path:
        """Writes one finished job atomically (temp dir + rename); replaces an older entry.

        Another process that finishes the same job (same key, so the same description)
        while this one writes is kept, and this copy discarded.

        Args:
          outputs: arrays saved to outputs.npz (embeddings, logits, probabilities, labels).
          info: JSON-able facts (history, timings) kept beside the description.
          save_weights: if given, called with the weights path inside the temporary
            directory (e.g. `model.save_weights`); it must create that file.
        """
        with_weights = save_weights is not None
        clean_stale(self.root, [f".{key}."])      # what a killed save of this job left
        with atomic_directory(self.path(key), replace=True, prefix=f".{key}.",
                              keep=lambda _: self.has(key, weights=with_weights)) as tmp:
            files = [OUTPUTS]
            if save_weights is not None:
                save_weights(tmp / WEIGHTS)
                if not (tmp / WEIGHTS).is_file():
                    raise RuntimeError(f"{tmp / WEIGHTS}: save_weights wrote no file")
                files.append(WEIGHTS)
            np.savez(tmp / OUTPUTS, **{k: np.asarray(v) for k, v in outputs.items()})
            payload = {"key": key, "files": files, "description": dict(description),
                       "info": dict(info)}
            (tmp / JOB).write_text(json.dumps(payload, indent=2, default=str) + "\n",
                                   encoding="utf-8")
        return self.path(key)

    def weights_path(self, key: str) -> Path:
        """Path of a finished entry's weights file.

        Raises:
          FileNotFoundError: the entry is not complete or holds no weights.
        """
        if not self.has(key, weights=True):
            raise FileNotFoundError(f"{self.path(key)}: no finished model with weights, key {key}")
        return self.path(key) / WEIGHTS

    def load(self, key: str) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
        """(outputs, job.json payload) of a finished entry.

        Raises:
          FileNotFoundError: the entry is not in the store.
          ValueError: the entry is unreadable (names the directory).
        """
        d = self.path(key)
        if not self.has(key):
            raise FileNotFoundError(f"{d}: no finished job with key {key} in the store")
        try:
            with np.load(d / OUTPUTS, allow_pickle=False) as data:
                outputs = {k: data[k] for k in data.files}
            payload = json.loads((d / JOB).read_text(encoding="utf-8"))
        except (OSError, ValueError) as err:
            raise ValueError(f"{d}: unreadable store entry ({err}); delete it to retrain") from None
        return outputs, payload
