"""Hyper-parameters of paper 1's two networks (Table 2 raw CNN, Table 3 CNN-GRU).

Frozen dataclasses; the structural defaults (widths, kernels, strides, pools) are read
from the table rows in `paper1_ts.architecture`, so the paper's tables drive the
builders and a smaller variant (the demo preset) is the same dataclass with other
values. Fields not given by the paper name their register entry in
replication/decisions/paper1.yaml.

    params = RawCNNParams()                                  # Table 2, full size
    params = CNNGRUParams(res4_filters=120)                  # Table 3 as printed
    models = demo_params()                                   # presets/models_demo.yaml
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

from paper1_ts import architecture as arch
from shared.config import ConfigError, load_config

BLOCK_ORDERS = ("pre", "post")
EMBEDDING_ACTIVATIONS = ("linear", "leaky_relu")
DEMO_PRESET = Path(__file__).resolve().parent / "presets" / "models_demo.yaml"

_T2_RES = arch.rows_of_kind(arch.TABLE2, "res")
_T2_CONV1 = arch.row(arch.TABLE2, "Conv1")
_T3_RES = arch.rows_of_kind(arch.TABLE3, "res")
_T3_CONV1 = arch.row(arch.TABLE3, "Conv1")


def _check_common(p) -> None:
    cls = type(p).__name__
    if p.block_order not in BLOCK_ORDERS:
        raise ConfigError(f"{cls}.block_order '{p.block_order}' unknown (choose from {BLOCK_ORDERS})")
    if p.embedding_activation not in EMBEDDING_ACTIVATIONS:
        raise ConfigError(f"{cls}.embedding_activation '{p.embedding_activation}' unknown "
                         f"(choose from {EMBEDDING_ACTIVATIONS})")
    if not 0.0 <= p.leaky_slope < 1.0:
        raise ConfigError(f"{cls}.leaky_slope must be in [0, 1), got {p.leaky_slope}")
    for name in ("channels", "embedding_units", "num_classes", "shortcut_kernel"):
        if getattr(p, name) < 1:
            raise ConfigError(f"{cls}.{name} must be >= 1, got {getattr(p, name)}")


@dataclass(frozen=True)
class RawCNNParams:
    """Raw-waveform residual CNN of Table 2. Input [time, channels] = pre-emphasised waveform."""

    input_length: int | None = arch.TABLE2_INPUT[0]  # Table 2 caption (479999); None = any length (teacher on joined clips)
    channels: int = arch.TABLE2_INPUT[1]           # Table 2 caption (stereo)
    conv1_filters: int = _T2_CONV1.filters         # Table 2 Conv1 (64)
    conv1_kernel: int = _T2_CONV1.kernel[0]        # Table 2 Conv1 (12), no padding: see register p1-model-padding
    conv1_stride: int = _T2_CONV1.stride[0]        # Table 2 Conv1 (12)
    res_filters: tuple[int, ...] = tuple(r.filters for r in _T2_RES)  # Table 2 Res1-Res7 (64, 128 x 6)
    res_kernel: int = _T2_RES[0].kernel[0]         # Table 2 (3)
    res_stride: int = _T2_RES[0].stride[0]         # Table 2 (1)
    res_pool: int = _T2_RES[0].pool                # Table 2 shapes (/3 after each block)
    embedding_units: int = arch.row(arch.TABLE2, "Dense1").filters  # Table 2 Dense1 (64)
    num_classes: int = arch.row(arch.TABLE2, "Output").filters      # Table 2 Output (10)
    block_order: str = "pre"                       # not stated, see register p1-res-block-order
    leaky_slope: float = 0.3                       # not stated (notes Open 10), see register p1-leaky-relu
    shortcut_kernel: int = 1                       # not stated, see register p1-res-block-order
    embedding_activation: str = "linear"           # not stated, see register p1-embedding-point

    def __post_init__(self):
        _check_common(self)
        if self.input_length is not None and self.input_length < self.conv1_kernel:
            raise ConfigError(f"RawCNNParams.input_length {self.input_length} is shorter than "
                             f"conv1_kernel {self.conv1_kernel}")
        if not self.res_filters:
            raise ConfigError("RawCNNParams.res_filters must list at least one block")
        for name in ("conv1_filters", "conv1_kernel", "conv1_stride", "res_kernel",
                     "res_stride", "res_pool"):
            if getattr(self, name) < 1:
                raise ConfigError(f"RawCNNParams.{name} must be >= 1, got {getattr(self, name)}")

    @property
    def input_shape(self) -> tuple[int | None, int]:
        """[time, channels] of one example."""
        return (self.input_length, self.channels)


@dataclass(frozen=True)
class CNNGRUParams:
    """Spectrogram CNN-GRU of Table 3. Input [time frames, frequency bins, channels]."""

    input_frames: int | None = arch.TABLE3_INPUT[0]  # Table 3 caption (249); None = any length (teacher on joined clips)
    input_bins: int = arch.TABLE3_INPUT[1]           # Table 3 caption (256)
    channels: int = arch.TABLE3_INPUT[2]             # Table 3 caption (stereo)
    conv1_filters: int = _T3_CONV1.filters           # Table 3 Conv1 (30)
    conv1_kernel: int = _T3_CONV1.kernel[0]          # Table 3 Conv1 (7x7), 'same' padding: register p1-model-padding
    res_filters: tuple[int, ...] = tuple(r.filters for r in _T3_RES[:-1])   # Table 3 Res1-Res3 (30, 60, 120)
    res_strides: tuple[int, ...] = tuple(r.stride[0] for r in _T3_RES)       # Table 3 Res1-Res4 (1, 2, 2, 3)
    res_kernel: int = _T3_RES[0].kernel[0]           # Table 3 (3x3)
    res4_filters: int = 240                          # Table 3 prints 120, pools imply 240; register p1-res4-filters
    gru_units: int = arch.row(arch.TABLE3, "GRU").filters              # Table 3 GRU (480)
    embedding_units: int = arch.row(arch.TABLE3, "Dense1").filters     # Table 3 Dense1 (64)
    num_classes: int = arch.row(arch.TABLE3, "Output").filters         # Table 3 Output (10)
    block_order: str = "pre"                         # not stated, see register p1-res-block-order
    leaky_slope: float = 0.3                         # not stated, see register p1-leaky-relu
    shortcut_kernel: int = 1                         # not stated, see register p1-res-block-order
    embedding_activation: str = "linear"             # not stated, see register p1-embedding-point

    def __post_init__(self):
        _check_common(self)
        if len(self.res_strides) != len(self.res_filters) + 1:
            raise ConfigError(f"CNNGRUParams.res_strides has {len(self.res_strides)} entries but "
                             f"there are {len(self.res_filters) + 1} blocks (res_filters + Res4)")
        for name in ("input_bins", "conv1_filters", "conv1_kernel", "res_kernel",
                     "res4_filters", "gru_units"):
            if getattr(self, name) < 1:
                raise ConfigError(f"CNNGRUParams.{name} must be >= 1, got {getattr(self, name)}")
        if min(self.res_strides) < 1:
            raise ConfigError(f"CNNGRUParams.res_strides must be >= 1, got {self.res_strides}")

    @property
    def input_shape(self) -> tuple[int | None, int, int]:
        """[time, frequency, channels] of one example."""
        return (self.input_frames, self.input_bins, self.channels)

    @property
    def block_filters(self) -> tuple[int, ...]:
        """Widths of all residual blocks, Res1..Res4."""
        return self.res_filters + (self.res4_filters,)

    @property
    def freq_after_cnn(self) -> int:
        """Frequency bins left after the strided blocks ('same' padding: ceil per stride);
        the width of the frequency pools (22 for Table 3)."""
        bins = self.input_bins
        for s in self.res_strides:
            bins = math.ceil(bins / s)
        return bins


@dataclass(frozen=True)
class ModelParams:
    """Both networks of paper 1, as one preset file configures them."""

    raw_cnn: RawCNNParams = field(default_factory=RawCNNParams)   # Table 2
    cnn_gru: CNNGRUParams = field(default_factory=CNNGRUParams)   # Table 3


def demo_params() -> ModelParams:
    """The small demo variant (presets/models_demo.yaml: 16 kHz stereo 4 s clips)."""
    return load_config(ModelParams, DEMO_PRESET)
