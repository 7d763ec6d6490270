"""Teacher-student learning of paper 1 (Sec. 3) as a keras.Model subclass.

`TeacherStudent` holds a FROZEN teacher and a trainable student, both Keras models
with dict outputs {"logits": [B, 10], "embedding": [B, 64]}. `call` returns the
student's outputs; `compute_loss` adds the configured distillation terms:

  "output"  soft cross-entropy, Eq. (4): -sum_j p_T(o_j | x_con; T) log p_S(o_j | x_base)
            with p_T from Eq. (3) (as printed or Hinton's form, TSParams.teacher_mode)
  "hidden"  embedding MSE, Eq. (5)
  "both"    output_weight * output + hidden_weight * hidden (Table 5, register
            p1-ts-loss-composition)

No hard-label term (Eq. (1)-(2), notes Open 5). Batches are the dicts of
shared/pipeline: {"x": student input (10 s), "x_teacher": the same clip joined in time
with same-class partner(s), "y": one-hot [B, C], "index": [B]}. The teacher is queried
on "x_teacher" (TSParams.teacher_query = "concat", Table 4 "20 seconds") or on "x"
("base", Table 4 "10 seconds"). Negative control (TSParams.teacher_signal = "permuted",
register p1-teacher-signal): the teacher's logits AND embedding are rolled by one along
the batch axis, so each clip is trained toward another clip's teacher outputs.

keras.distillation.Distiller is not used: it feeds teacher and student the SAME input
and rejects different input shapes, divides the student logits by T as well, multiplies
its KL by T^2 and has no "probabilities / T" form of Eq. (3) (register
p1-distiller-class). `fit`, `evaluate` and tf.distribute work unchanged because only
`compute_loss`/`compute_metrics` are overridden and all state lives in Keras objects.
"""

from __future__ import annotations

from typing import Any, Mapping

import keras
import tensorflow as tf
from keras import ops

from paper1_ts.train_params import TSParams
from shared import controls, losses


def student_input(inputs: Any, key: str = "x"):
    """The tensor a model consumes: `inputs[key]` for a pipeline dict, else `inputs` itself."""
    if isinstance(inputs, Mapping):
        if key not in inputs:
            raise KeyError(f"batch has no '{key}' entry (keys: {sorted(inputs)}); "
                           "the paper 1 pipeline must yield dicts with x, x_teacher, y, index")
        return inputs[key]
    return inputs


def scale_for_replicas(loss):
    """Divides a per-replica mean loss by the replica count so that tf.distribute's
    gradient SUM over replicas equals the gradient of the global-batch mean (the same
    convention as keras.losses.Loss)."""
    replicas = tf.distribute.get_strategy().num_replicas_in_sync
    if replicas > 1:
        loss = loss * (1.0 / replicas)
    return loss


class TeacherStudent(keras.Model):
    """Frozen teacher + trainable student; trains the student with Eq. (4) and/or Eq. (5).

    Args:
      teacher: keras Model, dict outputs {"logits", "embedding"}; frozen here
        (trainable=False) and always called with training=False.
      student: keras Model with the same output dict.
      ts: TSParams (loss, temperature, teacher_mode, weights, teacher_query).
    Build it (and compile it) inside `strategy.scope()` when distributing.
    """

    def __init__(self, teacher: keras.Model, student: keras.Model, ts: TSParams, **kwargs):
        super().__init__(**kwargs)
        if teacher is student:
            raise ValueError("teacher and student must be different models (no shared layers)")
        self.teacher = teacher
        self.student = student
        self.teacher.trainable = False
        self.ts = ts
        self.output_loss_tracker = keras.metrics.Mean(name="ts_output_loss")
        self.hidden_loss_tracker = keras.metrics.Mean(name="ts_hidden_loss")
        self.accuracy_tracker = keras.metrics.CategoricalAccuracy(name="accuracy")

    def call(self, inputs, training=False):
        """inputs: pipeline dict (or the student tensor) -> student {"logits": [B, C], "embedding": [B, D]}."""
        return self.student(student_input(inputs, "x"), training=training)

    def teacher_outputs(self, inputs) -> dict:
        """Teacher outputs on the configured input, gradients stopped (training=False):
        {"logits": [B, C], "embedding": [B, D]}, row i for clip i ("matched") or for clip
        i - 1 of the batch ("permuted", the negative control)."""
        key = "x_teacher" if self.ts.teacher_query == "concat" else "x"
        out = self.teacher(student_input(inputs, key), training=False)
        out = {name: ops.stop_gradient(value) for name, value in out.items()}
        if self.ts.teacher_signal == "permuted":
            out = {name: controls.shift_batch(value) for name, value in out.items()}
        return out

    def loss_terms(self, inputs, student_out) -> dict:
        """Unweighted, unscaled distillation terms (batch means) for `inputs`.

        Returns {"output": scalar or None, "hidden": scalar or None}.
        """
        teacher_out = self.teacher_outputs(inputs)
        terms: dict = {"output": None, "hidden": None}
        if self.ts.loss in ("output", "both"):
            p_teacher = losses.teacher_distribution(
                teacher_out["logits"], self.ts.temperature, self.ts.teacher_mode)   # [B, C]
            terms["output"] = losses.soft_cross_entropy(p_teacher, student_out["logits"])
        if self.ts.loss in ("hidden", "both"):
            terms["hidden"] = losses.embedding_mse(teacher_out["embedding"], student_out["embedding"])
        return terms

    def total_loss(self, terms: dict):
        """Weighted sum of the active terms (weight 1 each by default, register p1-ts-loss-composition)."""
        total = 0.0
        if terms["output"] is not None:
            total = total + self.ts.output_weight * terms["output"]
        if terms["hidden"] is not None:
            total = total + self.ts.hidden_weight * terms["hidden"]
        return total

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        """Distillation loss for a batch dict `x` (y is unused: no hard-label term)."""
        del y, sample_weight
        if y_pred is None:
            y_pred = self(x, training=training)
        terms = self.loss_terms(x, y_pred)
        if terms["output"] is not None:
            self.output_loss_tracker.update_state(terms["output"])
        if terms["hidden"] is not None:
            self.hidden_loss_tracker.update_state(terms["hidden"])
        total = self.total_loss(terms)
        if self.student.losses:  # the student's own regularisation terms, if its builder adds any
            total = total + ops.sum(ops.stack(self.student.losses))
        return scale_for_replicas(total)

    def compute_metrics(self, x, y, y_pred, sample_weight=None):
        """Student accuracy against the one-hot labels x["y"] (a monitor only, never used to select)."""
        if isinstance(x, Mapping) and "y" in x:
            self.accuracy_tracker.update_state(x["y"], y_pred["logits"])
        return self.get_metrics_result()

    @property
    def metrics(self):
        own = [self.output_loss_tracker] if self.ts.loss in ("output", "both") else []
        own += [self.hidden_loss_tracker] if self.ts.loss in ("hidden", "both") else []
        base = [m for m in super().metrics
                if m not in (self.output_loss_tracker, self.hidden_loss_tracker, self.accuracy_tracker)]
        return base + own + [self.accuracy_tracker]
