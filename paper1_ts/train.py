"""Training loops of paper 1 (Sec. 4.2): baselines, two-step CNN-GRU, teacher, TS student.

All trainers are keras.Model subclasses overriding `compute_loss`/`compute_metrics`
and are driven by `fit` with Adam (lr 1e-3) for a FIXED number of epochs; the model
left after the last epoch is the one evaluated (no validation data is ever passed, so
nothing can be selected on the evaluation fold; register p1-epochs-checkpoint). State
lives in Keras objects only (the wrapped models and the optimizer), so a
tf.train.Checkpoint can hold it.

Batches are dicts from shared/pipeline: {"x", "y" (one-hot), "index"} and, for TS,
also "x_teacher". Models return dicts {"logits": [B, C], "embedding": [B, D]}.

    hist = train_baseline(model, train_ds, TrainParams())
    hist = train_two_step_cnn_gru(pool_model, gru_model, copy_fn, train_ds, params)
    hist = train_teacher(teacher, train_ds, params, ts)
    hist = train_student_ts(teacher, student, train_ds, params, ts)
"""

from __future__ import annotations

import contextlib
from typing import Callable, Mapping, Sequence

import keras
import tensorflow as tf
from keras import ops

from paper1_ts.distill import TeacherStudent, scale_for_replicas, student_input
from paper1_ts.train_params import TrainParams, TSParams
from shared import losses

CopyWeights = Callable[[keras.Model, keras.Model], None]


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


def _fit(trainer: keras.Model, train_ds: tf.data.Dataset, epochs: int, params: TrainParams,
         callbacks: Sequence[keras.callbacks.Callback]) -> dict:
    """Runs `fit` for a fixed epoch budget; returns {metric: [value per epoch]}."""
    history = trainer.fit(train_ds, epochs=epochs, verbose=params.verbose, shuffle=False,
                          steps_per_epoch=params.steps_per_epoch or None,
                          callbacks=list(callbacks))
    return {name: [float(v) for v in values] for name, values in history.history.items()}


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
                   callbacks: Sequence[keras.callbacks.Callback] = ()) -> dict:
    """One-hot CE training of `model` on batch[input_key] (Table 1 baselines).

    Returns the history dict {"loss": [...], "accuracy": [...]} (training split only).
    """
    trainer = make_supervised(model, params, input_key, strategy)
    return _fit(trainer, train_ds, epochs or params.epochs, params, callbacks)


def train_two_step_cnn_gru(pool_model: keras.Model, gru_model: keras.Model,
                           copy_weights: CopyWeights, train_ds: tf.data.Dataset,
                           params: TrainParams, *, input_key: str = "x",
                           strategy: tf.distribute.Strategy | None = None,
                           callbacks: Sequence[keras.callbacks.Callback] = ()) -> dict:
    """Two-step training of the CNN-GRU (Sec. 4.2): step 1 the CNN with a pooling head
    (params.pool_epochs), then `copy_weights(pool_model, gru_model)` and step 2 the whole
    model with the GRU (params.gru_epochs), one-hot CE in both steps.

    Returns {"step1": history, "step2": history}.
    """
    step1 = train_baseline(pool_model, train_ds, params, input_key=input_key,
                           epochs=params.pool_epochs, strategy=strategy, callbacks=callbacks)
    with _scope(strategy):
        copy_weights(pool_model, gru_model)
    step2 = train_baseline(gru_model, train_ds, params, input_key=input_key,
                           epochs=params.gru_epochs, strategy=strategy, callbacks=callbacks)
    return {"step1": step1, "step2": step2}


def teacher_input_key(ts: TSParams) -> str:
    """Batch entry the teacher is TRAINED on: "x_teacher" (concatenated, default of
    notes Open 6) or "x" (10 s segments)."""
    return "x_teacher" if ts.teacher_train_input == "concat" else "x"


def train_teacher(model: keras.Model, train_ds: tf.data.Dataset, params: TrainParams,
                  ts: TSParams, *, strategy: tf.distribute.Strategy | None = None,
                  callbacks: Sequence[keras.callbacks.Callback] = ()) -> dict:
    """One-hot training of a single-step teacher on the input chosen by ts.teacher_train_input."""
    return train_baseline(model, train_ds, params, input_key=teacher_input_key(ts),
                          strategy=strategy, callbacks=callbacks)


def train_teacher_two_step(pool_model: keras.Model, gru_model: keras.Model,
                           copy_weights: CopyWeights, train_ds: tf.data.Dataset,
                           params: TrainParams, ts: TSParams, *,
                           strategy: tf.distribute.Strategy | None = None,
                           callbacks: Sequence[keras.callbacks.Callback] = ()) -> dict:
    """Two-step CNN-GRU teacher on the input chosen by ts.teacher_train_input."""
    return train_two_step_cnn_gru(pool_model, gru_model, copy_weights, train_ds, params,
                                  input_key=teacher_input_key(ts), strategy=strategy,
                                  callbacks=callbacks)


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
                     callbacks: Sequence[keras.callbacks.Callback] = ()) -> dict:
    """Trains `student` from the frozen `teacher` with the TS loss of `ts` (Eq. 4 / 5).

    Returns the history dict (loss, ts_output_loss and/or ts_hidden_loss, accuracy).
    """
    trainer = make_teacher_student(teacher, student, params, ts, strategy)
    return _fit(trainer, train_ds, epochs or params.epochs, params, callbacks)


def train_student_ts_two_step(teacher: keras.Model, pool_student: keras.Model,
                              gru_student: keras.Model, copy_weights: CopyWeights,
                              train_ds: tf.data.Dataset, params: TrainParams, ts: TSParams, *,
                              strategy: tf.distribute.Strategy | None = None,
                              callbacks: Sequence[keras.callbacks.Callback] = ()) -> dict:
    """Two-step CNN-GRU student: step 1 (pooling head, params.pool_epochs) and step 2
    (whole model, params.gru_epochs) both trained with the TS loss (register
    p1-student-two-step). Returns {"step1": history, "step2": history}."""
    step1 = train_student_ts(teacher, pool_student, train_ds, params, ts,
                             epochs=params.pool_epochs, strategy=strategy, callbacks=callbacks)
    with _scope(strategy):
        copy_weights(pool_student, gru_student)
    step2 = train_student_ts(teacher, gru_student, train_ds, params, ts,
                             epochs=params.gru_epochs, strategy=strategy, callbacks=callbacks)
    return {"step1": step1, "step2": step2}


def history_summary(history: Mapping[str, Sequence[float]]) -> dict:
    """Last-epoch value of each metric of a history dict (what the run record stores)."""
    return {name: (values[-1] if values else None) for name, values in history.items()}
