"""Paper 1 figures: PNGs from tiny demo models (slow: trains the models each figure needs)."""

import pytest

from paper1_ts import commands
from paper1_ts.run import build_parser

TINY = {"data": {"train_per_class": 2, "eval_per_class": 2},
        "train": {"epochs": 1, "pool_epochs": 1, "gru_epochs": 1, "batch_size": 8},
        "models": {"raw_cnn": {"conv1_filters": 4, "res_filters": [4, 4, 4, 4, 4, 4, 4]},
                   "cnn_gru": {"conv1_filters": 4, "res_filters": [4, 4, 4], "res4_filters": 8,
                               "gru_units": 16}}}


@pytest.mark.slow
@pytest.mark.parametrize("number", ["1", "2"])
def test_figure_writes_a_png(tmp_path, number):
    args = build_parser().parse_args(["--figure", number, "--preset", "demo", "--results", str(tmp_path)])
    assert commands.run_figure(args, extra=TINY) == 0
    png = tmp_path / "paper1" / "figures" / f"figure{number}_demo.png"
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_figure_dry_run_plans_without_training(tmp_path, capsys):
    args = build_parser().parse_args(["--figure", "2", "--preset", "paper", "--dry-run",
                                      "--results", str(tmp_path), "--data-root", str(tmp_path / "absent")])
    assert commands.run_figure(args) == 0
    out = capsys.readouterr().out
    assert "ensemble_w_ts" in out and "6 to train" in out
    assert not (tmp_path / "paper1" / "figures").exists()


def test_a_rehearsal_figure_says_so_in_its_title(tmp_path):
    from paper1_ts.figures import REHEARSAL_TITLE, figure_title
    from paper1_ts.params import resolve_params
    from paper1_ts.rehearsal import rehearsal_params
    paper = resolve_params("paper")
    rehearsal = rehearsal_params(paper, str(tmp_path), None, generate=False)
    assert figure_title(paper, "Fig. 1") == "Fig. 1"
    assert figure_title(rehearsal, "Fig. 1") == REHEARSAL_TITLE + "Fig. 1"
