"""Content-addressed store of paper 1's trained models, shared by every table and figure.

A trained model (a `ModelJob` at one seed under one resolved configuration) is
described by a plain JSON-able dict: data set and split identity, the family's feature,
model and training parameters, the teacher-student setting, the teacher's own key and
the seed. The entry lives under the hash of that description, so Table 6's "W/O TS"
spectrogram model is Table 1's baseline and Table 4's 10 s teacher, trained once, and
a killed table run resumes at model granularity.

Layout: <root>/<key>/{job.json, model.weights.h5, outputs.npz}. `outputs.npz` holds the
embeddings of the training and evaluation splits (what the SVM back-end, the ensemble
and the figures read), the weights let a teacher be reloaded for its students. An entry
is written under a temporary name and renamed when complete, so a crash never leaves
an entry that looks finished.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any, Callable, Mapping

import numpy as np

STORE_VERSION = 1          # bump when the meaning of a stored entry changes
WEIGHTS = "model.weights.h5"
OUTPUTS = "outputs.npz"
JOB = "job.json"


def describe_key(description: Mapping[str, Any]) -> str:
    """A stable 16-hex-digit key of a JSON-able description (sorted keys)."""
    text = json.dumps({"store_version": STORE_VERSION, **description}, sort_keys=True, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


class ModelStore:
    """Finished models (weights + split embeddings) keyed by their resolved configuration."""

    def __init__(self, root: str | os.PathLike):
        self.root = Path(root)

    def path(self, key: str) -> Path:
        return self.root / key

    def has(self, key: str) -> bool:
        d = self.path(key)
        return all((d / name).is_file() for name in (JOB, WEIGHTS, OUTPUTS))

    def save(self, key: str, description: Mapping[str, Any], save_weights: Callable[[Path], None],
             outputs: Mapping[str, np.ndarray], info: Mapping[str, Any]) -> Path:
        """Writes one finished model atomically (temp dir + rename); replaces an older entry.

        Args:
          save_weights: called with the weights path inside the temporary directory
            (e.g. `model.save_weights`).
          outputs: arrays saved to outputs.npz (embeddings, labels, logits).
          info: JSON-able facts (history, timings) kept beside the description.
        """
        self.root.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{key}.", dir=self.root))
        try:
            save_weights(tmp / WEIGHTS)
            if not (tmp / WEIGHTS).is_file():
                raise RuntimeError(f"{tmp / WEIGHTS}: save_weights wrote no file")
            np.savez(tmp / OUTPUTS, **{k: np.asarray(v) for k, v in outputs.items()})
            payload = {"key": key, "description": dict(description), "info": dict(info)}
            (tmp / JOB).write_text(json.dumps(payload, indent=2, default=str) + "\n", encoding="utf-8")
            final = self.path(key)
            if final.exists():
                shutil.rmtree(final)
            os.replace(tmp, final)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        return self.path(key)

    def weights_path(self, key: str) -> Path:
        """Path of a finished entry's weights file.

        Raises:
          FileNotFoundError: the entry is not (completely) in the store.
        """
        if not self.has(key):
            raise FileNotFoundError(f"{self.path(key)}: no finished model with key {key} in the store")
        return self.path(key) / WEIGHTS

    def load(self, key: str) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
        """(outputs, job.json payload) of a finished entry.

        Raises:
          FileNotFoundError: the entry is not in the store.
          ValueError: the entry is unreadable (names the file).
        """
        d = self.path(key)
        if not self.has(key):
            raise FileNotFoundError(f"{d}: no finished model with key {key} in the store")
        try:
            with np.load(d / OUTPUTS, allow_pickle=False) as data:
                outputs = {k: data[k] for k in data.files}
            payload = json.loads((d / JOB).read_text(encoding="utf-8"))
        except (OSError, ValueError) as err:
            raise ValueError(f"{d}: unreadable model-store entry ({err}); delete it to retrain") from None
        return outputs, payload
