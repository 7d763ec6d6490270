"""shared/inference.py: files and folders, refusals naming the file, crops as make_eval_crops."""

from __future__ import annotations

import numpy as np
import pytest

from shared.audio import AudioError, write_audio
from shared.features.params import FeatureParams
from shared.inference import audio_files, classify_files, crops_of, load_clip, top_k, top_k_text
from shared.pipeline import eval_crop_starts


def test_folders_expand_to_their_audio_files(tmp_path):
    for name in ("b.wav", "a.FLAC", "sub/c.wav", "notes.txt"):
        (tmp_path / name).parent.mkdir(exist_ok=True)
        (tmp_path / name).write_bytes(b"x")
    assert audio_files([tmp_path]) == [tmp_path / "a.FLAC", tmp_path / "b.wav", tmp_path / "sub" / "c.wav"]
    assert audio_files([tmp_path / "notes.txt"]) == [tmp_path / "notes.txt"]      # given by name: tried
    with pytest.raises(FileNotFoundError, match="no such file or folder"):
        audio_files([tmp_path / "missing.wav"])
    (tmp_path / "empty").mkdir()
    with pytest.raises(FileNotFoundError, match="empty: folder holds no .wav or .flac file"):
        audio_files([tmp_path / "empty"])


def test_rate_and_channels_are_refused_never_converted(tmp_path):
    params = FeatureParams(sample_rate=16000)
    tone = np.sin(np.arange(8000) / 5.0).astype(np.float32)[:, None] * 0.1
    write_audio(tmp_path / "ok.wav", tone, 16000)
    write_audio(tmp_path / "rate.wav", tone, 8000)
    write_audio(tmp_path / "stereo.wav", np.concatenate([tone, tone], 1), 16000)
    assert load_clip(tmp_path / "ok.wav", params, 1).shape == (8000, 1)
    with pytest.raises(AudioError, match="rate.wav: sample rate 8000 Hz, the model's front end expects 16000 Hz"):
        load_clip(tmp_path / "rate.wav", params, 1)
    with pytest.raises(AudioError, match="stereo.wav: 2 channel\\(s\\), the model was trained on 1"):
        load_clip(tmp_path / "stereo.wav", params, 1)
    assert load_clip(tmp_path / "stereo.wav", params, None).shape == (8000, 2)


def test_crops_follow_the_evaluation_crops():
    features = np.arange(23 * 2, dtype=np.float32).reshape(23, 2)
    crops = crops_of(features, 10, 5)
    starts = eval_crop_starts(23, 10, 5)
    assert [int(c[0, 0]) // 2 for c in crops] == starts == [0, 5, 10, 13]
    short = crops_of(features[:4], 10, 5)                        # wrapped, as the pipeline does
    assert short.shape == (1, 10, 2) and np.array_equal(short[0, 4], features[0])
    assert crops_of(features, None, None).shape == (1, 23, 2)    # whole clip


def test_top_k_lines_and_bad_files_do_not_stop_the_rest(tmp_path, capsys):
    probs = np.array([0.1, 0.6, 0.3])
    assert top_k(probs, ["a", "b", "c"], 2) == [("b", 0.6), ("c", 0.3)]
    assert top_k_text("x.wav", probs, ["a", "b", "c"]) == "x.wav  b 0.600  c 0.300  a 0.100"

    def score(path):
        if path.name == "bad.wav":
            raise AudioError(path, "cannot decode (test)")
        return probs

    code = classify_files([tmp_path / "bad.wav", tmp_path / "good.wav"], score, ["a", "b", "c"], "prog")
    out, err = capsys.readouterr()
    assert code == 2 and err == f"prog: error: {tmp_path / 'bad.wav'}: cannot decode (test)\n"
    assert out == f"{tmp_path / 'good.wav'}  b 0.600  c 0.300  a 0.100\n"
