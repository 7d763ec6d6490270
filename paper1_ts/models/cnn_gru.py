"""Spectrogram CNN-GRU of paper 1, Table 3, with the two-step training heads (Sec. 4.2).

Maps are [B, time, frequency, channels]; the input is [B, 249 frames, 256 bins, 2].

    cnn = build_cnn_gru(params, head="pool")   # step 1: CNN + pooling head, no GRU
    full = build_cnn_gru(params, head="gru")   # step 2: CNN + frequency pools + GRU
    copy_cnn_weights(cnn, full)                # carry the trained CNN into step 2
    full(spec)                                 # {"logits": [B, 10], "embedding": [B, 64]}

The convolutional part is one nested functional model named "cnn" (layers conv1,
res1..res4 as in architecture.TABLE3), shared in structure by both heads, so the
step-1 -> step-2 transfer is a whole-sub-model weight copy. The dense layers of the
two heads are separate and the step-2 ones start fresh (register p1-two-step-transfer).
"""

from __future__ import annotations

import keras

from paper1_ts.model_params import CNNGRUParams
from paper1_ts.models import blocks

HEADS = ("pool", "gru")
TRUNK_NAME = "cnn"


def build_cnn_trunk(params: CNNGRUParams) -> keras.Model:
    """Conv1 + Res1..Res4 of Table 3 as a functional model named "cnn".

    [B, T, F, C] -> [B, T', F', res4_filters] with T' = ceil(T / prod(strides)) per
    stride step ('same' padding; 249 -> 125 -> 63 -> 21, 256 -> 128 -> 64 -> 22).
    """
    p = params
    inputs = keras.Input(shape=p.input_shape, name="spectrogram")    # [B, 249, 256, 2]
    x = blocks.conv(inputs, rank=2, filters=p.conv1_filters, kernel=p.conv1_kernel, stride=1,
                    padding="same", name="conv1")                     # [B, 249, 256, 30]
    x = blocks.bn_lrelu(x, slope=p.leaky_slope, name="conv1")
    for i, (filters, stride) in enumerate(zip(p.block_filters, p.res_strides), start=1):
        x = blocks.residual_block(
            x, rank=2, filters=filters, kernel=p.res_kernel, stride=stride,
            order=p.block_order, first=(i == 1), slope=p.leaky_slope,
            shortcut_kernel=p.shortcut_kernel,
            name=f"res{i}")            # Res1 [B,249,256,30] Res2 [B,125,128,60] Res3 [B,63,64,120] Res4 [B,21,22,240]
    if p.block_order == "pre":
        x = blocks.bn_lrelu(x, slope=p.leaky_slope, name="trunk_out")
    return keras.Model(inputs, x, name=TRUNK_NAME)


def build_cnn_gru(params: CNNGRUParams, head: str = "gru", name: str | None = None) -> keras.Model:
    """The Table 3 model with the GRU head (step 2) or the pooling head (step 1).

    head="gru":  trunk [B,21,22,240] -> avg & max pool 1x22 over FREQUENCY, each
                 [B,21,1,240] -> concat on channels, [B,21,480] -> GRU over the 21 time
                 steps, last state [B,480] -> Dense1 [B,64] -> Output [B,10].
    head="pool": trunk -> global average and global max over time AND frequency, each
                 [B,240] -> concat [B,480] -> Dense1 [B,64] -> Output [B,10]
                 (register p1-two-step-transfer).
    Returns a Model with dict outputs {"logits", "embedding"}.
    """
    if head not in HEADS:
        raise ValueError(f"unknown CNN-GRU head '{head}' (choose from {', '.join(HEADS)})")
    p = params
    inputs = keras.Input(shape=p.input_shape, name="spectrogram")    # [B, T, F, C]
    trunk = build_cnn_trunk(p)
    x = trunk(inputs)                                                 # [B, 21, 22, 240]
    width = p.res4_filters
    if head == "gru":
        band = (1, p.freq_after_cnn)                                  # (1, 22): whole frequency axis
        avg = keras.layers.AveragePooling2D(band, strides=band, name="avg_pool")(x)  # [B, 21, 1, 240]
        mx = keras.layers.MaxPooling2D(band, strides=band, name="max_pool")(x)       # [B, 21, 1, 240]
        avg = keras.layers.Reshape((-1, width), name="avg_squeeze")(avg)  # [B, 21, 240]
        mx = keras.layers.Reshape((-1, width), name="max_squeeze")(mx)    # [B, 21, 240]
        seq = keras.layers.Concatenate(axis=-1, name="concat")([avg, mx])  # [B, 21, 480]
        feats = keras.layers.GRU(p.gru_units, name="gru")(seq)           # [B, 480]
    else:
        avg = keras.layers.GlobalAveragePooling2D(name="global_avg_pool")(x)  # [B, 240]
        mx = keras.layers.GlobalMaxPooling2D(name="global_max_pool")(x)      # [B, 240]
        feats = keras.layers.Concatenate(axis=-1, name="pool_concat")([avg, mx])  # [B, 480]
    return blocks.embedding_head(inputs, feats, p, name or f"cnn_gru_{head}")


def copy_cnn_weights(src: keras.Model, dst: keras.Model) -> int:
    """Copies the "cnn" sub-model weights (incl. BN statistics) from `src` into `dst`.

    Used between the two training steps: src = step-1 pooling-head model, dst = step-2
    GRU model (either direction works). Head layers are not touched.
    Returns the number of weight arrays copied.
    Raises ValueError naming the first weight whose shape differs.
    """
    src_cnn, dst_cnn = _trunk(src), _trunk(dst)
    src_w, dst_w = src_cnn.weights, dst_cnn.weights
    if len(src_w) != len(dst_w):
        raise ValueError(f"cannot copy CNN weights from '{src.name}' ({len(src_w)} arrays) to "
                         f"'{dst.name}' ({len(dst_w)} arrays): different architectures")
    for a, b in zip(src_w, dst_w):
        if tuple(a.shape) != tuple(b.shape):
            raise ValueError(f"cannot copy CNN weights from '{src.name}' to '{dst.name}': "
                             f"{a.path} has shape {tuple(a.shape)} but {b.path} has {tuple(b.shape)}")
    for a, b in zip(src_w, dst_w):
        b.assign(a)
    return len(src_w)


def _trunk(model: keras.Model) -> keras.Model:
    try:
        return model.get_layer(TRUNK_NAME)
    except ValueError:
        raise ValueError(f"model '{model.name}' has no '{TRUNK_NAME}' sub-model; "
                         "build it with build_cnn_gru") from None
