"""A tiny waveform net for the strategy / multi-worker tests (not a test module).

Imported as `tests.toy_nets` (the repo root is on sys.path in pytest and in the tests'
child processes). Imports keras when called, so a child can configure its devices first.
No BatchNorm: its batch statistics are per replica, which the tests would then measure
instead of the strategy's arithmetic.
"""

from __future__ import annotations


def toy_waveform_net(name: str, crop: int, classes: int, *, width: int = 6, kernel: int = 5,
                     stride: int = 2, seed: int | None = 1, embedding: bool = True):
    """[B, crop, 2] -> Conv1D(width, kernel, stride, tanh) -> mean over time ->
    {"logits": [B, classes], "embedding": [B, width]} (paper 1's output dict), or bare
    logits [B, classes] with embedding=False (a paper 2 branch). seed=None: initialised from
    Keras' global random state as it stands (several nets in a row then differ)."""
    import keras

    if seed is not None:
        keras.utils.set_random_seed(seed)
    inp = keras.Input((crop, 2))                                                    # [B, crop, 2]
    h = keras.layers.Conv1D(width, kernel, strides=stride, activation="tanh")(inp)  # [B, T', width]
    h = keras.layers.GlobalAveragePooling1D()(h)                                    # [B, width]
    if not embedding:
        return keras.Model(inp, keras.layers.Dense(classes)(h), name=name)          # [B, classes]
    emb = keras.layers.Dense(width, activation="tanh", name="embedding")(h)         # [B, width]
    logits = keras.layers.Dense(classes, name="logits")(emb)                        # [B, classes]
    return keras.Model(inp, {"logits": logits, "embedding": emb}, name=name)
