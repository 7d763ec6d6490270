"""The demo's `premises` design carries the premises it was built for (paper 1's joined
teacher, paper 2's complementary representations); the default design does not.

The premise checks generate the data from a seed inside the test and measure them with
the probes of replication.premises (register shared-demo-premises), with a margin over
the targets. docs/datasets.md reports seeds 0, 1, 2 and 5 at full size; seed 5 is also
a slow test here (the weakest seed before the design's last change), 6 and 7 are not reported.
"""

from __future__ import annotations


import numpy as np
import pytest

from replication import premises
from shared.config import ConfigError
from shared.datasets import demo, demo_premises
from tests.shared.test_datasets_demo import _tree_hash

P1_MARGIN = 3.0       # points above P1_MIN_GAIN
P2_CORR_MARGIN = 0.05 # below P2_MAX_ERROR_CORR (measured 0.09-0.26 at full size: the thinnest margin)
P2_GAIN_MARGIN = 2.0  # points above P2_MIN_GAIN
# 2 s clips instead of 4 s (half the generation and feature time), every clip count kept:
# the probes need the 24 / 12 clips per class, and the event (0.4-0.8 s) stays sparse.
FAST = dict(clip_seconds=2.0)


def _assert_premises_hold(root) -> None:
    """The two premises the design was built for (the transfer probe, which this design does
    not carry, is left out: it is reported in docs/claims.md, not asserted)."""
    train, test = premises.load_split(root, "fold1_train"), premises.load_split(root, "fold1_evaluate")
    p1, p2 = premises.paper1_joined_gain(train, test), premises.paper2_complementarity(train, test)
    assert p1["gain"] >= premises.P1_MIN_GAIN + P1_MARGIN, p1
    assert p2["error_correlation"] <= premises.P2_MAX_ERROR_CORR - P2_CORR_MARGIN, p2
    assert p2["gain_over_best"] >= premises.P2_MIN_GAIN + P2_GAIN_MARGIN, p2


def test_premises_hold_on_the_premises_design(tmp_path):
    root = demo.generate(tmp_path / "demo", demo.with_params(design="premises", seed=7, **FAST),
                         progress=False)
    _assert_premises_hold(root)


def test_default_design_fails_paper1_premise(tmp_path):
    params = demo.with_params(seed=7, **FAST)
    root = demo.generate(tmp_path / "demo", params, progress=False)
    train = premises.load_split(root, "fold1_train")
    test = premises.load_split(root, "fold1_evaluate")
    p1 = premises.paper1_joined_gain(train, test, pairings=1)   # one draw: it measures +3, far below 10
    assert p1["gain"] < premises.P1_MIN_GAIN, p1


@pytest.mark.slow
@pytest.mark.parametrize("seed", [5, 6])
def test_premises_hold_at_full_size(tmp_path, seed):
    root = demo.generate(tmp_path / "demo", demo.with_params(design="premises", seed=seed), progress=False)
    _assert_premises_hold(root)


def test_premises_design_is_deterministic_and_recorded(tmp_path):
    small = demo.with_params(design="premises", clip_seconds=1.0, train_per_class=2,
                             evaluate_per_class=1)
    first = demo.generate(tmp_path / "a", small, progress=False)
    again = demo.generate(tmp_path / "b", small, progress=False)
    assert _tree_hash(first) == _tree_hash(again)
    assert demo.read_params(first) == small
    assert "design: premises" in (first / demo.PARAMS_FILE).read_text()
    default = demo.generate(tmp_path / "c", demo.with_params(clip_seconds=1.0, train_per_class=2,
                                                             evaluate_per_class=1), progress=False)
    assert len(list((first / "audio").iterdir())) == len(list((default / "audio").iterdir())) == 30
    assert _tree_hash(first / "audio") != _tree_hash(default / "audio")
    splits = demo.load_splits(first)
    train, evaluate = splits["fold1_train"], splits["fold1_evaluate"]
    assert not {e.group for e in train.examples} & {e.group for e in evaluate.examples}
    groups = {}   # the twins of a family share their locations, other scenes do not
    for e in train.examples:
        groups.setdefault(demo.dcase.CLASSES[e.label], set()).add(e.group)
    assert groups["airport"] == groups["shopping_mall"] and groups["airport"] != groups["bus"]
    assert not demo.is_complete(first, demo.with_params(clip_seconds=1.0, train_per_class=2,
                                                        evaluate_per_class=1))


def test_unknown_design_is_refused():
    with pytest.raises(ConfigError, match="DemoParams.design must be one of scenes, premises"):
        demo.with_params(design="tones")


def test_every_scene_has_a_family_and_twins_differ_by_a_semitone():
    plans = {scene: demo_premises.scene_plan(scene) for scene in demo.dcase.CLASSES}
    for a, b in demo_premises.FAMILIES:
        (fa, formant_a, cycles_a), (fb, formant_b, cycles_b) = plans[a], plans[b]
        assert (formant_a, cycles_a) == (formant_b, cycles_b)
        assert fb / fa == pytest.approx(2 ** (1 / 12))
    assert len({f0 for f0, _, _ in plans.values()}) == 10
    with pytest.raises(KeyError, match="scene 'beach'"):
        demo_premises.scene_plan("beach")


def test_bed_texture_is_invisible_per_band_and_visible_to_cepstra():
    """Two families' beds: the same per-band level statistics, different cepstral swings."""
    import librosa
    sr, n = 16000, 64000

    def features(cycles):
        stds, swings = [], []
        for k in range(4):
            y = demo_premises.textured_bed(np.random.default_rng([k]), n, sr, cycles)
            mel = librosa.feature.melspectrogram(y=y, sr=sr, n_fft=1024, hop_length=320, n_mels=64)
            db = librosa.power_to_db(mel)                                   # [64, frames]
            stds.append(db.std(axis=1))
            swings.append(librosa.feature.mfcc(S=db, n_mfcc=20).std(axis=1))
        return np.mean(stds, axis=0), np.mean(swings, axis=0)

    std_flat, mfcc_flat = features(0.0)      # every band swings together
    std_ripple, mfcc_ripple = features(3.0)  # the phase turns 3 times across the bands
    assert np.median(np.abs(std_flat - std_ripple)) < 0.5                # dB, per band
    assert mfcc_flat[0] > 2 * mfcc_ripple[0]                             # c0 carries the common swing
    assert mfcc_ripple[6] > 2 * mfcc_flat[6]                             # c6 ~ 3 turns across 64 bands
