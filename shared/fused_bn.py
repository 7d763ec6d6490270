"""BatchNormalization through TensorFlow's fused kernel, same results as Keras's layer.

Keras 3's `BatchNormalization` on the TensorFlow backend computes the batch moments and
the normalisation as separate ops (keras/src/layers/normalization/batch_normalization.py);
TensorFlow's `FusedBatchNormV3` does both in one kernel. `FusedBatchNormalization` is the
Keras layer with its training-mode forward pass swapped for that kernel where the kernel
applies, and Keras's own code everywhere else:

    fused    training=True, the layer trainable, a float32 input of rank >= 2 normalised
             over its last axis ([B, H, W, C] as is; other ranks, e.g. paper 1's [B, T, C],
             run as [N, 1, 1, C]), no mask, not `synchronized`
    Keras's  everything else (inference, frozen layers, float16, masks, another axis)

Same semantics as Keras's layer: the output, and the moving mean and variance updated with
`momentum` from the batch mean and the BIASED batch variance (the fused kernel returns the
Bessel-corrected one, n / (n - 1) larger; it is scaled back). Same weights, same config,
so a model can swap its layers (`swap_batch_norm`) and keep its weights.

Which layer the kit's model builders make (`batch_norm(...)`) is a process setting, like
Keras's dtype policy: `shared.distribute.make_strategy` sets it from
`DistributeParams.batch_norm` ("fused", the default, or "keras"; register shared-fused-bn)
before a run builds its models; keras.applications backbones, which make their own layers,
are swapped after they are built (`swap_batch_norm`). `python -m replication.drivers.bench
--section batchnorm` measures training steps with each (docs/scale.md, bench_batchnorm).
"""

from __future__ import annotations

import keras
import tensorflow as tf

from shared.distribute_params import check_batch_norm


@keras.saving.register_keras_serializable(package="kd_kit")
class FusedBatchNormalization(keras.layers.BatchNormalization):
    """keras.layers.BatchNormalization whose training-mode forward pass on float32 inputs
    normalised over their last axis runs TensorFlow's fused kernel (module docstring)."""

    def _fusable(self, inputs, training, mask) -> bool:
        axis = self.axis if isinstance(self.axis, int) else (self.axis[0] if len(self.axis) == 1 else None)
        rank = len(inputs.shape)
        return (bool(training) and self.trainable and mask is None and not self.synchronized
                and rank >= 2 and axis in (-1, rank - 1) and inputs.dtype == tf.float32
                and self.moving_mean.dtype == tf.float32)

    def call(self, inputs, training=None, mask=None):
        if not self._fusable(inputs, training, mask):
            return super().call(inputs, training=training, mask=mask)
        channels = inputs.shape[-1]
        scale = self.gamma if self.scale else tf.ones([channels], tf.float32)
        offset = self.beta if self.center else tf.zeros([channels], tf.float32)
        shape = tf.shape(inputs)
        x = inputs if len(inputs.shape) == 4 else tf.reshape(inputs, [-1, 1, 1, channels])   # [N, 1, 1, C]
        y, mean, variance = tf.compat.v1.nn.fused_batch_norm(              # y: x's shape
            x, scale, offset, epsilon=self.epsilon, data_format="NHWC", is_training=True)
        y = y if len(inputs.shape) == 4 else tf.reshape(y, shape)
        count = tf.cast(tf.size(inputs) // channels, tf.float32)          # values per channel
        variance = variance * (count - 1.0) / tf.maximum(count, 1.0)       # Bessel-corrected -> biased
        momentum = self.momentum
        self.moving_mean.assign(self.moving_mean * momentum + mean * (1.0 - momentum))
        self.moving_variance.assign(self.moving_variance * momentum + variance * (1.0 - momentum))
        return y


def swap_batch_norm(model: keras.Model) -> keras.Model:
    """A copy of a functional or sequential `model` whose every keras.layers.BatchNormalization,
    nested models' included (keras.applications' backbones sit inside the kit's models), is a
    FusedBatchNormalization with the same config, the weights copied."""
    def clone(layer):
        if type(layer) is keras.layers.BatchNormalization:
            return FusedBatchNormalization.from_config(layer.get_config())
        return layer.__class__.from_config(layer.get_config())
    copy = keras.models.clone_model(model, clone_function=clone, recursive=True)
    copy.set_weights(model.get_weights())
    return copy


def batch_norm_layers(model: keras.Model) -> list:
    """Every BatchNormalization layer of `model` (fused or not), nested layers' and models'
    included, in order."""
    return [layer for layer in model._flatten_layers(include_self=False, recursive=True)
            if isinstance(layer, keras.layers.BatchNormalization)]


# ---------------------------------------------------------------- which layer the builders make
_BATCH_NORM = ["fused"]          # the process setting: DistributeParams.batch_norm's default


def set_batch_norm(kind: str) -> None:
    """Makes `batch_norm(...)` build the "fused" or the "keras" layer from now on."""
    _BATCH_NORM[0] = check_batch_norm(kind)


def current_batch_norm() -> str:
    return _BATCH_NORM[0]


def batch_norm(**config) -> keras.layers.BatchNormalization:
    """A batch-normalisation layer of the current kind (set_batch_norm) with `config`."""
    cls = FusedBatchNormalization if _BATCH_NORM[0] == "fused" else keras.layers.BatchNormalization
    return cls(**config)


def with_batch_norm(model: keras.Model) -> keras.Model:
    """`model` as it is under "keras", a copy with fused layers (swap_batch_norm) under
    "fused": for models whose layers another library builds (keras.applications)."""
    return swap_batch_norm(model) if _BATCH_NORM[0] == "fused" and batch_norm_layers(model) else model
