"""Training loops of paper 1 (Sec. 4.2): baselines, two-step CNN-GRU, teacher, TS student.

All trainers are keras.Model subclasses overriding `compute_loss`/`compute_metrics`
and are driven by `fit` with Adam (lr 1e-3) for a FIXED number of epochs; the model
left after the last epoch is the one evaluated (no validation data is ever passed, so
nothing can be selected on the evaluation fold; register p1-epochs-checkpoint). State
lives in Keras objects only (the wrapped models and the optimizer), so a
tf.train.Checkpoint can hold it.

Mid-run resume: every train_* function takes `checkpoint_dir`; after every epoch the
trainer's variables (model weights, BN statistics, random-seed states), the optimizer's
variables and the number of finished epochs are saved there (tf.train.CheckpointManager)
with the history so far. Calling the same function again with the same arguments
after a crash restores them and continues at the next epoch. Two-step trainings keep
one sub-folder per step.

Data order: the shared pipeline draws a new pass (shuffle, crops, partners) at every
new iterator of a training dataset. The trainers do not rely on counting iterators:
a pipeline dataset reaches fit as its pass stream (shared/passes.py), the passes
numbered explicitly (claim_passes hands them out in the order the runs use them; a
resumed run starts at the pass of its next epoch, see `_fit`). So Keras'
first-batch peek under a tf.distribute strategy shifts nothing: a run under
MirroredStrategy on one replica equals the default-strategy run, and kill -9 + rerun
is bit-identical under any strategy. The pass numbers reproduce what Keras 3.15 drew on
the default strategy before (`passes_started`, `_plain_stream`), so recorded results
are unchanged, and with one pass per epoch (steps_per_epoch 0, every preset) a run with a
checkpoint folder trains on the same passes as one without: the table runners
(paper1_ts/jobs.py) checkpoint every job and still reproduce the recorded models;
registers shared-resume-data-order, shared-pass-streams, p1-epochs-checkpoint.

Batches are dicts from shared/pipeline: {"x", "y" (one-hot), "index"} and, for TS,
also "x_teacher". Models return dicts {"logits": [B, C], "embedding": [B, D]}.

    hist = train_baseline(model, train_ds, TrainParams())
    hist = train_two_step_cnn_gru(pool_model, gru_model, copy_fn, train_ds, params)
    hist = train_teacher(teacher, train_ds, params, ts)
    hist = train_student_ts(teacher, student, train_ds, params, ts)
"""

from __future__ import annotations

import contextlib
import json
import os
from pathlib import Path
from typing import Callable, Mapping, Sequence

import keras
import tensorflow as tf
from keras import ops

from paper1_ts.distill import TeacherStudent, scale_for_replicas, student_input
from paper1_ts.train_params import TrainParams, TSParams, epoch_learning_rate
from shared import losses
from shared.config import atomic_write_text
from shared.distribute import distribute_input
from shared.passes import batches_per_pass, claim_passes, has_passes, pass_stream

CopyWeights = Callable[[keras.Model, keras.Model], None]
PathLike = str | os.PathLike


class SupervisedTrainer(keras.Model):
    """One-hot cross-entropy on `net(batch[input_key])["logits"]` against batch["y"].

    Args:
      net: keras Model with dict outputs {"logits": [B, C], "embedding": [B, D]}.
      input_key: "x" (10 s segment) or "x_teacher" (concatenated segments, Open 6).
    """

    def __init__(self, net: keras.Model, input_key: str = "x", **kwargs):
        super().__init__(**kwargs)
        self.net = net
        self.input_key = input_key
        self.accuracy_tracker = keras.metrics.CategoricalAccuracy(name="accuracy")

    def call(self, inputs, training=False):
        """inputs: pipeline dict (or tensor) -> net outputs {"logits": [B, C], "embedding": [B, D]}."""
        return self.net(student_input(inputs, self.input_key), training=training)

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        """Mean one-hot CE (+ the net's regularisation losses), scaled for replicas."""
        del sample_weight
        if y_pred is None:
            y_pred = self(x, training=training)
        labels = student_input(x, "y") if y is None else y                   # [B, C]
        loss = losses.hard_cross_entropy(ops.cast(labels, y_pred["logits"].dtype), y_pred["logits"])
        if self.net.losses:
            loss = loss + ops.sum(ops.stack(self.net.losses))
        return scale_for_replicas(loss)

    def compute_metrics(self, x, y, y_pred, sample_weight=None):
        labels = student_input(x, "y") if y is None else y
        self.accuracy_tracker.update_state(labels, y_pred["logits"])
        return self.get_metrics_result()


def _scope(strategy: tf.distribute.Strategy | None):
    return strategy.scope() if strategy is not None else contextlib.nullcontext()


class EpochCheckpoint(keras.callbacks.Callback):
    """Checkpoint of a compiled trainer after every epoch, for exact mid-run resume.

    Holds the trainer's variables (weights, BatchNorm statistics, seed-generator
    states), the optimizer's variables (iterations, Adam moments) and the number of
    finished epochs; the per-epoch history is kept beside it in history.json, and every
    epoch's logs (loss, accuracy, the TS terms) and the learning rate are written as
    TensorBoard scalars to <directory>/tensorboard as they come (shared/tensorboard.py;
    it reads the logs Keras already computed, nothing in training changes).

        ckpt = EpochCheckpoint(directory, trainer)
        done = ckpt.restore()            # 0 when the folder holds no checkpoint
        trainer.fit(..., initial_epoch=done, callbacks=[ckpt])
    """

    def __init__(self, directory: PathLike, trainer: keras.Model, max_to_keep: int = 2):
        super().__init__()
        self.directory = Path(directory)
        self.trainer = trainer
        with trainer.distribute_strategy.scope():
            if not trainer.optimizer.built:
                trainer.optimizer.build(trainer.trainable_variables)
            self.epoch = tf.Variable(0, dtype=tf.int64, trainable=False, name="epochs_done")
        self.checkpoint = tf.train.Checkpoint(
            model=list(trainer.variables), optimizer=list(trainer.optimizer.variables),
            epoch=self.epoch)
        self.manager = tf.train.CheckpointManager(self.checkpoint, str(self.directory), max_to_keep)
        self.history: dict[str, list[float]] = {}
        self._log = None                      # shared.tensorboard.ScalarLog, opened at the first epoch

    @property
    def history_path(self) -> Path:
        return self.directory / "history.json"

    def restore(self) -> int:
        """Restores the latest checkpoint if any; returns the number of finished epochs."""
        latest = self.manager.latest_checkpoint
        if latest is None:
            return 0
        self.checkpoint.restore(latest).assert_consumed()
        done = int(self.epoch.numpy())
        if self.history_path.exists():
            try:
                saved = json.loads(self.history_path.read_text())
            except json.JSONDecodeError as err:
                raise ValueError(f"{self.history_path}: unreadable training history ({err})") from None
            # history.json is written before the checkpoint: keep the epochs the checkpoint has
            self.history = {k: [float(v) for v in vals[:done]] for k, vals in saved.items()}
        return done

    def on_epoch_end(self, epoch, logs=None):
        for name, value in (logs or {}).items():
            self.history.setdefault(name, []).append(float(value))
        atomic_write_text(self.history_path, json.dumps(self.history))
        self.epoch.assign(epoch + 1)
        self.manager.save(checkpoint_number=epoch + 1)
        self._tensorboard(epoch, logs or {})

    def _tensorboard(self, epoch: int, logs) -> None:
        from shared.tensorboard import LOG_DIR, ScalarLog
        lr = self.trainer.optimizer.learning_rate
        row = {"epoch": epoch, **{k: float(v) for k, v in logs.items()},
               "lr": float(lr.numpy() if hasattr(lr, "numpy") else lr)}
        if self._log is None:
            self._log = ScalarLog(self.directory / LOG_DIR)
        self._log.rows([row], None, "epoch", curves=None)        # flushed: readable at once


def passes_started(epochs: int, steps_per_epoch: int, batches: int) -> int:
    """Passes a checkpointed fit of `epochs` epochs draws from its training dataset.

    Measured with Keras 3.15 / TF 2.21 on the default strategy (tests/paper1_ts/test_resume.py):
    a fit that reads E*s batches from the repeated stream (n batches per pass) has started
    ceil((E*s + 1) / n) passes (one batch is fetched ahead), so the next fit on the same
    dataset (step 2 of a two-step training) starts at that pass.
    """
    read = epochs * (steps_per_epoch or batches)
    return -(-(read + 1) // batches)


def epoch_stream(train_ds: tf.data.Dataset, epochs_done: int, steps_per_epoch: int,
                 first_pass: int = 0) -> tuple[tf.data.Dataset, int]:
    """(dataset, steps per epoch) to give `fit` in a checkpointed run resuming after
    `epochs_done` finished epochs; the run's passes start at `first_pass`.

    The run reads the passes first_pass, first_pass + 1, ... of `train_ds` one after the
    other (epochs of steps_per_epoch batches; 0 = one pass per epoch). A training dataset
    of shared.pipeline is given as its pass stream (shared.passes.pass_stream): epoch k
    gets the batches it had in the uninterrupted run whatever iterators were opened
    before, by this process or by Keras (its first-batch peek under a tf.distribute
    strategy). Other datasets (no pass streams; `first_pass` is then their own iterator
    count): the repeated dataset, after opening and dropping `epochs_done` iterators
    (steps_per_epoch 0), or after skipping the consumed batches (steps_per_epoch > 0;
    they are read again), which is exact on the default strategy only.

    Raises:
      ValueError: steps_per_epoch 0 and a dataset of unknown or infinite length.
    """
    if has_passes(train_ds):
        batches = batches_per_pass(train_ds)
        if not steps_per_epoch:
            return pass_stream(train_ds, first_pass + epochs_done), batches
        consumed = epochs_done * steps_per_epoch
        stream = pass_stream(train_ds, first_pass + consumed // batches)
        return (stream.skip(consumed % batches) if consumed % batches else stream), steps_per_epoch
    if steps_per_epoch:
        stream = train_ds.repeat()
        return (stream.skip(epochs_done * steps_per_epoch) if epochs_done else stream), steps_per_epoch
    batches = int(train_ds.cardinality())
    if batches <= 0:
        raise ValueError(
            "checkpointed training with steps_per_epoch 0 needs a finite training dataset of "
            f"known length (cardinality is {batches}); set TrainParams.steps_per_epoch")
    for _ in range(epochs_done):
        iter(train_ds)
    return train_ds.repeat(), batches


def _plain_stream(train_ds: tf.data.Dataset, epochs: int, steps_per_epoch: int
                  ) -> tuple[tf.data.Dataset, int | None]:
    """(dataset, steps_per_epoch) for an UNcheckpointed fit of `epochs` epochs.

    A pipeline dataset with one pass per epoch becomes its pass stream with stride 2:
    Keras 3.15 (default strategy) opens two iterators per epoch of a finite dataset (one
    at the end of the epoch that the next epoch does not use), so epoch e trained on pass
    first + 2e, and the kit's recorded results were made that way (measured, see
    tests/paper1_ts/test_resume_strategy.py). Anything else is given to fit as it is
    (steps_per_epoch > 0 then still depends on Keras' iterators).
    """
    if has_passes(train_ds) and not steps_per_epoch:
        first = claim_passes(train_ds, 2 * epochs)
        return pass_stream(train_ds, first, stride=2), batches_per_pass(train_ds)
    return train_ds, steps_per_epoch or None


def _fit(trainer: keras.Model, train_ds: tf.data.Dataset, epochs: int, params: TrainParams,
         callbacks: Sequence[keras.callbacks.Callback], checkpoint_dir: PathLike | None = None) -> dict:
    """Runs `fit` for a fixed epoch budget; returns {metric: [value per epoch]}.

    The dataset reaches `fit` through shared.distribute.distribute_input: under
    MultiWorkerMirroredStrategy every worker trains on its own slice of each global batch.
    A training dataset of shared.pipeline reaches it as a pass stream (passes by number,
    claimed from the dataset in the order the runs use them), so the passes an epoch
    trains on are the same under every strategy and after a resume.

    With `checkpoint_dir`, saves after every epoch and resumes from the last checkpoint
    found there (the returned history then covers all epochs, before and after the crash).
    A pipeline dataset with one pass per epoch (steps_per_epoch 0) is then trained on the
    same passes as without a checkpoint folder (epoch e on pass first + 2e, `_plain_stream`),
    so a checkpointed run, interrupted or not, ends bit-identical to the uncheckpointed one;
    with steps_per_epoch > 0 the checkpointed run reads its passes consecutively
    (`epoch_stream`), which the uncheckpointed run (Keras' own iterators) need not match.
    """
    strategy = trainer.distribute_strategy
    callbacks = [*_schedule(params, epochs), *callbacks]
    if checkpoint_dir is None:
        data, steps = _plain_stream(train_ds, epochs, params.steps_per_epoch)
        history = trainer.fit(distribute_input(data, strategy), epochs=epochs,
                              verbose=params.verbose, shuffle=False, steps_per_epoch=steps,
                              callbacks=list(callbacks))
        return {name: [float(v) for v in values] for name, values in history.history.items()}
    ckpt = EpochCheckpoint(checkpoint_dir, trainer)
    done = ckpt.restore()
    if has_passes(train_ds) and not params.steps_per_epoch:
        # The passes of the uncheckpointed run (_plain_stream): checkpointing changes no
        # result, so a table job trained with a checkpoint folder equals the recorded ones.
        first = claim_passes(train_ds, 2 * epochs)
        if done >= epochs:
            return dict(ckpt.history)
        stream = pass_stream(train_ds, first + 2 * done, stride=2)
        trainer.fit(distribute_input(stream, strategy), epochs=epochs, initial_epoch=done,
                    verbose=params.verbose, shuffle=False, steps_per_epoch=batches_per_pass(train_ds),
                    callbacks=[*callbacks, ckpt])
        return dict(ckpt.history)
    first = 0
    if has_passes(train_ds):
        first = claim_passes(train_ds, passes_started(epochs, params.steps_per_epoch,
                                                      batches_per_pass(train_ds)))
    if done >= epochs:
        if not has_passes(train_ds):
            _replay_finished(train_ds, epochs, params.steps_per_epoch)
        return dict(ckpt.history)
    stream, steps = epoch_stream(train_ds, done, params.steps_per_epoch, first)
    trainer.fit(distribute_input(stream, strategy), epochs=epochs, initial_epoch=done,
                verbose=params.verbose, shuffle=False, steps_per_epoch=steps, callbacks=[*callbacks, ckpt])
    return dict(ckpt.history)


def _schedule(params: TrainParams, epochs: int) -> list[keras.callbacks.Callback]:
    """The learning-rate callback of params.lr_schedule over a step of `epochs` epochs (none
    for "constant"). Keras sets the rate at each epoch's start from the epoch number, so a
    resumed run (initial_epoch > 0) continues the schedule where it stopped, and records it
    per epoch in the history as "learning_rate"."""
    if params.lr_schedule == "constant":
        return []
    return [keras.callbacks.LearningRateScheduler(lambda epoch, lr: epoch_learning_rate(params, epoch, epochs))]


def _replay_finished(train_ds: tf.data.Dataset, epochs: int, steps_per_epoch: int) -> None:
    """Leaves a dataset WITHOUT pass streams as a finished checkpointed fit of `epochs`
    epochs leaves it: opens passes_started(...) iterators."""
    batches = int(train_ds.cardinality())
    if batches <= 0:
        return
    for _ in range(passes_started(epochs, steps_per_epoch, batches)):
        iter(train_ds)


def _sub(checkpoint_dir: PathLike | None, name: str) -> Path | None:
    return None if checkpoint_dir is None else Path(checkpoint_dir) / name


def _compile(trainer: keras.Model, params: TrainParams) -> None:
    trainer.compile(optimizer=keras.optimizers.Adam(learning_rate=params.learning_rate), jit_compile=False)


def make_supervised(net: keras.Model, params: TrainParams, input_key: str = "x",
                    strategy: tf.distribute.Strategy | None = None) -> SupervisedTrainer:
    """A compiled SupervisedTrainer (built under `strategy.scope()` when given)."""
    with _scope(strategy):
        trainer = SupervisedTrainer(net, input_key=input_key, name=f"supervised_{net.name}")
        _compile(trainer, params)
    return trainer


def train_baseline(model: keras.Model, train_ds: tf.data.Dataset, params: TrainParams, *,
                   input_key: str = "x", epochs: int | None = None,
                   strategy: tf.distribute.Strategy | None = None,
                   callbacks: Sequence[keras.callbacks.Callback] = (),
                   checkpoint_dir: PathLike | None = None) -> dict:
    """One-hot CE training of `model` on batch[input_key] (Table 1 baselines).

    Returns the history dict {"loss": [...], "accuracy": [...]} (training split only).
    With `checkpoint_dir`: saved after every epoch, resumed from there when called again.
    """
    trainer = make_supervised(model, params, input_key, strategy)
    return _fit(trainer, train_ds, epochs or params.epochs, params, callbacks, checkpoint_dir)


def train_two_step_cnn_gru(pool_model: keras.Model, gru_model: keras.Model,
                           copy_weights: CopyWeights, train_ds: tf.data.Dataset,
                           params: TrainParams, *, input_key: str = "x",
                           strategy: tf.distribute.Strategy | None = None,
                           callbacks: Sequence[keras.callbacks.Callback] = (),
                           checkpoint_dir: PathLike | None = None) -> dict:
    """Two-step training of the CNN-GRU (Sec. 4.2): step 1 the CNN with a pooling head
    (params.pool_epochs), then `copy_weights(pool_model, gru_model)` and step 2 the whole
    model with the GRU (params.gru_epochs), one-hot CE in both steps.

    Returns {"step1": history, "step2": history}.
    """
    step1 = train_baseline(pool_model, train_ds, params, input_key=input_key,
                           epochs=params.pool_epochs, strategy=strategy, callbacks=callbacks,
                           checkpoint_dir=_sub(checkpoint_dir, "step1"))
    with _scope(strategy):
        copy_weights(pool_model, gru_model)
    step2 = train_baseline(gru_model, train_ds, params, input_key=input_key,
                           epochs=params.gru_epochs, strategy=strategy, callbacks=callbacks,
                           checkpoint_dir=_sub(checkpoint_dir, "step2"))
    return {"step1": step1, "step2": step2}


def teacher_input_key(ts: TSParams) -> str:
    """Batch entry the teacher is TRAINED on: "x_teacher" (concatenated, default of
    notes Open 6) or "x" (10 s segments)."""
    return "x_teacher" if ts.teacher_train_input == "concat" else "x"


def train_teacher(model: keras.Model, train_ds: tf.data.Dataset, params: TrainParams,
                  ts: TSParams, *, strategy: tf.distribute.Strategy | None = None,
                  callbacks: Sequence[keras.callbacks.Callback] = (),
                  checkpoint_dir: PathLike | None = None) -> dict:
    """One-hot training of a single-step teacher on the input chosen by ts.teacher_train_input."""
    return train_baseline(model, train_ds, params, input_key=teacher_input_key(ts),
                          strategy=strategy, callbacks=callbacks, checkpoint_dir=checkpoint_dir)


def train_teacher_two_step(pool_model: keras.Model, gru_model: keras.Model,
                           copy_weights: CopyWeights, train_ds: tf.data.Dataset,
                           params: TrainParams, ts: TSParams, *,
                           strategy: tf.distribute.Strategy | None = None,
                           callbacks: Sequence[keras.callbacks.Callback] = (),
                           checkpoint_dir: PathLike | None = None) -> dict:
    """Two-step CNN-GRU teacher on the input chosen by ts.teacher_train_input."""
    return train_two_step_cnn_gru(pool_model, gru_model, copy_weights, train_ds, params,
                                  input_key=teacher_input_key(ts), strategy=strategy,
                                  callbacks=callbacks, checkpoint_dir=checkpoint_dir)


def make_teacher_student(teacher: keras.Model, student: keras.Model, params: TrainParams,
                         ts: TSParams, strategy: tf.distribute.Strategy | None = None
                         ) -> TeacherStudent:
    """A compiled TeacherStudent (built under `strategy.scope()` when given)."""
    with _scope(strategy):
        trainer = TeacherStudent(teacher, student, ts, name=f"ts_{student.name}")
        _compile(trainer, params)
    return trainer


def train_student_ts(teacher: keras.Model, student: keras.Model, train_ds: tf.data.Dataset,
                     params: TrainParams, ts: TSParams, *, epochs: int | None = None,
                     strategy: tf.distribute.Strategy | None = None,
                     callbacks: Sequence[keras.callbacks.Callback] = (),
                     checkpoint_dir: PathLike | None = None) -> dict:
    """Trains `student` from the frozen `teacher` with the TS loss of `ts` (Eq. 4 / 5).

    Returns the history dict (loss, ts_output_loss and/or ts_hidden_loss, accuracy).
    With `checkpoint_dir`: saved after every epoch, resumed from there when called again.
    """
    trainer = make_teacher_student(teacher, student, params, ts, strategy)
    return _fit(trainer, train_ds, epochs or params.epochs, params, callbacks, checkpoint_dir)


def train_student_ts_two_step(teacher: keras.Model, pool_student: keras.Model,
                              gru_student: keras.Model, copy_weights: CopyWeights,
                              train_ds: tf.data.Dataset, params: TrainParams, ts: TSParams, *,
                              strategy: tf.distribute.Strategy | None = None,
                              callbacks: Sequence[keras.callbacks.Callback] = (),
                              checkpoint_dir: PathLike | None = None) -> dict:
    """Two-step CNN-GRU student: step 1 (pooling head, params.pool_epochs) and step 2
    (whole model, params.gru_epochs) both trained with the TS loss (register
    p1-student-two-step). Returns {"step1": history, "step2": history}."""
    step1 = train_student_ts(teacher, pool_student, train_ds, params, ts,
                             epochs=params.pool_epochs, strategy=strategy, callbacks=callbacks,
                             checkpoint_dir=_sub(checkpoint_dir, "step1"))
    with _scope(strategy):
        copy_weights(pool_student, gru_student)
    step2 = train_student_ts(teacher, gru_student, train_ds, params, ts,
                             epochs=params.gru_epochs, strategy=strategy, callbacks=callbacks,
                             checkpoint_dir=_sub(checkpoint_dir, "step2"))
    return {"step1": step1, "step2": step2}


def history_summary(history: Mapping[str, Sequence[float]]) -> dict:
    """Last-epoch value of each metric of a history dict (what the run record stores)."""
    return {name: (values[-1] if values else None) for name, values in history.items()}
