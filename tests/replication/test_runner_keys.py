"""Store keys and config fingerprints are pinned across the move to replication/runner.py.

The keys below were computed by both papers' own table runners before they were moved
onto the generic runner; existing stores (<results>/paper{1,2}/_store) and records must keep
matching, so the descriptions these keys hash must stay byte-equal. Plans only: no data
read (paper 2 plans with require_data=False, so its clip lists are empty), no training.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]

P1 = {   # (preset, table) -> run -> keys of the run's systems at seed 0
    ("demo", "4"): {"T10_teacher10s": ["6360e9b243042b7f"], "T10_teacher20s": ["406e9cca9c8eb5ee"],
                    "T1_teacher10s": ["80c18d5c4859b055"], "T1_teacher20s": ["83b3b5f5a09afa26"],
                    "T5_teacher10s": ["e272ea1a89454d94"], "T5_teacher20s": ["026dab60e3e634f0"]},
    ("paper", "6"): {"ensemble_w_ts": ["0e94d16ffa794420", "bdcf08fd65eeb6e4"],
                     "ensemble_wo_ts": ["c6075db6126282fa", "e2dd8a1d8e978889"],
                     "raw_w_ts": ["0e94d16ffa794420"], "raw_wo_ts": ["c6075db6126282fa"],
                     "spec_w_ts": ["bdcf08fd65eeb6e4"], "spec_wo_ts": ["e2dd8a1d8e978889"]},
}
P2 = {   # (preset, table) -> run -> key of the run's job at seed 1
    # paper VII with data.downmix false: the keys before register p2-mono-downmix turned the
    # downmix on in the paper preset (the field is left out of the key while off)
    ("paper-no-downmix", "VII"): {"ensemble_resnet_logmel64_and_vgg_mfcc": "ae96cd87016c5760",
                       "ensemble_resnet_mfcc_and_vgg_logmel64": "78f837039c077847",
                       "resnet_logmel64": "7ef9d68f136e0e9a",
                       "resnet_logmel64_distilled_with_vgg_mfcc": "ae96cd87016c5760",
                       "resnet_mfcc": "2efbb5bdf3580338",
                       "vgg_logmel64": "7775a5ede66f3a51", "vgg_mfcc": "315cd32e3883f732"},
    ("paper", "VII"): {"ensemble_resnet_logmel64_and_vgg_mfcc": "c9f1b9c2d298b3d2",
                       "ensemble_resnet_mfcc_and_vgg_logmel64": "8ae670e5215d5735",
                       "resnet_logmel64": "ca2b07188eaed43f",
                       "resnet_logmel64_distilled_with_vgg_mfcc": "c9f1b9c2d298b3d2",
                       "resnet_mfcc": "a2330205a437fd4a",
                       "vgg_logmel64": "03487a267ecbb803", "vgg_mfcc": "3449075df297bcfd"},
    ("demo", "I"): {"ensemble_resnet_logmel64_and_resnet_logmel128": "1ef55a306ea75071",
                    "resnet_logmel128": "e66db12f70674739", "resnet_logmel64": "496a576fc7e28da8",
                    "vgg_logmel128": "32ec26e9a9dcb29d", "vgg_logmel64": "c2f1e162ddd2fe0d",
                    "vgg_logmel64_distilled_with_vgg_logmel128": "458a6bf1674d388a"},
}


@pytest.mark.parametrize("preset,table", sorted(P1))
def test_paper1_store_keys_are_unchanged(tmp_path, preset, table):
    from paper1_ts import tables
    from paper1_ts.experiments import table_by_number
    from paper1_ts.params import resolve_params
    params = resolve_params(preset, {"results_root": str(tmp_path)})
    plan = tables.make_plan(table_by_number(table), params, preset, warn=lambda line: None)
    got = {run: [ref.key for ref in refs] for (run, seed), refs in plan.systems.items() if seed == 0}
    assert got == P1[(preset, table)]


@pytest.mark.parametrize("preset,table", sorted(P2))
def test_paper2_store_keys_are_unchanged(tmp_path, preset, table):
    from paper2_multirep import tables
    from paper2_multirep.experiments import table_by_number
    overrides = {"data": {"downmix": False}} if preset == "paper-no-downmix" else {}
    params = tables.resolve_params(preset.split("-")[0], {"results_root": str(tmp_path), **overrides})
    plan = tables.plan_table(table_by_number(table), params, seeds=2, data_root=str(tmp_path / "absent"),
                             require_data=False)
    got = {run: job.key for (run, seed), job in plan.job_of.items() if seed == 1}
    assert {run: got[run] for run in P2[(preset, table)]} == P2[(preset, table)]


def test_paper1_demo_fingerprint_matches_the_recorded_reference():
    from paper1_ts import tables
    from paper1_ts.params import resolve_params
    fingerprint = tables.config_fingerprint(resolve_params("demo"))["hash"]
    for number in ("1", "6"):
        reference = json.loads((REPO / "data/reference/demo" / f"paper1_table{number}.json").read_text())
        assert {run["config"]["hash"] for run in reference["runs"].values()} == {fingerprint}
