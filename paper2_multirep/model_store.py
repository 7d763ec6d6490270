"""Content-addressed store of trained-branch outputs, shared by every paper-2 table.

The same independent branch (e.g. ResNet on logMel64 on FSDKaggle2018) appears in
Tables I, II, V and VI; a distilled group may appear in a table and a figure. Each
training job is described by a plain dict (data set, split, representation's feature
params, architecture, training params, seed, job kind) and stored under the hash of
that description, so a job with the same resolved configuration is trained once and a
killed table run resumes at job granularity.

Layout: <root>/<key>/{job.json, outputs.npz}. A job directory is written under a
temporary name and renamed when complete, so a crash never leaves an entry that looks
finished.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any, Mapping

import numpy as np

STORE_VERSION = 1  # bump when the meaning of stored outputs changes


def describe_key(description: Mapping[str, Any]) -> str:
    """A stable 16-hex-digit key of a JSON-able description (sorted keys)."""
    text = json.dumps({"store_version": STORE_VERSION, **description}, sort_keys=True, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


class ModelStore:
    """Finished jobs' evaluation outputs (audio-level logits/probabilities) keyed by config."""

    def __init__(self, root: str | os.PathLike):
        self.root = Path(root)

    def path(self, key: str) -> Path:
        return self.root / key

    def has(self, key: str) -> bool:
        d = self.path(key)
        return (d / "job.json").is_file() and (d / "outputs.npz").is_file()

    def save(self, key: str, description: Mapping[str, Any], outputs: Mapping[str, np.ndarray],
             info: Mapping[str, Any]) -> Path:
        """Writes one finished job atomically (temp dir + rename); replaces an older entry."""
        self.root.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{key}.", dir=self.root))
        try:
            np.savez(tmp / "outputs.npz", **{k: np.asarray(v) for k, v in outputs.items()})
            payload = {"key": key, "description": dict(description), "info": dict(info)}
            (tmp / "job.json").write_text(json.dumps(payload, indent=2, default=str) + "\n",
                                          encoding="utf-8")
            final = self.path(key)
            if final.exists():
                shutil.rmtree(final)
            os.replace(tmp, final)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        return final

    def load(self, key: str) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
        """(outputs, job.json payload) of a finished job.

        Raises:
          FileNotFoundError: the job is not in the store.
          ValueError: the entry is unreadable (names the file).
        """
        d = self.path(key)
        if not self.has(key):
            raise FileNotFoundError(f"{d}: no finished job with key {key} in the model store")
        try:
            with np.load(d / "outputs.npz", allow_pickle=False) as data:
                outputs = {k: data[k] for k in data.files}
            payload = json.loads((d / "job.json").read_text(encoding="utf-8"))
        except (OSError, ValueError) as err:
            raise ValueError(f"{d}: unreadable model-store entry ({err}); delete it to retrain") from None
        return outputs, payload
