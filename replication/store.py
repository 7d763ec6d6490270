"""Content-addressed store of finished training jobs, shared by every table and figure.

A training job (a model, or a group of distilled branches, at one seed under one
resolved configuration) is described by a plain JSON-able dict; its entry lives under
the hash of that description. A model that several tables need (paper 1's baselines
are Table 1, Table 6 "W/O TS" and Table 4's 10 s teachers; paper 2's independent
ResNet on logMel64 appears in four FSDKaggle tables) is therefore trained once, and a
killed table run resumes at job granularity.

Layout: <root>/<key>/{job.json, outputs.npz[, model.weights.h5][, more files]}: paper 2
adds branch_<i>.keras (each branch with its front end, shared/classifier.py) and every job
its TensorBoard curves (tensorboard/, shared/tensorboard.py). job.json lists the files
the entry holds; an entry is written under a temporary name and renamed when
complete, so a crash never leaves an entry that looks finished; the staging folder
(`.<key>.<pid>-*`) a killed save leaves is removed by the next save of that job.

Work folders (resume inside a job): while a job trains, its checkpoints live in
<root>/.work-<key>/ (`open_work`; holds job.json = the description and .owner.json =
the training process). A job killed mid-training leaves it; the next run of the same
job (same key, so the same configuration) finds it and resumes from the last
checkpoint. `save` removes it once the job's entry is published. Work folders of other
configurations have other keys and are never touched; delete one by hand to give up
that job's progress. Being hidden, work folders are not entries; a multi-worker run's
private copy of the store (shared.distribute.worker_results_root) carries them along,
so every worker resumes from the same checkpoint.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

import numpy as np

from shared.config import atomic_write_text
from shared.publish import OWNER_FILE, atomic_directory, clean_stale, owner_gone, owner_record

STORE_VERSION = 1          # bump when the meaning of a stored entry changes
JOB = "job.json"
OUTPUTS = "outputs.npz"
WEIGHTS = "model.weights.h5"
WORK_PREFIX = ".work-"     # <root>/.work-<key>/: checkpoints of a job being trained
WORK_LOGS = "tensorboard"  # live training curves in a work folder (shared/tensorboard.py): not a checkpoint


class WorkInUseError(FileExistsError):
    """Another live process is training the same job in its work folder (a
    FileExistsError, so the table commands report it as one error line, exit 2)."""


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
             save_weights: Callable[[Path], None] | None = None,
             save_files: Callable[[Path], Sequence[str]] | None = None) -> Path:
        """Writes one finished job atomically (temp dir + rename); replaces an older entry.

        Another process that finishes the same job (same key, so the same description)
        while this one writes is kept, and this copy discarded.

        Args:
          outputs: arrays saved to outputs.npz (embeddings, logits, probabilities, labels).
          info: JSON-able facts (history, timings) kept beside the description.
          save_weights: if given, called with the weights path inside the temporary
            directory (e.g. `model.save_weights`); it must create that file.
          save_files: if given, called with the temporary directory; writes further files
            there and returns their paths relative to it (listed in job.json, each must
            exist: a missing one is an error naming it).
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
            if save_files is not None:
                for name in save_files(tmp):
                    name = Path(name).as_posix()
                    if not (tmp / name).is_file():
                        raise RuntimeError(f"{tmp / name}: save_files listed a file it did not write")
                    files.append(name)
            np.savez(tmp / OUTPUTS, **{k: np.asarray(v) for k, v in outputs.items()})
            payload = {"key": key, "files": files, "description": dict(description),
                       "info": dict(info)}
            (tmp / JOB).write_text(json.dumps(payload, indent=2, default=str) + "\n",
                                   encoding="utf-8")
        self.close_work(key)                      # published: its checkpoints are done with
        return self.path(key)

    # ------------------------------------------------------------------ work folders
    def work_path(self, key: str) -> Path:
        """The job's work folder (checkpoints while it trains): <root>/.work-<key>."""
        return self.root / f"{WORK_PREFIX}{key}"

    def open_work(self, key: str, description: Mapping[str, Any]) -> tuple[Path, bool]:
        """(work folder, resumed) of a job about to train: created when missing, else the
        folder a killed run of the same job left (resumed True when it holds anything
        besides job.json, the live TensorBoard curves and hidden files: the trainer's
        checkpoints). Claims it for this
        process (.owner.json: pid, host, start time, the folder's absolute path).

        Raises:
          WorkInUseError: another process on this host that still runs is training the
            job in this folder (two runs of one job would overwrite each other's
            checkpoints). A claim recorded for another path (a copied store) does not count.
          ValueError: the folder holds another job's description (names the folder).
        """
        work = self.work_path(key)
        work.mkdir(parents=True, exist_ok=True)
        here = str(work.resolve())
        try:
            owner = json.loads((work / OWNER_FILE).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            owner = None
        mine = owner_record()
        if (isinstance(owner, dict) and isinstance(owner.get("pid"), int) and owner.get("path") == here
                and (owner["pid"], owner.get("start")) != (mine["pid"], mine["start"])
                and not owner_gone(owner)):
            raise WorkInUseError(
                f"{work}: process {owner['pid']} is training this job now (its checkpoints are "
                f"there); wait for it to finish (its model then lands in the store) or stop it")
        expected = json.loads(json.dumps(dict(description), default=str))
        described = work / JOB
        if described.is_file():
            try:
                found = json.loads(described.read_text(encoding="utf-8")).get("description")
            except (OSError, ValueError):
                found = None
            if found is not None and found != expected:
                raise ValueError(f"{described}: work folder of key {key} describes another job; "
                                 f"delete {work} to retrain it")
        resumed = any(not p.name.startswith(".") and p.name not in (JOB, WORK_LOGS) for p in work.iterdir())
        atomic_write_text(work / OWNER_FILE, json.dumps({**mine, "path": here}) + "\n")
        atomic_write_text(described, json.dumps({"key": key, "description": expected}, indent=2)
                          + "\n")
        return work, resumed

    def close_work(self, key: str) -> None:
        """Removes the job's work folder (its entry is in the store)."""
        shutil.rmtree(self.work_path(key), ignore_errors=True)

    def files(self, key: str) -> list[str]:
        """The files a finished entry holds (job.json's list), [] when there is no entry."""
        return list(self._files(key) or []) if self.has(key) else []

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
