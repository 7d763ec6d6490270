"""`python -m paper2_multirep.run --table N --estimate`: the plan and the table's faithful cost
from a benchmark throughput file (replication/cost.py, paper2_multirep/cost.py); nothing trained."""

from __future__ import annotations

from paper2_multirep import run
from replication.cost import hours
from tests.replication.test_cost import write_rates

RATES = {"p2_resnet101_paper": (8.0, (150, 64, 3), 64), "p2_vgg19_paper": (4.0, (150, 64, 3), 64)}
FEATURES = {"p2_logMel64": 0.1, "p2_MFCC": 0.3}


def estimate(tmp_path, *extra):
    return run.main(["--table", "VII", "--estimate", "--data-root", str(tmp_path / "absent"),
                     "--results", str(tmp_path / "res"), *extra])


def test_table7_estimate_is_the_plan_times_the_throughput(tmp_path, capsys):
    path = write_rates(tmp_path / "rates.json", RATES, FEATURES)
    assert estimate(tmp_path, "--throughput", str(path), "--devices", "8") == 0
    out = capsys.readouterr().out
    assert "6 distinct training jobs" in out and "faithful cost of paper2/tableVII" in out
    # Official TUT 2018 fold 1: 6122 training / 2518 test clips of 10 s -> 1001 frames, so 13
    # windows of 150 frames at hop 75 (0, 75, ..., 825 and the last at 851). Each network is in 2
    # independent branches (150 passes) and 2 cyclic ones (150 cycles x 2 passes); a cyclic
    # branch scores every crop of every training clip once per cycle, every branch the test crops.
    train = 2 * 6122 * 150 + 2 * 6122 * 300                      # per network
    score = 2 * 13 * 2518 + 2 * 13 * (150 * 6122 + 2518)
    assert f"{13 * (150 * 6122 + 2518):,} inference passes" in out
    features = (6122 + 2518) * (0.1 + 0.3)
    seconds = train / 8 + train / 4 + score / 3 / 8 + score / 3 / 4
    total = next(line for line in out.splitlines() if "TOTAL" in line).split()
    assert total[1] == hours(seconds + features) == "1408.5"
    assert total[3] == hours(seconds / 8 + features) == "176.9"  # default efficiency 1.0 (ideal)
    assert "efficiency 1:" in out and "lower bound" in out
    assert not (tmp_path / "res").exists()


def test_missing_model_names_the_file_and_the_model(tmp_path, capsys):
    path = write_rates(tmp_path / "rates.json", {"p2_resnet101_paper": RATES["p2_resnet101_paper"]})
    assert estimate(tmp_path, "--throughput", str(path)) == 2
    err = capsys.readouterr().err
    assert str(path) in err and "no model 'p2_vgg19_paper'" in err


def test_fsdkaggle_inference_is_not_guessed(tmp_path, capsys):
    path = write_rates(tmp_path / "rates.json", RATES, FEATURES)
    assert run.main(["--table", "I", "--estimate", "--throughput", str(path),
                     "--data-root", str(tmp_path / "absent"), "--results", str(tmp_path / "res")]) == 0
    out = capsys.readouterr().out
    assert "TOTAL (known parts)" in out and "crops per clip unknown without the data" in out
    assert "scoring (inference):       n/a" in out


def test_estimate_refuses_other_options(tmp_path, capsys):
    assert run.main(["--table", "VII", "--throughput", "x.json"]) == 2
    assert "--throughput applies to --estimate only" in capsys.readouterr().err
    assert run.main(["--table", "VII", "--estimate", "--no-estimate"]) == 2
    assert "do not go together" in capsys.readouterr().err


def test_variable_length_clips_count_their_crops_from_the_file_headers(tmp_path):
    # FSDKaggle2018-like clips of 0.5, 2 and 5 s at 44.1 kHz: 51, 201 and 501 frames (10 ms hop)
    # -> 1, 2 (0 and 51) and 6 (0, 75, ..., 300 and the last at 351) windows of 150 frames, hop 75
    from types import SimpleNamespace

    import numpy as np
    import soundfile as sf

    from paper2_multirep.cost import split_crops
    from paper2_multirep.experiments import BranchSpec

    examples = []
    for i, seconds in enumerate((0.5, 2.0, 5.0)):
        path = tmp_path / f"clip{i}.wav"
        sf.write(path, np.zeros(int(seconds * 44100), dtype="float32"), 44100)
        examples.append(SimpleNamespace(path=path))
    spec = SimpleNamespace(sample_rate=44100, channels=1, clip_seconds=None)
    plan = SimpleNamespace(data=SimpleNamespace(spec=spec), params=SimpleNamespace(
        data=SimpleNamespace(downmix=False, crop_frames=150, eval_hop_frames=75)))
    lengths = {}
    assert split_crops(BranchSpec("logmel64", "resnet"), plan, examples, 3, lengths) == 1 + 2 + 6
    assert len(lengths) == 3                                   # headers read once, kept for the next branch
    assert split_crops(BranchSpec("mfcc", "vgg"), plan, (), 3, lengths) is None     # data not read: unknown
    fixed = SimpleNamespace(data=SimpleNamespace(spec=SimpleNamespace(sample_rate=44100, channels=1,
                                                                      clip_seconds=5.0)), params=plan.params)
    assert split_crops(BranchSpec("mfcc", "vgg"), fixed, (), 4, {}) == 4 * 6
