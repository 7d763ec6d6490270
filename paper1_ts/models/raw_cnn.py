"""Raw-waveform residual CNN of paper 1, Table 2.

    model = build_raw_cnn(RawCNNParams())          # input [B, 479999, 2]
    out = model(waveform)                          # {"logits": [B, 10], "embedding": [B, 64]}

Layer names follow the table rows (architecture.TABLE2 `layer`): conv1, res1..res7,
global_pool, embedding (Dense1), logits (Output, pre-softmax).
"""

from __future__ import annotations

import keras

from paper1_ts.model_params import RawCNNParams
from paper1_ts.models import blocks


def build_raw_cnn(params: RawCNNParams, name: str = "raw_cnn") -> keras.Model:
    """Builds the Table 2 network; outputs a dict {"logits", "embedding"}.

    Args:
      params: RawCNNParams (input_length None builds a length-agnostic model, e.g. for a
        teacher that sees two clips joined in time).
    """
    p = params
    inputs = keras.Input(shape=p.input_shape, name="waveform")      # [B, T, 2]
    x = blocks.conv(inputs, rank=1, filters=p.conv1_filters, kernel=p.conv1_kernel,
                    stride=p.conv1_stride, padding="valid",
                    name="conv1")                                   # [B, (T-12)//12+1, 64]
    x = blocks.bn_lrelu(x, slope=p.leaky_slope, name="conv1")
    for i, filters in enumerate(p.res_filters, start=1):
        x = blocks.residual_block(
            x, rank=1, filters=filters, kernel=p.res_kernel, stride=p.res_stride,
            order=p.block_order, first=(i == 1), slope=p.leaky_slope,
            shortcut_kernel=p.shortcut_kernel, pool=p.res_pool,
            name=f"res{i}")                                         # [B, T_i // 3, filters]
    if p.block_order == "pre":
        x = blocks.bn_lrelu(x, slope=p.leaky_slope, name="trunk_out")
    x = keras.layers.GlobalMaxPooling1D(name="global_pool")(x)      # [B, 128]
    return blocks.embedding_head(inputs, x, p, name)

