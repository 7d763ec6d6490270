"""`python -m paper1_ts.run --table N --estimate`: the plan and the table's faithful cost from
a benchmark throughput file (replication/cost.py, paper1_ts/cost.py); nothing trained."""

from __future__ import annotations

import pytest

from paper1_ts.run import main
from replication.cost import hours
from tests.replication.test_cost import write_rates

RATES = {"p1_raw_cnn_paper": (2.0, (479999, 2), 40), "p1_cnn_gru_paper": (4.0, (249, 256, 2), 40)}
FEATURES = {"p1_waveform": 0.1, "p1_spectrogram": 0.2}


def run(tmp_path, *extra):
    return main(["--table", "1", "--estimate", "--results", str(tmp_path / "res"),
                 "--data-root", str(tmp_path / "absent"), *extra])


def test_table1_estimate_is_the_plan_times_the_throughput(tmp_path, capsys):
    path = write_rates(tmp_path / "rates.json", RATES, FEATURES)
    assert run(tmp_path, "--throughput", str(path), "--devices", "4", "--scaling-efficiency", "0.5") == 0
    out = capsys.readouterr().out
    assert "2 distinct training jobs" in out and "faithful cost of paper1/table1" in out
    assert str(path) in out and "estimate: nothing trained" in out
    # Table 1 = the raw and the spec baselines: 6122 clips x 100 epochs each (official counts),
    # inference = embeddings + logits of 6122 + 2518 clips at 1/3 of a training clip,
    # feature extraction = 8640 clips x (0.1 + 0.2) s on the CPU (not divided over devices)
    train = 6122 * 100 / 2 + 6122 * 100 / 4
    score = 2 * 8640 / 3 / 2 + 2 * 8640 / 3 / 4
    features = 8640 * 0.3
    total = next(line for line in out.splitlines() if "TOTAL" in line).split()
    assert total[1] == hours(train + score + features) == "129.5"
    assert total[3] == hours((train + score) / 2 + features) == "65.1"
    assert "612,200 training clip-passes" in out and "(40 = 4 x 10)" in out
    assert not (tmp_path / "res").exists()


def test_missing_model_names_the_file_and_the_model(tmp_path, capsys):
    path = write_rates(tmp_path / "rates.json", {"p1_raw_cnn_paper": RATES["p1_raw_cnn_paper"]})
    assert run(tmp_path, "--throughput", str(path)) == 2
    err = capsys.readouterr().err
    assert str(path) in err and "no model 'p1_cnn_gru_paper'" in err


def test_default_throughput_is_this_machines_benchmark(tmp_path, capsys):
    assert run(tmp_path) == 0
    assert "throughput: docs/results/bench/after.json" in capsys.readouterr().out


def exit_code(argv) -> int:
    """The exit code of the command, whether it returns it or argparse exits."""
    try:
        return main(argv)
    except SystemExit as exit:
        return exit.code


@pytest.mark.parametrize("argv, message", [
    (["--table", "1", "--devices", "2"], "--devices applies to --estimate only"),
    (["--table", "1", "--estimate", "--rehearse"], "do not go together"),
    (["--table", "2", "--estimate"], "train nothing"),
    (["--figure", "2", "--estimate"], "reuse Table 6's models"),
])
def test_estimate_options_are_checked(argv, message, capsys):
    assert exit_code(argv) == 2
    assert message in capsys.readouterr().err
