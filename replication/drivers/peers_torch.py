"""PyTorch peers of the kit's four paper models, layer for layer (benchmark section "peers").

    from replication.drivers.peers_torch import build_peer
    model = build_peer("cnn_gru", (249, 256, 2), num_classes=10)   # nn.Module: x -> logits [B, 10]

Each peer is written from the kit's own builder and parameters, so that both sides train
the same function with the same number of weights (tests/replication/test_bench_peers.py
asserts equal parameter counts):
- "raw_cnn": paper1_ts.models.raw_cnn (Table 2) from RawCNNParams;
- "cnn_gru": paper1_ts.models.cnn_gru, GRU head (Table 3) from CNNGRUParams;
- "vgg19", "resnet101": paper2_multirep.branches.build_branch, i.e. keras.applications
  VGG19 / ResNet101 (include_top=False, global average pooling) + the branch head.

Not torchvision's VGG19 / ResNet101: torchvision's ResNet is "v1.5" (stride on the 3x3
conv, convolutions without bias) and keras.applications' is v1 (stride on the first 1x1,
every convolution with a bias), so the two would not have the same weights; and the
torchvision wheel on PyPI is built against the CUDA torch and does not load beside the
CPU-only torch wheel.

Layout: PyTorch's native channels-first ([B, C, T] / [B, C, T, F]); the benchmark hands
each peer the same batch as the kit, transposed once before timing. Keras details kept:
'same' padding as TensorFlow computes it (the extra pixel of an even total goes after),
BatchNormalization's epsilon (1e-3; 1.001e-5 in keras.applications' ResNet) and moving
average (Keras momentum 0.99 = PyTorch momentum 0.01), Keras' GRU with reset_after
(PyTorch's GRU formula, the same 2 x 3 x units biases).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

ARCHS = ("raw_cnn", "cnn_gru", "vgg19", "resnet101")
KERAS_BN_EPS = 1e-3               # keras.layers.BatchNormalization default
KERAS_BN_MOMENTUM = 0.01          # = 1 - Keras' 0.99
RESNET_BN_EPS = 1.001e-5          # keras.applications.resnet
VGG19_BLOCKS = ((64, 2), (128, 2), (256, 4), (512, 4), (512, 4))     # (width, convs) per block
RESNET101_STACKS = ((64, 3, 1), (128, 4, 2), (256, 23, 2), (512, 3, 2))  # (filters, blocks, stride)

_CONV = {1: nn.Conv1d, 2: nn.Conv2d}
_BN = {1: nn.BatchNorm1d, 2: nn.BatchNorm2d}


def _same_pads(size: int, kernel: int, stride: int) -> tuple[int, int]:
    """TensorFlow's 'same' padding of one axis: (before, after), after >= before."""
    total = max((math.ceil(size / stride) - 1) * stride + kernel - size, 0)
    return total // 2, total - total // 2


class SameConv(nn.Module):
    """Keras Conv1D / Conv2D with square kernel and stride, padding 'same' or 'valid', bias."""

    def __init__(self, rank: int, cin: int, cout: int, kernel: int, stride: int = 1,
                 padding: str = "same", bias: bool = True):
        super().__init__()
        self.rank, self.kernel, self.stride = rank, kernel, stride
        # symmetric 'same' (stride 1, odd kernel) goes into the conv; the rest is padded per call
        self.fixed = padding == "valid" or (stride == 1 and kernel % 2 == 1)
        pad = kernel // 2 if padding == "same" and self.fixed else 0
        self.conv = _CONV[rank](cin, cout, kernel, stride=stride, padding=pad, bias=bias)

    def forward(self, x):                                  # [B, C, T] or [B, C, T, F]
        if not self.fixed:
            pads = []
            for size in reversed(x.shape[2:]):             # F.pad lists the last axis first
                pads += _same_pads(int(size), self.kernel, self.stride)
            x = F.pad(x, pads)
        return self.conv(x)


def _bn(rank: int, width: int, eps: float = KERAS_BN_EPS) -> nn.Module:
    return _BN[rank](width, eps=eps, momentum=KERAS_BN_MOMENTUM)


class BnLRelu(nn.Sequential):
    def __init__(self, rank: int, width: int, slope: float):
        super().__init__(_bn(rank, width), nn.LeakyReLU(slope))


class ResBlock(nn.Module):
    """paper1_ts.models.blocks.residual_block ("pre" or "post" order, optional max-pool)."""

    def __init__(self, rank: int, cin: int, filters: int, kernel: int, stride: int, order: str,
                 first: bool, slope: float, shortcut_kernel: int, pool: int | None = None):
        super().__init__()
        self.order = order
        self.pre = BnLRelu(rank, cin, slope) if order == "pre" and not first else nn.Identity()
        self.conv_a = SameConv(rank, cin, filters, kernel, stride)
        self.mid = BnLRelu(rank, filters, slope)
        self.conv_b = SameConv(rank, filters, filters, kernel, 1)
        self.post_bn = _bn(rank, filters) if order == "post" else nn.Identity()
        self.shortcut = (SameConv(rank, cin, filters, shortcut_kernel, stride)
                         if cin != filters or stride != 1 else nn.Identity())
        self.out = nn.LeakyReLU(slope) if order == "post" else nn.Identity()
        pool_cls = nn.MaxPool1d if rank == 1 else nn.MaxPool2d
        self.pool = pool_cls(pool) if pool is not None else nn.Identity()

    def forward(self, x):
        h = self.post_bn(self.conv_b(self.mid(self.conv_a(self.pre(x)))))
        return self.pool(self.out(h + self.shortcut(x)))


class EmbeddingHead(nn.Module):
    """paper1_ts.models.blocks.embedding_head: Dense1 (embedding) -> logits."""

    def __init__(self, features: int, p):
        super().__init__()
        self.embedding = nn.Linear(features, p.embedding_units)
        self.act = (nn.LeakyReLU(p.leaky_slope) if p.embedding_activation == "leaky_relu"
                    else nn.Identity())
        self.logits = nn.Linear(p.embedding_units, p.num_classes)

    def forward(self, x):
        return self.logits(self.act(self.embedding(x)))


def _trunk(rank: int, p, conv1: nn.Module, filters, strides, pool) -> tuple[nn.Sequential, int]:
    layers = [conv1, BnLRelu(rank, p.conv1_filters, p.leaky_slope)]
    cin = p.conv1_filters
    for i, (width, stride) in enumerate(zip(filters, strides)):
        layers.append(ResBlock(rank, cin, width, p.res_kernel, stride, p.block_order, i == 0,
                               p.leaky_slope, p.shortcut_kernel, pool))
        cin = width
    if p.block_order == "pre":
        layers.append(BnLRelu(rank, cin, p.leaky_slope))
    return nn.Sequential(*layers), cin


class RawCNN(nn.Module):
    """Table 2: [B, channels, time] -> logits [B, num_classes]."""

    def __init__(self, p):
        super().__init__()
        conv1 = SameConv(1, p.channels, p.conv1_filters, p.conv1_kernel, p.conv1_stride, "valid")
        n = len(p.res_filters)
        self.trunk, width = _trunk(1, p, conv1, p.res_filters, (p.res_stride,) * n, p.res_pool)
        self.head = EmbeddingHead(width, p)

    def forward(self, x):
        return self.head(torch.amax(self.trunk(x), dim=2))              # global max over time


class CNNGRU(nn.Module):
    """Table 3, GRU head: [B, channels, frames, bins] -> logits [B, num_classes]."""

    def __init__(self, p):
        super().__init__()
        conv1 = SameConv(2, p.channels, p.conv1_filters, p.conv1_kernel, 1)
        self.trunk, width = _trunk(2, p, conv1, p.block_filters, p.res_strides, None)
        self.gru = nn.GRU(2 * width, p.gru_units, batch_first=True)
        self.head = EmbeddingHead(p.gru_units, p)

    def forward(self, x):
        h = self.trunk(x)                                                # [B, 240, T', F']
        seq = torch.cat([h.mean(dim=3), h.amax(dim=3)], dim=1)          # [B, 480, T']
        _, last = self.gru(seq.transpose(1, 2))                          # [1, B, units]
        return self.head(last[0])


class BranchHead(nn.Module):
    """paper2_multirep.branches: [optional Dense+ReLU, Dropout] -> logits."""

    def __init__(self, features: int, num_classes: int, hidden: int, dropout: float):
        super().__init__()
        layers = []
        if hidden:
            layers += [nn.Linear(features, hidden), nn.ReLU()]
            features = hidden
        if dropout:
            layers.append(nn.Dropout(dropout))
        self.body = nn.Sequential(*layers, nn.Linear(features, num_classes))

    def forward(self, x):
        return self.body(x)


class VGG19(nn.Module):
    """keras.applications.VGG19(include_top=False, pooling="avg") + branch head."""

    def __init__(self, channels: int, num_classes: int, hidden: int = 0, dropout: float = 0.0):
        super().__init__()
        layers, cin = [], channels
        for width, convs in VGG19_BLOCKS:
            for _ in range(convs):
                layers += [nn.Conv2d(cin, width, 3, padding=1), nn.ReLU()]
                cin = width
            layers.append(nn.MaxPool2d(2))
        self.features = nn.Sequential(*layers)
        self.head = BranchHead(cin, num_classes, hidden, dropout)

    def forward(self, x):
        return self.head(self.features(x).mean(dim=(2, 3)))


class Bottleneck(nn.Module):
    """keras.applications.resnet.residual_block_v1 (stride on the first 1x1, biases)."""

    def __init__(self, cin: int, filters: int, stride: int, conv_shortcut: bool):
        super().__init__()
        out = 4 * filters
        self.shortcut = (nn.Sequential(nn.Conv2d(cin, out, 1, stride=stride),
                                       nn.BatchNorm2d(out, eps=RESNET_BN_EPS, momentum=KERAS_BN_MOMENTUM))
                         if conv_shortcut else nn.Identity())
        self.body = nn.Sequential(
            nn.Conv2d(cin, filters, 1, stride=stride), self._bn(filters), nn.ReLU(),
            nn.Conv2d(filters, filters, 3, padding=1), self._bn(filters), nn.ReLU(),
            nn.Conv2d(filters, out, 1), self._bn(out))

    @staticmethod
    def _bn(width: int) -> nn.Module:
        return nn.BatchNorm2d(width, eps=RESNET_BN_EPS, momentum=KERAS_BN_MOMENTUM)

    def forward(self, x):
        return F.relu(self.shortcut(x) + self.body(x))


class ResNet101(nn.Module):
    """keras.applications.ResNet101(include_top=False, pooling="avg") + branch head."""

    def __init__(self, channels: int, num_classes: int, hidden: int = 0, dropout: float = 0.0):
        super().__init__()
        layers = [nn.Conv2d(channels, 64, 7, stride=2, padding=3),
                  nn.BatchNorm2d(64, eps=RESNET_BN_EPS, momentum=KERAS_BN_MOMENTUM), nn.ReLU(),
                  nn.MaxPool2d(3, stride=2, padding=1)]      # zero vs -inf padding: same after ReLU
        cin = 64
        for filters, blocks, stride in RESNET101_STACKS:
            for i in range(blocks):
                layers.append(Bottleneck(cin, filters, stride if i == 0 else 1, i == 0))
                cin = 4 * filters
        self.features = nn.Sequential(*layers)
        self.head = BranchHead(cin, num_classes, hidden, dropout)

    def forward(self, x):
        return self.head(self.features(x).mean(dim=(2, 3)))


def kit_params(arch: str, input_shape: tuple, num_classes: int):
    """The kit's parameters of `arch` at `input_shape` (one example, channels last):
    RawCNNParams / CNNGRUParams (the paper's tables, input size and classes replaced) or
    BranchParams (random init, the kit's default head)."""
    if arch == "raw_cnn":
        from paper1_ts.model_params import RawCNNParams
        return RawCNNParams(input_length=input_shape[0], channels=input_shape[1],
                            num_classes=num_classes)
    if arch == "cnn_gru":
        from paper1_ts.model_params import CNNGRUParams
        return CNNGRUParams(input_frames=input_shape[0], input_bins=input_shape[1],
                            channels=input_shape[2], num_classes=num_classes)
    if arch in ("vgg19", "resnet101"):
        from paper2_multirep.params import BranchParams
        return BranchParams(arch=arch, weights="none")
    raise ValueError(f"unknown peer architecture '{arch}' (choose from {', '.join(ARCHS)})")


def build_peer(arch: str, input_shape: tuple, num_classes: int) -> nn.Module:
    """The PyTorch peer of the kit's `arch` model at `input_shape` (channels last, as the kit's)."""
    p = kit_params(arch, input_shape, num_classes)
    if arch == "raw_cnn":
        return RawCNN(p)
    if arch == "cnn_gru":
        return CNNGRU(p)
    cls = VGG19 if arch == "vgg19" else ResNet101
    return cls(input_shape[-1], num_classes, p.head_hidden, p.dropout)


def to_channels_first(x):
    """[B, T, C] -> [B, C, T]; [B, T, F, C] -> [B, C, T, F] (a contiguous copy)."""
    return x.movedim(-1, 1).contiguous()
