"""Random weights in the exact file layout of Keras's no-top ImageNet files (rehearsals).

    paths = write_imagenet_weights(tmp / "keras_home")   # -> tmp/keras_home/models/<file>
    os.environ["KERAS_HOME"] = str(tmp / "keras_home")    # branches.find_imagenet_weights finds them

A rehearsal must load backbone weights through the same path a user's real file takes
(branches.find_imagenet_weights -> keras.applications.VGG19/ResNet101(weights=<path>)
-> keras's legacy HDF5 loader), without the 80 MB / 170 MB downloads. This module
writes files of the same name and layout, filled with seeded random numbers:

  file attrs   layer_names (every layer of the no-top model in Keras's order, the input
               layer first), backend, keras_version
  <layer>/     attr weight_names; one dataset per weight, in the layer's weight order
               VGG19 (the 2016 Keras 1 file):  block1_conv1/block1_conv1_W_1:0, ..._b_1:0
               ResNet101 (Keras 2 naming):     conv1_conv/conv1_conv/kernel:0, .../bias:0,
                                               conv1_bn/conv1_bn/gamma:0, beta, moving_mean,
                                               moving_variance
Keras loads such files by order (the n-th layer with weights gets the n-th group with
weight_names) and checks every count and shape, so a wrong table fails the load. The
architectures are tables here (no model is built to write them); the test loads them
through branches.build_branch. The weight names inside follow the Keras 1 / Keras 2
conventions of the released files as far as public code shows them; Keras does not
read them. Each file carries the attribute REHEARSAL_ATTR, which real files lack, so a
record can tell rehearsal weights from ImageNet ones (`is_rehearsal_weights`).
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from paper2_multirep.branches import WEIGHT_FILES   # keras.applications' file names

REHEARSAL_ATTR = "kit_rehearsal_weights"
REHEARSAL_TEXT = "random weights in the layout of the Keras ImageNet file; NOT ImageNet weights"
KERAS_VERSION = {"vgg19": "1.1.0", "resnet101": "2.2.4"}   # nominal; Keras only reads that it is there

# VGG19, Simonyan & Zisserman config E: (block, convolutions, filters)
VGG19_BLOCKS = ((1, 2, 64), (2, 2, 128), (3, 4, 256), (4, 4, 512), (5, 4, 512))
# ResNet101 v1 (He et al. 2016): (stack name, bottleneck blocks, filters); output 4 x filters
RESNET101_STACKS = (("conv2", 3, 64), ("conv3", 4, 128), ("conv4", 23, 256), ("conv5", 3, 512))
BN_WEIGHTS = ("gamma", "beta", "moving_mean", "moving_variance")

Layer = tuple[str, tuple[tuple[str, tuple[int, ...]], ...]]   # (name, ((weight name, shape), ...))


def vgg19_layers() -> list[Layer]:
    """Every layer of VGG19 without top, Keras's order; conv kernels (3, 3, in, out)."""
    layers: list[Layer] = [("input_1", ())]
    channels = 3
    for block, convs, filters in VGG19_BLOCKS:
        for i in range(1, convs + 1):
            name = f"block{block}_conv{i}"
            layers.append((name, ((f"{name}_W_1:0", (3, 3, channels, filters)),
                                  (f"{name}_b_1:0", (filters,)))))
            channels = filters
        layers.append((f"block{block}_pool", ()))
    return layers


def _conv(name: str, size: int, cin: int, cout: int) -> Layer:
    return name, ((f"{name}/kernel:0", (size, size, cin, cout)), (f"{name}/bias:0", (cout,)))


def _bn(name: str, channels: int) -> Layer:
    return name, tuple((f"{name}/{w}:0", (channels,)) for w in BN_WEIGHTS)


def _bottleneck(name: str, cin: int, filters: int, shortcut: bool) -> list[Layer]:
    """One ResNet v1 bottleneck block in the order Keras lists its layers."""
    out = 4 * filters
    layers = [_conv(f"{name}_1_conv", 1, cin, filters), _bn(f"{name}_1_bn", filters),
              (f"{name}_1_relu", ()),
              _conv(f"{name}_2_conv", 3, filters, filters), _bn(f"{name}_2_bn", filters),
              (f"{name}_2_relu", ())]
    if shortcut:
        layers += [_conv(f"{name}_0_conv", 1, cin, out), _conv(f"{name}_3_conv", 1, filters, out),
                   _bn(f"{name}_0_bn", out), _bn(f"{name}_3_bn", out)]
    else:
        layers += [_conv(f"{name}_3_conv", 1, filters, out), _bn(f"{name}_3_bn", out)]
    return layers + [(f"{name}_add", ()), (f"{name}_out", ())]


def resnet101_layers() -> list[Layer]:
    """Every layer of ResNet101 without top, Keras's order (keras.applications.resnet)."""
    layers: list[Layer] = [("input_1", ()), ("conv1_pad", ()), _conv("conv1_conv", 7, 3, 64),
                           _bn("conv1_bn", 64), ("conv1_relu", ()), ("pool1_pad", ()),
                           ("pool1_pool", ())]
    channels = 64
    for stack, blocks, filters in RESNET101_STACKS:
        for b in range(1, blocks + 1):
            layers += _bottleneck(f"{stack}_block{b}", channels, filters, shortcut=b == 1)
            channels = 4 * filters
    return layers


LAYER_TABLES = {"vgg19": vgg19_layers, "resnet101": resnet101_layers}


def _values(rng: np.random.Generator, weight: str, shape: tuple[int, ...]) -> np.ndarray:
    """Plausible random values: He-normal kernels, small biases, BN near identity."""
    if len(shape) == 4:                                            # kernel (kh, kw, in, out)
        fan_in = shape[0] * shape[1] * shape[2]
        return (rng.standard_normal(shape, dtype=np.float32) * np.float32(np.sqrt(2.0 / fan_in)))
    if "gamma" in weight or "variance" in weight:
        return rng.uniform(0.8, 1.2, shape).astype(np.float32)
    return (rng.standard_normal(shape, dtype=np.float32) * np.float32(0.01))


def _check_arch(arch: str) -> None:
    if arch not in LAYER_TABLES:
        raise ValueError(f"no ImageNet file layout for arch '{arch}' (known: {', '.join(LAYER_TABLES)})")


def write_weights_file(path: Path, arch: str, seed: int = 0) -> Path:
    """Writes the no-top file of `arch` to `path` (temporary name, then renamed)."""
    import h5py

    _check_arch(arch)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng((seed, sorted(LAYER_TABLES).index(arch)))
    layers = LAYER_TABLES[arch]()
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with h5py.File(tmp, "w") as f:
            f.attrs["layer_names"] = np.array([name.encode("utf8") for name, _ in layers])
            f.attrs["backend"] = b"tensorflow"
            f.attrs["keras_version"] = KERAS_VERSION[arch].encode("utf8")
            f.attrs[REHEARSAL_ATTR] = REHEARSAL_TEXT.encode("utf8")
            for name, weights in layers:
                group = f.create_group(name)
                group.attrs["weight_names"] = np.array([w.encode("utf8") for w, _ in weights],
                                                       dtype="S" if weights else "S1")
                for weight, shape in weights:
                    group.create_dataset(weight, data=_values(rng, weight, shape))
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()
    return path


def write_imagenet_weights(keras_home: str | os.PathLike, archs: tuple[str, ...] = ("vgg19", "resnet101"),
                           seed: int = 0) -> dict[str, Path]:
    """Writes `<keras_home>/models/<Keras file name>` for each arch (KERAS_HOME's layout).

    With KERAS_HOME=keras_home, branches.find_imagenet_weights finds these files exactly
    as it finds a user's downloaded ones. An existing file is replaced.
    """
    for arch in archs:
        _check_arch(arch)                       # before any file is written
    folder = Path(keras_home) / "models"
    return {arch: write_weights_file(folder / WEIGHT_FILES[arch], arch, seed) for arch in archs}


def is_rehearsal_weights(path: str | os.PathLike) -> bool:
    """True for a file written here (random weights), False for any other file."""
    import h5py

    try:
        with h5py.File(path, "r") as f:
            return REHEARSAL_ATTR in f.attrs
    except OSError:
        return False


__all__ = ["LAYER_TABLES", "REHEARSAL_ATTR", "WEIGHT_FILES", "is_rehearsal_weights",
           "resnet101_layers", "vgg19_layers", "write_imagenet_weights", "write_weights_file"]
