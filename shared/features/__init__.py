"""Feature front end: FeatureParams, pure tf feature functions, paper presets.

    from shared.features import FeatureParams, compute_features, paper2_params
    params = paper2_params("logMel64", sample_rate=22050)
    feats = compute_features(audio, 22050, params)   # [frames, 64, 3]
"""

from shared.features.params import KINDS, FeatureError, FeatureParams
from shared.features.presets import (P1_DEFAULT_READING, P1_READINGS, P2_KINDS,
                                     paper1_spectrogram_params, paper1_waveform_params,
                                     paper2_params)

__all__ = [
    "KINDS", "FeatureError", "FeatureParams", "compute_features", "features_tf",
    "P1_DEFAULT_READING", "P1_READINGS", "P2_KINDS", "paper1_spectrogram_params",
    "paper1_waveform_params", "paper2_params",
]


def __getattr__(name: str):
    # The TensorFlow front end loads on first use: FeatureParams (read by every preset)
    # must not start TensorFlow (`--help` and config errors stay instant).
    if name in ("compute_features", "features_tf"):
        from shared.features import frontend
        return getattr(frontend, name)
    raise AttributeError(f"module 'shared.features' has no attribute '{name}'")
