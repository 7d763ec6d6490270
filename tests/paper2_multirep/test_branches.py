"""Branch factory: shapes, parameter budget, the offline ImageNet-weights policy, input policy."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from paper2_multirep import branches as br
from paper2_multirep.params import BranchParams


@pytest.fixture
def empty_keras_home(tmp_path, monkeypatch):
    """A Keras cache without weights; any download attempt fails the test."""
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras_home"))

    def no_download(*args, **kwargs):
        raise AssertionError(f"build_branch tried to download: {args} {kwargs}")

    monkeypatch.setattr(keras.src.utils.file_utils, "get_file", no_download)
    return tmp_path / "keras_home"


@pytest.mark.parametrize("arch", ["small_cnn", "small_resnet"])
def test_small_branches_give_logits_and_are_small(arch):
    built = br.build_branch(BranchParams(arch=arch, weights="none"), (100, 64, 3), 10, quiet=True)
    out = built.model(np.zeros((2, 100, 64, 3), np.float32))
    assert tuple(out.shape) == (2, 10)
    assert built.model.count_params() < 200_000
    assert not built.faithful and "stand-in" in built.notes[0]


def test_vgg19_without_cached_weights_is_loudly_unfaithful(empty_keras_home, capsys):
    built = br.build_branch(BranchParams(arch="vgg19"), (150, 64, 3), 41)
    assert not built.faithful
    assert built.weights_source == "random"
    assert "not found" in built.notes[0] and str(empty_keras_home) in built.notes[0]
    assert "NOT FAITHFUL" in capsys.readouterr().err
    assert tuple(built.model.output_shape) == (None, 41)


def test_require_weights_and_bad_path_are_errors(empty_keras_home, tmp_path):
    with pytest.raises(FileNotFoundError, match="ImageNet weights for vgg19 not found"):
        br.build_branch(BranchParams(arch="vgg19", require_weights=True), (150, 64, 3), 10)
    with pytest.raises(FileNotFoundError, match="does not exist"):
        br.build_branch(BranchParams(arch="vgg19", weights_path=str(tmp_path / "typo.h5")),
                        (150, 64, 3), 10)


def test_cache_lookup_finds_the_keras_file_name(empty_keras_home):
    assert br.find_imagenet_weights("resnet101") is None
    target = empty_keras_home / "models" / br.WEIGHT_FILES["resnet101"]
    target.parent.mkdir(parents=True)
    target.write_bytes(b"")
    assert br.find_imagenet_weights("resnet101") == target


def test_local_weights_file_is_loaded_and_faithful(empty_keras_home, tmp_path):
    donor = keras.applications.VGG19(include_top=False, weights=None, input_shape=(150, 64, 3),
                                     pooling="avg")
    path = tmp_path / "vgg19_backbone.weights.h5"
    donor.save_weights(str(path))
    built = br.build_branch(BranchParams(arch="vgg19", weights_path=str(path)), (150, 64, 3), 10)
    assert built.faithful and built.notes == () and built.weights_source == str(path)
    backbone = next(layer for layer in built.model.layers if isinstance(layer, keras.Model))
    for a, b in zip(donor.get_weights(), backbone.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_input_policy(empty_keras_home):
    with pytest.raises(ValueError, match="at least 32x32.*input_policy"):
        br.build_branch(BranchParams(arch="vgg19", weights="none"), (20, 64, 3), 10, quiet=True)
    padded = br.build_branch(BranchParams(arch="vgg19", weights="none", input_policy="pad"),
                             (20, 64, 3), 10, quiet=True)
    assert tuple(padded.model(np.zeros((1, 20, 64, 3), np.float32)).shape) == (1, 10)
    assert br.backbone_input_shape(BranchParams(input_policy="pad"), (20, 64, 3)) == (32, 64, 3)
    assert br.backbone_input_shape(BranchParams(input_policy="resize"), (150, 64, 3)) == (224, 224, 3)
    # The paper's crops fit VGG19 natively: five 2x2 pools take 150x64 to 4x2.
    assert br.backbone_input_shape(BranchParams(), (150, 64, 3)) == (150, 64, 3)


def test_every_batch_norm_layer_is_of_the_run_setting(empty_keras_home):
    """register shared-fused-bn: the small branches make the setting's layer, and a
    keras.applications backbone (its own BatchNormalization layers) is swapped, all 104 of
    ResNet101's; under "keras" nothing is swapped."""
    from shared.fused_bn import FusedBatchNormalization, batch_norm_layers, set_batch_norm
    try:
        for kind, cls in (("fused", FusedBatchNormalization), ("keras", keras.layers.BatchNormalization)):
            set_batch_norm(kind)
            for arch, count in (("small_resnet", 9), ("resnet101", 104)):
                built = br.build_branch(BranchParams(arch=arch, weights="none"), (150, 64, 3), 10, quiet=True)
                layers = batch_norm_layers(built.model)
                assert len(layers) == count and {type(layer) for layer in layers} == {cls}, (kind, arch)
    finally:
        set_batch_norm("fused")
