"""`python -m paper2_multirep.run --rehearse` (issue 14): the paper preset at full size
(VGG19 / ResNet101 with ImageNet-layout weight files) on generated data, one cycle of a
few steps, records marked as a rehearsal, verdicts labelled, exit 0."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from paper2_multirep import rehearsal, table_backend
from paper2_multirep.experiments import table_by_number, table_runs
from paper2_multirep.params import OptimParams
from paper2_multirep.tables import resolve_params
from replication.rehearsal import CACHE_DIR, DATA_DIR, REHEARSAL_STEPS
from shared.config import to_dict
from shared.datasets.rehearsal_marker import MARKER_FILE
from tests.rehearsal_cost import run_rehearsal


def test_rehearsal_params_change_only_steps_data_roots_and_weight_requirement(tmp_path):
    paper = resolve_params("paper")
    params = rehearsal.rehearsal_params(paper, "dcase2018_task1a", str(tmp_path), None, generate=False)
    train, base = table_backend.training_params(params), table_backend.training_params(paper)
    assert train.optim.steps_per_pass == REHEARSAL_STEPS and train.num_cycles == 1
    assert train.branch.require_weights and train.branch.weights == "imagenet"
    assert train.optim.batch_size == base.optim.batch_size and train.mixup == base.mixup
    assert train.cyclic == base.cyclic and train.optim.learning_rate == base.optim.learning_rate
    assert (params.resnet_arch, params.vgg_arch) == ("resnet101", "vgg19")
    assert params.data.rehearsal and params.data.root == str(tmp_path / DATA_DIR / "dcase2018_task1a")
    assert params.data.cache_root == str(tmp_path / CACHE_DIR)
    assert params.data.crop_frames == paper.data.crop_frames
    assert not (tmp_path / DATA_DIR).exists()                          # generate=False: nothing written


def test_steps_per_pass_stays_out_of_keys_until_set():
    assert "steps_per_pass" not in to_dict(OptimParams())
    assert to_dict(OptimParams(steps_per_pass=2))["steps_per_pass"] == 2


def test_imagenet_home_is_temporary_and_restores_keras_home(monkeypatch, tmp_path):
    user_home = str(tmp_path / "user-keras")
    monkeypatch.setenv("KERAS_HOME", user_home)
    with rehearsal.imagenet_home(("vgg19",), log=lambda line: None) as home:
        assert os.environ["KERAS_HOME"] == home
        from paper2_multirep.branches import find_imagenet_weights
        from paper2_multirep.imagenet_files import is_rehearsal_weights
        assert is_rehearsal_weights(find_imagenet_weights("vgg19"))
    assert os.environ["KERAS_HOME"] == user_home and not Path(home).exists()


def test_archs_of_table_vii():
    assert rehearsal.archs_of(table_by_number("VII"), resolve_params("paper")) == ("resnet101", "vgg19")


def _rehearse_table(numeral: str, tmp_path: Path, capsys) -> tuple[str, list[dict]]:
    from paper2_multirep import run

    code, out = run_rehearsal(f"paper 2 Table {numeral}", run.main,
                              ["--table", numeral, "--rehearse", "--results", str(tmp_path)], capsys)
    assert code == 0, out
    table = table_by_number(numeral)
    assert (tmp_path / DATA_DIR / table.dataset / MARKER_FILE).is_file()
    records = [json.loads(p.read_text())
               for p in tmp_path.glob(f"paper2/table{numeral}/*/seed-0/results.json")]
    return out, records


@pytest.mark.slow
def test_rehearse_table_vii_through_the_command(tmp_path, capsys):
    """Paper 2's headline table (DCASE 2018 1A, stereo mixed to mono, register p2-mono-downmix),
    preset unchanged but for the steps: four independent ResNet101 / VGG19 branches and two
    cyclic groups. (Its first rehearsal found 6-channel inputs reaching VGG19/ResNet101.)"""
    out, records = _rehearse_table("VII", tmp_path, capsys)
    assert len(records) == 10
    for record in records:
        assert record["extra"]["rehearsal"]["steps_per_pass"] == REHEARSAL_STEPS
        assert record["extra"]["rehearsal"]["branches_faithful"] is True   # weights loaded from the files
    assert "[rehearsal]" in out and "whole table at the paper's epoch budget" in out


@pytest.mark.slow
def test_rehearse_table_v_through_the_command(tmp_path, capsys):
    """A paper-2 table on FSDKaggle2018 (mono, 0.3-30 s clips): ResNet101 and VGG19 on logMel64
    and CQT, two independent branches and one cyclic group per representation, end to end."""
    out, records = _rehearse_table("V", tmp_path, capsys)
    assert len(records) == len(table_runs(table_by_number("V")))
    for record in records:
        assert record["extra"]["rehearsal"]["steps_per_pass"] == REHEARSAL_STEPS
        assert record["extra"]["rehearsal"]["branches_faithful"] is True   # weights loaded from the files
    assert "[rehearsal]" in out and "whole table at the paper's epoch budget" in out


def test_step_measurement_times_each_network_crop_and_batch_once(monkeypatch):
    """Table VII's four branches are two networks on two 64-bin crops (logMel64, MFCC): the
    end-of-rehearsal measurement times ResNet101 and VGG19 once each, and each branch gets
    the figure of its network."""
    from types import SimpleNamespace

    params = rehearsal.rehearsal_params(resolve_params("paper"), "dcase2018_task1a", None, None,
                                        generate=False)
    spec = SimpleNamespace(sample_rate=48000, clip_seconds=10.0, channels=2)
    data = SimpleNamespace(spec=spec, classes=tuple(range(10)))
    calls = []

    def fake_step_seconds(branch, params, data, batch, steps, clear=False, train=None):
        calls.append((params.arch_of(branch.network), batch))
        return {"resnet101": 3.0, "vgg19": 2.0}[params.arch_of(branch.network)]

    monkeypatch.setattr(table_backend, "step_seconds", fake_step_seconds)
    lines = []
    seconds = rehearsal.measure_step_seconds(table_by_number("VII"), params, data, log=lines.append)
    batch = table_backend.training_params(params).optim.batch_size
    assert sorted(calls) == [("resnet101", batch), ("vgg19", batch)]
    assert seconds == {"resnet_logmel64": 3.0, "resnet_mfcc": 3.0, "vgg_mfcc": 2.0, "vgg_logmel64": 2.0}
    assert sum("shares" in line for line in lines) == 2
