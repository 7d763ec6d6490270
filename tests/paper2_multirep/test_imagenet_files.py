"""Rehearsal ImageNet files: Keras's no-top layout, loaded through the user's path (KERAS_HOME).

Each full-size backbone is built once in this file (VGG19 ~0.5 s, ResNet101 ~3 s).
"""

from __future__ import annotations

import h5py
import keras
import numpy as np
import pytest

from paper2_multirep import branches as br
from paper2_multirep.imagenet_files import (LAYER_TABLES, REHEARSAL_ATTR, is_rehearsal_weights,
                                            write_imagenet_weights)
from paper2_multirep.params import BranchParams

NOTOP_PARAMS = {"vgg19": 20_024_384, "resnet101": 42_658_176}   # keras.applications, include_top=False


@pytest.fixture(scope="module")
def keras_home(tmp_path_factory):
    home = tmp_path_factory.mktemp("keras_home")
    paths = write_imagenet_weights(home, seed=7)
    assert paths == {arch: home / "models" / br.WEIGHT_FILES[arch] for arch in ("vgg19", "resnet101")}
    return home


@pytest.fixture
def offline_cache(keras_home, monkeypatch):
    """KERAS_HOME points at the written files; any download attempt fails the test."""
    monkeypatch.setenv("KERAS_HOME", str(keras_home))

    def no_download(*args, **kwargs):
        raise AssertionError(f"keras tried to download: {args} {kwargs}")

    monkeypatch.setattr(keras.src.utils.file_utils, "get_file", no_download)
    return keras_home


@pytest.mark.parametrize("arch", ["vgg19", "resnet101"])
def test_file_layout(keras_home, arch):
    with h5py.File(keras_home / "models" / br.WEIGHT_FILES[arch], "r") as f:
        names = [n.decode() for n in f.attrs["layer_names"]]
        assert names[0] == "input_1" and f.attrs["backend"] in ("tensorflow", b"tensorflow")
        assert "keras_version" in f.attrs
        assert REHEARSAL_ATTR in f.attrs
        total = 0
        for name in names:
            weight_names = [w.decode() for w in f[name].attrs["weight_names"]]
            for weight in weight_names:
                data = f[name][weight]
                assert data.dtype == np.float32
                total += data.size
        assert total == NOTOP_PARAMS[arch]
        first = f[names[1]] if arch == "vgg19" else f["conv1_conv"]
        expected = ["block1_conv1_W_1:0", "block1_conv1_b_1:0"] if arch == "vgg19" else \
            ["conv1_conv/kernel:0", "conv1_conv/bias:0"]
        assert [w.decode() for w in first.attrs["weight_names"]] == expected


@pytest.mark.parametrize("arch,shape", [("vgg19", (150, 64, 3)), ("resnet101", (150, 128, 3))])
def test_build_branch_loads_them_from_the_keras_cache(offline_cache, arch, shape):
    path = offline_cache / "models" / br.WEIGHT_FILES[arch]
    built = br.build_branch(BranchParams(arch=arch, require_weights=True), shape, 41)
    assert built.faithful and built.notes == () and built.weights_source == str(path)
    assert is_rehearsal_weights(built.weights_source)
    backbone = next(layer for layer in built.model.layers if isinstance(layer, keras.Model))
    with h5py.File(path, "r") as f:
        names = [n.decode() for n in f.attrs["layer_names"]]
        # the file lists every layer of the model in the model's order (input and pooling aside)
        assert names[1:] == [layer.name for layer in backbone.layers[1:-1]]
        assert names == [name for name, _ in LAYER_TABLES[arch]()]
        for layer in (l for l in backbone.layers if l.weights):
            stored = [f[layer.name][w.decode()][()] for w in f[layer.name].attrs["weight_names"]]
            for variable, value in zip(layer.weights, stored, strict=True):
                np.testing.assert_array_equal(keras.ops.convert_to_numpy(variable), value)
    logits = built.model(np.zeros((1, *shape), np.float32))
    assert tuple(logits.shape) == (1, 41) and np.all(np.isfinite(keras.ops.convert_to_numpy(logits)))


def test_other_files_are_not_rehearsal_weights(tmp_path):
    plain = tmp_path / "plain.h5"
    with h5py.File(plain, "w") as f:
        f.attrs["layer_names"] = np.array([b"input_1"])
    (tmp_path / "junk.h5").write_bytes(b"not hdf5")
    assert not is_rehearsal_weights(plain) and not is_rehearsal_weights(tmp_path / "junk.h5")
    with pytest.raises(ValueError, match="no ImageNet file layout for arch 'small_cnn'"):
        write_imagenet_weights(tmp_path, archs=("small_cnn",))
