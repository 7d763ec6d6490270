"""Branch networks f_i of paper 2 (Sec. III-A, IV-B): one factory for every architecture.

    built = build_branch(BranchParams(arch="vgg19"), (150, 64, 3), num_classes=41)
    built.model      # keras.Model: features [B, frames, bins, 3] -> logits [B, C]
    built.faithful   # False when the paper's setting could not be met (and why in built.notes)

The 3 input channels are (static, delta, delta-delta) of one representation (Sec. IV-C).

Paper architectures ("vgg19", "resnet101") come from keras.applications with
include_top=False, global average pooling and a dense logits layer. Their ImageNet
weights are taken ONLY from a local file (BranchParams.weights_path) or the Keras
cache (<KERAS_HOME or ~/.keras>/models/<name>_weights_tf_dim_ordering_tf_kernels_notop.h5);
the factory never downloads (keras.applications would try, and fail offline with a
"URL fetch failure"). When the file is missing the branch is built with random
weights, `faithful` is False, the reason is in `notes` and printed loudly, so the
runner can write it into the run record (register p2-imagenet-weights).

Input size (register p2-input-size): keras.applications needs at least 32x32. The
paper's crops are 150 frames x 64/128 bins (CQT 84), which both networks accept
natively (VGG19: 150x64 -> 4x2x512 after five 2x2 pools; ResNet101, stride 32:
150x64 -> 5x2x2048), so "native" is the default. "pad" zero-pads a too-small input
up to 32 (0 = the normalised mean), "resize" resizes bilinearly to `resize_to`.

CPU stand-ins ("small_cnn", "small_resnet", < 200k parameters) use the same head and
the same call signature; they are never faithful (demo presets only).
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path

import keras
from keras import layers

from paper2_multirep.params import PRETRAINED_ARCHS, BranchParams
from shared.fused_bn import batch_norm, with_batch_norm

MIN_SIZE = 32  # keras.applications' minimum spatial input for VGG19 / ResNet101
SMALL_BN_MOMENTUM = 0.9  # stand-ins: PyTorch's BN default (momentum 0.1), the paper's framework

# keras.applications file names of the no-top ImageNet weights (cache_subdir "models").
WEIGHT_FILES = {
    "vgg19": "vgg19_weights_tf_dim_ordering_tf_kernels_notop.h5",
    "resnet101": "resnet101_weights_tf_dim_ordering_tf_kernels_notop.h5",
}
# Backbone downsampling factor (total stride) of the paper architectures.
STRIDES = {"vgg19": 32, "resnet101": 32}


@dataclass(frozen=True)
class BuiltBranch:
    """A branch network and whether it matches the paper's setting."""
    model: keras.Model               # [B, frames, bins, 3] -> logits [B, C]
    faithful: bool                   # False: random instead of ImageNet weights, or a demo arch
    notes: tuple[str, ...]           # what departs from the paper (for the run record)
    weights_source: str              # file the backbone weights came from, or "random"


def keras_cache_dirs() -> list[Path]:
    """Where keras.applications caches weights: $KERAS_HOME/models, else ~/.keras/models (and /tmp/.keras/models)."""
    home = os.environ.get("KERAS_HOME")
    if home:
        return [Path(home) / "models"]
    return [Path("~/.keras").expanduser() / "models", Path("/tmp/.keras/models")]


def find_imagenet_weights(arch: str, weights_path: str = "") -> Path | None:
    """The local no-top ImageNet weights file of `arch`, or None when absent.

    Raises:
      FileNotFoundError: `weights_path` was given but does not exist (a typo must not
        silently become a random-weights run).
    """
    if weights_path:
        path = Path(weights_path).expanduser()
        if not path.is_file():
            raise FileNotFoundError(f"BranchParams.weights_path {path} does not exist")
        return path
    for folder in keras_cache_dirs():
        candidate = folder / WEIGHT_FILES[arch]
        if candidate.is_file():
            return candidate
    return None


def backbone_input_shape(params: BranchParams, input_shape: tuple[int, int, int]) -> tuple[int, int, int]:
    """Spatial size the backbone sees under `params.input_policy` (register p2-input-size)."""
    frames, bins, channels = input_shape
    if params.input_policy == "resize":
        return (params.resize_to[0], params.resize_to[1], channels)
    if params.input_policy == "pad":
        return (max(frames, MIN_SIZE), max(bins, MIN_SIZE), channels)
    if frames < MIN_SIZE or bins < MIN_SIZE:
        raise ValueError(f"{params.arch} needs inputs of at least {MIN_SIZE}x{MIN_SIZE}, got "
                         f"{frames}x{bins}; set BranchParams.input_policy to 'pad' or 'resize'")
    return input_shape


def _adapt_input(x, params: BranchParams, input_shape, target_shape):
    """Applies the input policy: [B, F, K, 3] -> [B, F', K', 3]."""
    if params.input_policy == "resize":
        return layers.Resizing(target_shape[0], target_shape[1], interpolation="bilinear",
                               name="resize_input")(x)
    pad_f, pad_k = target_shape[0] - input_shape[0], target_shape[1] - input_shape[1]
    if pad_f or pad_k:
        return layers.ZeroPadding2D(((0, pad_f), (0, pad_k)), name="pad_input")(x)
    return x


def _pretrained_backbone(params: BranchParams, shape, weights_file: Path | None) -> keras.Model:
    """keras.applications backbone with global average pooling: [B, F, K, 3] -> [B, D]."""
    weights = str(weights_file) if weights_file is not None else None
    if params.arch == "vgg19":
        return keras.applications.VGG19(include_top=False, weights=weights, input_shape=shape,
                                        pooling="avg")
    return keras.applications.ResNet101(include_top=False, weights=weights, input_shape=shape,
                                        pooling="avg")


def _conv_bn_relu(x, filters: int, stride: int = 1, name: str = ""):
    x = layers.Conv2D(filters, 3, strides=stride, padding="same", use_bias=False, name=f"{name}_conv")(x)
    x = batch_norm(momentum=SMALL_BN_MOMENTUM, name=f"{name}_bn")(x)
    return layers.ReLU(name=f"{name}_relu")(x)


def _small_cnn(x, filters: tuple[int, ...]):
    """VGG-like stand-in; per stage: (conv3-BN-ReLU) x2 then 2x2 max-pool. [B,F,K,3] -> [B,D]."""
    for i, width in enumerate(filters):
        x = _conv_bn_relu(x, width, name=f"stage{i}_a")
        x = _conv_bn_relu(x, width, name=f"stage{i}_b")
        x = layers.MaxPooling2D(2, padding="same", name=f"stage{i}_pool")(x)   # [B, F/2^(i+1), K/2^(i+1), w]
    return layers.GlobalAveragePooling2D(name="gap")(x)                          # [B, filters[-1]]


def _small_resnet(x, filters: tuple[int, ...]):
    """ResNet-like stand-in: stem, then one basic residual block per stage (stride 2 after the first)."""
    x = _conv_bn_relu(x, filters[0], name="stem")                                 # [B, F, K, w0]
    for i, width in enumerate(filters):
        stride = 1 if i == 0 else 2
        shortcut = x
        if stride != 1 or shortcut.shape[-1] != width:
            shortcut = layers.Conv2D(width, 1, strides=stride, use_bias=False, name=f"block{i}_proj")(x)
            shortcut = batch_norm(momentum=SMALL_BN_MOMENTUM, name=f"block{i}_proj_bn")(shortcut)
        y = _conv_bn_relu(x, width, stride=stride, name=f"block{i}_a")
        y = layers.Conv2D(width, 3, padding="same", use_bias=False, name=f"block{i}_b_conv")(y)
        y = batch_norm(momentum=SMALL_BN_MOMENTUM, name=f"block{i}_b_bn")(y)
        x = layers.ReLU(name=f"block{i}_out")(layers.Add(name=f"block{i}_add")([shortcut, y]))
    return layers.GlobalAveragePooling2D(name="gap")(x)                          # [B, filters[-1]]


def _announce(arch: str, notes: list[str]) -> None:
    """Prints an unfaithful build loudly on stderr (the runner also records it)."""
    bar = "!" * 78
    print(f"\n{bar}\nNOT FAITHFUL TO PAPER 2 ({arch} branch):", file=sys.stderr)
    for note in notes:
        print(f"  - {note}", file=sys.stderr)
    print(bar, file=sys.stderr, flush=True)


def build_branch(params: BranchParams, input_shape, num_classes: int, name: str = "branch",
                 quiet: bool = False) -> BuiltBranch:
    """Builds one branch: features [B, frames, bins, 3] -> logits [B, num_classes].

    Call it inside `strategy.scope()` when training under tf.distribute.

    Args:
      params: architecture, weights and input policy.
      input_shape: (frames, bins, channels) of one crop, channels = 3.
      num_classes: C.
      name: keras model name (unique per branch in a group is clearer in logs).
      quiet: do not print the not-faithful banner (tests).
    Raises:
      ValueError: bad shape, or an input too small under the "native" policy.
      FileNotFoundError: weights_path given but missing, or require_weights and no file.
    """
    input_shape = tuple(int(v) for v in input_shape)
    if len(input_shape) != 3 or min(input_shape) < 1:
        raise ValueError(f"input_shape must be (frames, bins, channels), got {input_shape}")
    if num_classes < 2:
        raise ValueError(f"num_classes must be >= 2, got {num_classes}")
    notes: list[str] = []
    source = "random"
    inputs = keras.Input(input_shape, name="features")                          # [B, F, K, 3]
    if params.arch in PRETRAINED_ARCHS:
        if input_shape[-1] != 3:
            raise ValueError(f"{params.arch} takes 3 channels (static, delta, delta-delta), "
                             f"got {input_shape[-1]}")
        weights_file = None
        if params.weights == "imagenet":
            weights_file = find_imagenet_weights(params.arch, params.weights_path)
            if weights_file is None:
                searched = ", ".join(str(d / WEIGHT_FILES[params.arch]) for d in keras_cache_dirs())
                if params.require_weights:
                    raise FileNotFoundError(f"ImageNet weights for {params.arch} not found (searched "
                                            f"{searched}); set BranchParams.weights_path")
                notes.append(f"ImageNet weights for {params.arch} not found (searched {searched}); "
                             f"the backbone starts from random weights")
        else:
            notes.append(f"{params.arch} backbone starts from random weights (weights='none'), "
                         f"the paper loads ImageNet weights")
        target = backbone_input_shape(params, input_shape)
        x = _adapt_input(inputs, params, input_shape, target)                    # [B, F', K', 3]
        backbone = with_batch_norm(_pretrained_backbone(params, target, weights_file))   # register shared-fused-bn
        features = backbone(x)                                                   # [B, D]
        if weights_file is not None:
            source = str(weights_file)
    else:
        notes.append(f"{params.arch} is a small CPU stand-in for the paper's VGG19/ResNet101 "
                     f"(random init, no ImageNet weights)")
        body = _small_cnn if params.arch == "small_cnn" else _small_resnet
        features = body(inputs, tuple(params.small_filters))                     # [B, D]
    if params.head_hidden:
        features = layers.Dense(params.head_hidden, activation="relu", name="head_fc")(features)
    if params.dropout:
        features = layers.Dropout(params.dropout, name="head_dropout")(features)
    # float32 logits under a mixed precision policy (shared.distribute, register shared-precision)
    logits = layers.Dense(num_classes, dtype="float32", name="logits")(features)  # [B, C]
    model = keras.Model(inputs, logits, name=name)
    if notes and not quiet:
        _announce(params.arch, notes)
    return BuiltBranch(model, faithful=not notes, notes=tuple(notes), weights_source=source)


__all__ = ["BuiltBranch", "MIN_SIZE", "WEIGHT_FILES", "backbone_input_shape", "build_branch",
           "find_imagenet_weights", "keras_cache_dirs"]
