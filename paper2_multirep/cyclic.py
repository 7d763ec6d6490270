"""Cyclic distillation (paper 2, Algorithm 1) and the independent baseline in Keras.

    distiller = CyclicDistiller([b0.model, b1.model], [data0, data1], num_train_clips=N,
                                num_classes=C, params=train_params, seed=0, strategy=strategy)
    distiller.run(checkpoint_dir=".../ckpt")       # resumes from the last phase if present
    outs = distiller.evaluate([test0, test1], num_clips=N_test)   # audio-level ClipOutputs

Data contract (shared/pipeline.py): every dataset yields batched dicts
{"x": [B, frames, bins, 3] float, "y": [B, C] one-hot, "index": [B] int32 clip index}.
  BranchData.train  random training crops, shuffled and batched (GLOBAL batch). May be a
                    callable pass -> Dataset, so the data order is a function of a pass
                    counter kept in the checkpoint (exact resume). A training dataset of
                    shared.pipeline is trained on by pass number (`pass_of`), so the
                    order is the same under every tf.distribute strategy.
  BranchData.soft   crops of every TRAINING clip (all of them, or one per clip, see
                    register p2-soft-label-crops), batched, each carrying its clip index;
                    used to compute the soft labels P_i of Eq. (2).
Evaluation datasets yield every crop of every test clip with the clip's index.

One cycle q of Algorithm 1 (register p2-epoch-accounting for what counts as an epoch):
  1. single-branch training: b passes of L_ce (Eq. 1) per branch (mixup on x, y);
  2. information fusion: P_i = softmax(logits / T) of every training clip, inference
     mode, un-mixed input, averaged over the clip's crops (CyclicParams.soft_label_crops
     "all"; "one": one crop per clip drawn from the seed and the cycle); P_bar = mean_i P_i (Eq. 3),
     stored in a tf.Variable [N, C] shared by the branches (negative control,
     CyclicParams.aggregate_signal = "permuted", register p2-aggregate-signal: row n of
     the stored table is P_bar of clip order[n], a fixed derangement drawn from the run's
     seed, so no clip is distilled toward its own aggregate);
  3. distillation: d passes of L_ce + L_kl (Eq. 5) per branch, L_kl = KL(P_branch || P_bar)
     as printed in Eq. (4) (P_branch = softmax(logits / T) of the mixed input, P_bar
     looked up by clip index and mixed with the same lambda);
  4. q += 1, learning rate updated (cosine annealing over the cycles).
The independent baseline trains each branch alone with L_ce for
TrainParams.independent_passes passes, cosine annealing per pass.

All state (branch weights, optimizer slots, mixup generators, cycle, phase, pass
counters, P_bar) is held by trackable objects; `state_checkpoint()` returns the
tf.train.Checkpoint that saves and restores it at any phase boundary. Build the branch
models inside `strategy.scope()`; the distiller builds its variables there too, and
`fit`/`predict` distribute the per-branch steps; every dataset reaches them through
shared.distribute.distribute_input (per-worker slices of each global batch under
MultiWorkerMirroredStrategy). Mixed precision (DistributeParams.precision): the
branches' logits and every loss are float32, and the custom train step scales the loss
for a LossScaleOptimizer (mixed_float16).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Sequence, Union

import keras
import numpy as np
import tensorflow as tf

from paper2_multirep.mixup import Mixup
from paper2_multirep.params import TrainParams
from shared import controls, losses
from shared.config import atomic_write_text
from shared.distribute import distribute_input, is_multi_worker, pad_batches, sync_replica_copies
from shared.passes import claim_passes, has_passes, one_pass
from shared.schedules import cosine_lr
from shared.metrics import clip_average

PHASE_SINGLE, PHASE_FUSE, PHASE_DISTILL = 0, 1, 2
PHASE_NAMES = {PHASE_SINGLE: "single", PHASE_FUSE: "fusion", PHASE_DISTILL: "distill"}
HISTORY_FILE = "history.json"      # beside the checkpoints: the rows of the passes so far

DatasetOrFactory = Union[tf.data.Dataset, Callable[[int], tf.data.Dataset]]


@dataclass
class BranchData:
    """The datasets of one branch (its own representation of the same clips)."""
    train: DatasetOrFactory          # random crops, shuffled, batched dicts x/y/index
    soft: tf.data.Dataset | None = None  # crops of every training clip (cyclic mode only)
    name: str = ""

    def train_dataset(self, pass_index: int) -> tf.data.Dataset:
        return self.train(pass_index) if callable(self.train) else self.train


@dataclass
class ClipOutputs:
    """Audio-level outputs of one branch on one split."""
    probs: np.ndarray                # [clips, C] mean over crops of softmax(logits)
    logits: np.ndarray               # [clips, C] mean over crops of the logits


def pass_of(dataset: tf.data.Dataset) -> tf.data.Dataset:
    """What a 1-epoch fit trains on: for a training dataset of shared.pipeline, its next
    pass by number (shared.passes; the same on every iterator, so Keras' first-batch peek
    under a strategy shifts nothing). Keras 3.15 opened two iterators per 1-epoch fit of
    a finite dataset on the default strategy, so a dataset reused for every pass trains
    on its passes 0, 2, 4, ... and a fresh dataset per pass on its pass 0, as before.
    Other datasets are returned unchanged."""
    if not has_passes(dataset):
        return dataset
    return one_pass(dataset, claim_passes(dataset, 2))


class BranchTrainer(keras.Model):
    """Wraps one branch network; its train_step is L_ce (+ L_kl when `distill` is 1).

    `call` returns the branch's logits [B, C]; `predict` yields {"logits", "index"} per crop.
    """

    def __init__(self, branch: keras.Model, params: TrainParams, seed: int,
                 aggregate: tf.Variable | None = None, **kwargs):
        super().__init__(**kwargs)
        self.branch = branch
        self.aggregate = aggregate                       # [N, C] P_bar, shared by the branches
        self.distill = tf.Variable(0.0, trainable=False, name="distill")   # 0: Eq. (1); 1: Eq. (5)
        self.temperature = float(params.cyclic.temperature)
        self.kl_direction = params.cyclic.kl_direction
        self.kl_scale = float(params.cyclic.kl_weight) * (
            self.temperature ** 2 if params.cyclic.t_squared else 1.0)
        self.mix_soft = params.mixup.mix_soft_labels
        self.mixer = Mixup(params.mixup.alpha, seed) if params.mixup.enabled else None
        self.loss_tracker = keras.metrics.Mean(name="loss")
        self.ce_tracker = keras.metrics.Mean(name="ce")
        self.kl_tracker = keras.metrics.Mean(name="kl")
        self.built = True                                # the branch is built; nothing of our own

    @property
    def metrics(self):
        return [self.loss_tracker, self.ce_tracker, self.kl_tracker]

    def call(self, x, training=False):
        return self.branch(x, training=training)         # [B, C] logits

    def _kl(self, logits, soft):
        probs = tf.nn.softmax(logits / self.temperature, axis=-1)       # [B, C] P of Eq. (2)
        return losses.paper2_kl(probs, soft, direction=self.kl_direction)  # scalar, Eq. (4)

    def train_step(self, data):
        x = data["x"]                                                   # [B, F, K, 3]
        y = tf.cast(data["y"], tf.float32)                              # [B, C]
        if self.aggregate is not None:
            soft = tf.gather(self.aggregate, tf.cast(data["index"], tf.int32))  # [B, C] P_bar rows
        else:
            soft = y                                                    # unused (independent)
        if self.mixer is not None:
            if self.mix_soft:
                (x, y, soft), _, _ = self.mixer([x, y, soft])
            else:
                (x, y), _, _ = self.mixer([x, y])
        with tf.GradientTape() as tape:
            logits = self.branch(x, training=True)                      # [B, C]
            ce = losses.hard_cross_entropy(y, logits)                   # scalar, Eq. (1)
            if self.aggregate is not None:
                kl = tf.cond(self.distill > 0.5, lambda: self._kl(logits, soft),
                             lambda: tf.constant(0.0))
            else:
                kl = tf.constant(0.0)
            loss = ce + self.distill * self.kl_scale * kl               # Eq. (5) or Eq. (1)
            if self.branch.losses:
                loss = loss + tf.add_n(self.branch.losses)
            replicas = tf.distribute.get_strategy().num_replicas_in_sync
            scaled = loss / tf.cast(replicas, loss.dtype)               # gradients are summed over replicas
            # mixed_float16: compile wrapped the optimizer in a LossScaleOptimizer, which
            # scales here and unscales (and skips non-finite steps) in apply_gradients;
            # any other policy: scale_loss returns the loss unchanged.
            scaled = self.optimizer.scale_loss(scaled)
        variables = self.branch.trainable_variables
        grads = tape.gradient(scaled, variables)
        self.optimizer.apply_gradients(zip(grads, variables))
        self.loss_tracker.update_state(loss)
        self.ce_tracker.update_state(ce)
        self.kl_tracker.update_state(kl)
        return {m.name: m.result() for m in self.metrics}

    def predict_step(self, data):
        logits = self.branch(data["x"], training=False)                 # [B, C]
        return {"logits": logits, "index": data["index"]}


def predict_crops(trainer: BranchTrainer, dataset: tf.data.Dataset) -> tuple[np.ndarray, np.ndarray]:
    """Logits [n_crops, C] and clip indices [n_crops] of every crop in `dataset` (inference mode)."""
    # Multi-worker: DATA sharding + Keras' all-gather give every worker every crop once, in
    # order; batches are padded to a multiple of the replicas (index -1 rows, dropped here).
    strategy = trainer.distribute_strategy
    if is_multi_worker(strategy):
        dataset = pad_batches(dataset, strategy.num_replicas_in_sync)
    out = trainer.predict(distribute_input(dataset, strategy), verbose=0)
    logits = np.asarray(out["logits"], dtype=np.float64)                # [n (+ padding), C]
    index = np.asarray(out["index"]).reshape(-1).astype(np.int64)      # [n (+ padding)]
    keep = index >= 0
    return logits[keep], index[keep]


def _softmax(z: np.ndarray) -> np.ndarray:
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def one_crop_per_clip(index: np.ndarray, num_clips: int, rng: np.random.Generator) -> np.ndarray:
    """Rows of `index` [n_crops] (clip index per crop) keeping ONE crop per clip, drawn
    uniformly among that clip's crops; returned in clip order [num_clips].

    A clip's crops are numbered in the order the soft-label dataset yields them (clip
    order and start frame for shared.pipeline.make_eval_crops). One uniform number per
    clip is drawn from `rng` whatever the crop counts, so two branches given generators
    in the same state pick the same crop number of every clip (the same audio segment
    when their crops have the same frame grid). A clip without crops is an error.
    """
    index = np.asarray(index).reshape(-1).astype(np.int64)               # [n]
    counts = np.bincount(index, minlength=num_clips)                     # [clips]
    if counts.shape[0] != num_clips or np.any(counts == 0):
        missing = np.flatnonzero(counts[:num_clips] == 0)
        raise ValueError(f"soft-label crops: clips {missing[:5].tolist()} have no crop "
                         f"(or indices outside [0, {num_clips}))")
    order = np.argsort(index, kind="stable")                             # [n] crops grouped by clip
    starts = np.cumsum(counts) - counts                                  # [clips] first row of each clip in `order`
    u = rng.random(num_clips)                                            # [clips] uniform [0, 1)
    pick = starts + np.minimum((u * counts).astype(np.int64), counts - 1)  # [clips]
    return order[pick]                                                   # [clips] rows of the dataset


def soft_label_rng(seed: int, cycle: int) -> np.random.Generator:
    """The generator of the one-crop choice of `cycle` (register p2-soft-label-crops): a
    function of the run's seed and the cycle only, so a resumed run draws the same crops."""
    return np.random.default_rng([int(seed), int(cycle), 0x50F7])


def clip_soft_labels(trainer: BranchTrainer, dataset: tf.data.Dataset, num_clips: int,
                     temperature: float, average: str = "probs", crops: str = "all",
                     rng: np.random.Generator | None = None) -> np.ndarray:
    """P_i of Eq. (2) for every clip [num_clips, C]: softmax(logits / T), averaged over crops.

    crops "all": every crop of `dataset` counts (default); "one": one crop per clip drawn
    by `one_crop_per_clip` from `rng` (every crop is still predicted, in inference mode,
    so the kept crop's output is exactly what predicting it alone gives).
    average "probs": mean of the crops' softened probabilities (default); "logits":
    softmax of the crops' mean logits / T (register p2-soft-label-crops). With one crop
    per clip the two agree.
    """
    logits, index = predict_crops(trainer, dataset)                    # [n, C], [n]
    if crops == "one":
        if rng is None:
            raise ValueError("soft-label crops 'one' needs a random generator (rng)")
        keep = one_crop_per_clip(index, num_clips, rng)                 # [clips]
        logits, index = logits[keep], index[keep]                       # [clips, C], [clips]
    elif crops != "all":
        raise ValueError(f"soft-label crops '{crops}' unknown (all, one)")
    if average == "probs":
        return clip_average(_softmax(logits / temperature), index, num_clips)
    if average == "logits":
        return _softmax(clip_average(logits, index, num_clips) / temperature)
    raise ValueError(f"soft-label average '{average}' unknown (probs, logits)")


def clip_outputs(trainer: BranchTrainer, dataset: tf.data.Dataset, num_clips: int) -> ClipOutputs:
    """Audio-level probabilities and logits of every clip of an evaluation split."""
    logits, index = predict_crops(trainer, dataset)
    return ClipOutputs(probs=clip_average(_softmax(logits), index, num_clips),
                       logits=clip_average(logits, index, num_clips))


class CyclicDistiller:
    """Trains Gamma >= 2 branches by Algorithm 1 (or, independent=True, each alone by CE)."""

    def __init__(self, branches: Sequence[keras.Model], data: Sequence[BranchData],
                 num_train_clips: int, num_classes: int, params: TrainParams, *, seed: int = 0,
                 strategy: tf.distribute.Strategy | None = None, independent: bool = False,
                 log: Callable[[str], None] = print):
        if len(branches) != len(data):
            raise ValueError(f"{len(branches)} branches but {len(data)} datasets")
        if not independent and len(branches) < 2:
            raise ValueError("cyclic distillation needs at least 2 branches (Gamma >= 2)")
        if not independent and any(d.soft is None for d in data):
            raise ValueError("cyclic distillation needs BranchData.soft (crops of the training clips)")
        for i, b in enumerate(branches):
            if b.output_shape[-1] != num_classes:
                raise ValueError(f"branch {i} outputs {b.output_shape[-1]} classes, expected {num_classes}")
        self.params = params
        self.seed = int(seed)
        self.data = list(data)
        self.num_train_clips = int(num_train_clips)
        self.num_classes = int(num_classes)
        self.independent = independent
        self.strategy = strategy or tf.distribute.get_strategy()
        self.log = log
        self.history: list[dict] = []
        self._tensorboard = None                       # shared.tensorboard.ScalarLog while run() trains
        self.last_soft_labels: list[np.ndarray] = []   # P_i of the latest fusion (inspection/tests)
        # Negative control: stored row n = P_bar of clip signal_order[n] (None: the clip's own)
        self.signal_order = (controls.derangement(self.num_train_clips, seed)
                             if params.cyclic.aggregate_signal == "permuted" and not independent else None)
        opt = params.optim
        with self.strategy.scope():
            self.cycle = tf.Variable(0, dtype=tf.int64, trainable=False, name="cycle")  # q (or pass, independent)
            self.phase = tf.Variable(PHASE_SINGLE, dtype=tf.int64, trainable=False, name="phase")
            self.passes = tf.Variable(np.zeros(len(branches), np.int64), trainable=False, name="passes")
            self.aggregate = None if independent else tf.Variable(
                tf.fill([self.num_train_clips, self.num_classes], 1.0 / self.num_classes),
                trainable=False, name="aggregate_soft_labels")                      # [N, C] P_bar
            self.trainers = []
            for i, branch in enumerate(branches):
                trainer = BranchTrainer(branch, params, seed=seed * 1000 + i, aggregate=self.aggregate,
                                        name=f"trainer_{i}")
                optimizer = keras.optimizers.SGD(learning_rate=opt.learning_rate, momentum=opt.momentum,
                                                 weight_decay=opt.weight_decay or None)
                trainer.compile(optimizer=optimizer, jit_compile=opt.jit_compile)
                optimizer.build(branch.trainable_variables)      # slots exist before any restore
                self.trainers.append(trainer)

    # ------------------------------------------------------------------ bookkeeping
    @property
    def total_steps(self) -> int:
        """Cycles (cyclic) or passes (independent) of the whole run."""
        return self.params.independent_passes if self.independent else self.params.num_cycles

    def state_checkpoint(self) -> tf.train.Checkpoint:
        """Every piece of training state, for tf.train.Checkpoint save/restore."""
        items = {"cycle": self.cycle, "phase": self.phase, "passes": self.passes}
        if self.aggregate is not None:
            items["aggregate"] = self.aggregate
        for i, t in enumerate(self.trainers):
            items[f"branch_{i}"] = t.branch
            items[f"optimizer_{i}"] = t.optimizer
            items[f"distill_{i}"] = t.distill
            if t.mixer is not None:
                items[f"mixup_{i}"] = t.mixer
        return tf.train.Checkpoint(**items)

    def _set_lr(self, step: int) -> float:
        opt = self.params.optim
        lr = opt.learning_rate if opt.schedule == "constant" else \
            cosine_lr(opt.learning_rate, opt.eta_min, step, self.total_steps)
        for t in self.trainers:
            t.optimizer.learning_rate = lr
        return lr

    def _fit_pass(self, i: int, phase: str, lr: float) -> None:
        """One pass of branch i over its training data."""
        trainer = self.trainers[i]
        pass_index = int(self.passes[i].numpy())
        data = pass_of(self.data[i].train_dataset(pass_index))
        if self.params.optim.steps_per_pass:            # a rehearsal's capped pass (replication/rehearsal.py)
            data = data.take(self.params.optim.steps_per_pass)
        data = distribute_input(data, self.strategy)
        hist = trainer.fit(data, epochs=1,
                           shuffle=False, verbose=self.params.optim.verbose)
        # BatchNorm moving statistics: one copy per replica under a strategy; make them equal
        # so predict (soft labels, evaluation) and checkpoints see one value (no-op on 1 replica)
        sync_replica_copies(trainer.branch.non_trainable_variables, self.strategy)
        self.passes[i].assign(pass_index + 1)
        row = {"cycle": int(self.cycle.numpy()), "phase": phase, "branch": i, "pass": pass_index,
               "lr": lr, **{k: float(v[-1]) for k, v in hist.history.items()}}
        if not all(math.isfinite(row[k]) for k in ("loss", "ce", "kl")):
            raise FloatingPointError(f"branch {i} ({self.data[i].name}): non-finite loss in {row}")
        self.history.append(row)
        if self._tensorboard is not None:               # reads the row; training is untouched
            self._tensorboard.rows([row], series="branch", step="pass")

    def fuse(self) -> np.ndarray:
        """Information fusion: P_i of every branch and P_bar = mean_i P_i (Eq. 2-3) -> [N, C].

        Returns the table the branches are distilled toward (the stored aggregate): P_bar,
        or under the negative control P_bar[signal_order] (row n from clip signal_order[n])."""
        c = self.params.cyclic
        cycle = int(self.cycle.numpy())
        # soft_label_crops "one": every branch draws from a generator in the same state, so
        # all branches score the same crop number of a clip in a cycle (register p2-soft-label-crops)
        self.last_soft_labels = [
            clip_soft_labels(t, d.soft, self.num_train_clips, c.temperature, c.soft_label_average,
                             crops=c.soft_label_crops, rng=soft_label_rng(self.seed, cycle))
            for t, d in zip(self.trainers, self.data)]
        p_bar = np.mean(np.stack(self.last_soft_labels), axis=0)           # [N, C]
        if self.signal_order is not None:
            p_bar = p_bar[self.signal_order]                               # [N, C] other clips' rows
        self.aggregate.assign(p_bar.astype(np.float32))
        return p_bar

    def _save(self, manager) -> None:
        if manager is not None:
            # history first: a crash between the two leaves extra rows, dropped on restore
            atomic_write_text(Path(manager.directory) / HISTORY_FILE, json.dumps(self.history))
            manager.save()

    def _restore_history(self, directory: str) -> None:
        """The history rows of the passes the restored checkpoint holds (one row per
        pass: as many as the branches' pass counters add up to)."""
        path = Path(directory) / HISTORY_FILE
        if not path.is_file():
            return
        try:
            rows = json.loads(path.read_text(encoding="utf-8"))
        except ValueError as err:
            raise ValueError(f"{path}: unreadable training history ({err})") from None
        self.history = list(rows[:int(np.sum(self.passes.numpy()))])

    # ------------------------------------------------------------------ training
    def run(self, checkpoint_dir: str | None = None, max_to_keep: int = 2) -> list[dict]:
        """Trains to the end (resuming from `checkpoint_dir` if it holds a checkpoint).

        Returns the history: one row per (branch, pass) with cycle, phase, lr, loss, ce, kl
        (after a resume also the rows of the passes before it, kept in history.json
        beside the checkpoints). With a checkpoint_dir, every pass's row is also written
        as TensorBoard scalars to <checkpoint_dir>/tensorboard (branch_<i>/loss, ce, kl,
        lr at step = the branch's pass; shared/tensorboard.py) as it is trained.
        """
        manager = None
        if checkpoint_dir:
            from shared.tensorboard import LOG_DIR, ScalarLog
            self._tensorboard = ScalarLog(Path(checkpoint_dir) / LOG_DIR)
            state = self.state_checkpoint()     # one object: its save counter numbers the checkpoints
            manager = tf.train.CheckpointManager(state, checkpoint_dir, max_to_keep)
            if manager.latest_checkpoint:
                state.restore(manager.latest_checkpoint).assert_existing_objects_matched()
                self._restore_history(checkpoint_dir)
                self.log(f"resumed from {manager.latest_checkpoint} at step {int(self.cycle.numpy())}, "
                         f"phase {PHASE_NAMES[int(self.phase.numpy())]}")
        try:
            if self.independent:
                self._run_independent(manager)
            else:
                self._run_cyclic(manager)
        finally:
            if self._tensorboard is not None:
                self._tensorboard.close()
                self._tensorboard = None
        return self.history

    def _run_independent(self, manager) -> None:
        while int(self.cycle.numpy()) < self.total_steps:
            step = int(self.cycle.numpy())
            lr = self._set_lr(step)
            for i in range(len(self.trainers)):
                self._fit_pass(i, "independent", lr)
            self.cycle.assign_add(1)
            self._log_step("independent")
            self._save(manager)

    def _run_cyclic(self, manager) -> None:
        c = self.params.cyclic
        while int(self.cycle.numpy()) < self.total_steps:
            lr = self._set_lr(int(self.cycle.numpy()))
            if int(self.phase.numpy()) == PHASE_SINGLE:
                for i, t in enumerate(self.trainers):
                    t.distill.assign(0.0)
                    for _ in range(c.single_epochs):
                        self._fit_pass(i, "single", lr)
                self.phase.assign(PHASE_FUSE)
                self._save(manager)
            if int(self.phase.numpy()) == PHASE_FUSE:
                self.fuse()
                self.phase.assign(PHASE_DISTILL)
                self._save(manager)
            if int(self.phase.numpy()) == PHASE_DISTILL:
                for i, t in enumerate(self.trainers):
                    t.distill.assign(1.0)
                    for _ in range(c.distill_epochs):
                        self._fit_pass(i, "distill", lr)
                    t.distill.assign(0.0)
                self.cycle.assign_add(1)
                self.phase.assign(PHASE_SINGLE)
                self._log_step("cycle")
                self._save(manager)

    def _log_step(self, what: str) -> None:
        step = int(self.cycle.numpy())
        rows = [r for r in self.history if r["cycle"] == step - 1]
        parts = [f"b{r['branch']}:{r['phase']} loss {r['loss']:.3f} (ce {r['ce']:.3f}, kl {r['kl']:.4f})"
                 for r in rows]
        self.log(f"{what} {step}/{self.total_steps} lr {rows[0]['lr']:.2e}  " + "  ".join(parts))

    # ------------------------------------------------------------------ evaluation
    def evaluate(self, datasets: Sequence[tf.data.Dataset], num_clips: int) -> list[ClipOutputs]:
        """Audio-level outputs of every branch on its evaluation dataset (same clip indices)."""
        if len(datasets) != len(self.trainers):
            raise ValueError(f"{len(datasets)} evaluation datasets for {len(self.trainers)} branches")
        return [clip_outputs(t, ds, num_clips) for t, ds in zip(self.trainers, datasets)]


def train_independent(branches: Sequence[keras.Model], data: Sequence[BranchData], num_train_clips: int,
                      num_classes: int, params: TrainParams, *, checkpoint_dir: str | None = None,
                      **kwargs) -> CyclicDistiller:
    """The independent baseline: each branch trained alone with L_ce; returns the trained object."""
    trainer = CyclicDistiller(branches, data, num_train_clips, num_classes, params, independent=True,
                              **kwargs)
    trainer.run(checkpoint_dir)
    return trainer


__all__ = ["BranchData", "BranchTrainer", "ClipOutputs", "CyclicDistiller", "clip_outputs",
           "clip_soft_labels", "cosine_lr", "one_crop_per_clip", "pass_of", "predict_crops",
           "soft_label_rng", "train_independent"]
