"""Small layer builders shared by paper 1's raw CNN (1-D) and CNN-GRU (2-D).

Functional-API helpers: each takes a tensor and returns a tensor, naming every layer
after the block so that weights can be found (and copied) by name. `rank` selects
Conv1D (maps [B, T, C]) or Conv2D (maps [B, T, F, C]).

Residual block orders (register p1-res-block-order):
  "pre"  (default): [BN -> LReLU ->] conv(k, stride) -> BN -> LReLU -> conv(k) ; + shortcut
         The leading BN -> LReLU is skipped in the first block, which follows the stem's
         own BN -> LReLU; the trunk ends with BN -> LReLU after the last block.
  "post": conv(k, stride) -> BN -> LReLU -> conv(k) -> BN ; + shortcut -> LReLU
The shortcut is the identity when width and stride are unchanged, otherwise a
conv(shortcut_kernel, stride). An optional max-pool (Table 2's /3) follows the sum.
"""

from __future__ import annotations

import keras

from shared.fused_bn import batch_norm

_CONV = {1: keras.layers.Conv1D, 2: keras.layers.Conv2D}
_MAXPOOL = {1: keras.layers.MaxPooling1D, 2: keras.layers.MaxPooling2D}


def conv(x, *, rank: int, filters: int, kernel: int, stride: int, padding: str, name: str):
    """A rank-1 or rank-2 convolution with square kernel/stride, bias, no activation."""
    return _CONV[rank](filters, kernel, strides=stride, padding=padding, name=name)(x)


def projection(x, *, rank: int, filters: int, kernel: int, stride: int, name: str):
    """The shortcut conv(kernel, stride, 'same'); its conv layer is named `name`.

    A 1x1 conv with stride s and 'same' padding reads exactly the samples
    x[::s] (no padding is ever added before the first one), so it is built as a
    stride-s subsampling (a size-1 max-pool) followed by a stride-1 1x1 conv: the
    same function and the same weights. Reason: TensorFlow 2.21's oneDNN CPU kernel
    for the filter gradient of a strided 1x1 Conv2D corrupts memory and aborts the
    process (register p1-onednn-shortcut); the stride-1 form avoids it.
    """
    if kernel == 1 and stride > 1:
        x = _MAXPOOL[rank](pool_size=1, strides=stride, padding="valid",
                           name=f"{name}_subsample")(x)   # [B, ceil(T/s), (ceil(F/s)), C]
        stride = 1
    return conv(x, rank=rank, filters=filters, kernel=kernel, stride=stride, padding="same",
                name=name)                                # [B, ceil(T/s), (ceil(F/s)), filters]


def bn_lrelu(x, *, slope: float, name: str):
    """BatchNormalization then LeakyReLU(slope); layers `{name}_bn`, `{name}_lrelu`."""
    x = batch_norm(name=f"{name}_bn")(x)   # fused or Keras's (register shared-fused-bn)
    return keras.layers.LeakyReLU(negative_slope=slope, name=f"{name}_lrelu")(x)


def residual_block(x, *, rank: int, filters: int, kernel: int, stride: int, order: str,
                   first: bool, slope: float, shortcut_kernel: int, name: str,
                   pool: int | None = None):
    """One residual block; its LAST layer is named `name` (the table row's output).

    Args:
      x: [B, T, C] (rank 1) or [B, T, F, C] (rank 2).
      filters, kernel, stride: width, square kernel and stride of the first conv.
      order: "pre" or "post" (see module docstring).
      first: the block directly follows the stem ("pre" then skips its leading BN-LReLU).
      pool: max-pool size/stride after the sum ('valid': floor division), or None.
    Returns:
      [B, ceil(T / stride) // pool, (F...), filters].
    """
    in_width = x.shape[-1]
    final = name if pool is None else f"{name}_sum"
    h = x
    if order == "pre" and not first:
        h = bn_lrelu(h, slope=slope, name=f"{name}_pre")
    h = conv(h, rank=rank, filters=filters, kernel=kernel, stride=stride, padding="same",
             name=f"{name}_conv_a")                     # [B, ceil(T/s), (ceil(F/s)), filters]
    h = bn_lrelu(h, slope=slope, name=f"{name}_mid")
    h = conv(h, rank=rank, filters=filters, kernel=kernel, stride=1, padding="same",
             name=f"{name}_conv_b")                     # same shape
    if order == "post":
        h = batch_norm(name=f"{name}_post_bn")(h)
    shortcut = x
    if in_width != filters or stride != 1:
        shortcut = projection(x, rank=rank, filters=filters, kernel=shortcut_kernel,
                              stride=stride, name=f"{name}_shortcut")
    if order == "post":
        h = keras.layers.Add(name=f"{name}_add")([h, shortcut])
        h = keras.layers.LeakyReLU(negative_slope=slope, name=final)(h)
    else:
        h = keras.layers.Add(name=final)([h, shortcut])
    if pool is not None:
        h = _MAXPOOL[rank](pool, name=name)(h)          # [B, T // pool, filters]
    return h


def embedding_head(inputs, x, p, name: str) -> keras.Model:
    """Dense1 (the embedding) -> Output (logits) and the dict-output Model.

    Args:
      inputs: the model's keras.Input.
      x: [B, D] pooled or recurrent features.
      p: params with embedding_units, num_classes, embedding_activation, leaky_slope.
    Returns:
      keras.Model(inputs, {"logits": [B, num_classes], "embedding": [B, embedding_units]}).
      The embedding is Dense1's output (after LeakyReLU when embedding_activation is
      "leaky_relu"; register p1-embedding-point); logits are pre-softmax and float32
      under any dtype policy (the embedding is in the policy's compute dtype).
    """
    embedding = keras.layers.Dense(p.embedding_units, name="embedding")(x)   # [B, 64]
    if p.embedding_activation == "leaky_relu":
        embedding = keras.layers.LeakyReLU(negative_slope=p.leaky_slope,
                                           name="embedding_lrelu")(embedding)
    # float32 logits under a mixed precision policy (shared.distribute, register shared-precision)
    logits = keras.layers.Dense(p.num_classes, dtype="float32", name="logits")(embedding)  # [B, 10]
    return keras.Model(inputs, {"logits": logits, "embedding": embedding}, name=name)
