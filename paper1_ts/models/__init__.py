"""Keras builders of paper 1's networks (Table 2 raw CNN, Table 3 CNN-GRU).

Both return models with dict outputs {"logits": [B, 10] pre-softmax, "embedding": [B, 64]}.
"""

from paper1_ts.models.cnn_gru import HEADS, build_cnn_gru, build_cnn_trunk, copy_cnn_weights
from paper1_ts.models.raw_cnn import build_raw_cnn

__all__ = ["HEADS", "build_cnn_gru", "build_cnn_trunk", "build_raw_cnn", "copy_cnn_weights"]
