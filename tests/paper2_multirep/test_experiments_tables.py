"""Paper 2's tables as data: run names match the published cells, numerals resolve, presets load."""

from __future__ import annotations

import pytest

from paper2_multirep import experiments as E
from replication.published import load_published


def test_every_table_run_has_published_cells_and_vice_versa():
    published = load_published()
    for table in E.TABLES:
        mine = {r.run for r in E.table_runs(table)}
        printed = set(published.table(table.name).runs)
        assert mine == printed, (table.name, mine ^ printed)
        for run in mine:
            assert published.get(table.name, run, "accuracy") is not None
            assert published.get(table.name, run, "map_at_3") is not None


def test_runs_per_group_are_independent_distilled_and_ensemble():
    table = E.table_by_number("II")
    runs = E.table_runs(table)
    kinds = [r.kind for r in runs]
    # group 1: 2 independent, 2 distilled, ensemble; group 2 shares the ResNet logMel baseline
    assert kinds == ["independent", "independent", "distilled", "distilled", "ensemble",
                     "independent", "distilled", "distilled", "ensemble"]
    assert runs[0].run == "resnet_logmel64" and runs[5].run == "resnet_cqt"
    assert runs[2].run == "resnet_logmel64_distilled_with_resnet_mfcc"
    assert runs[4].run == "ensemble_resnet_logmel64_and_resnet_mfcc"


@pytest.mark.parametrize("text,numeral", [("VII", "VII"), ("vii", "VII"), ("7", "VII"), ("1", "I"),
                                          ("paper2/tableIV", "IV")])
def test_table_numbers_roman_and_arabic(text, numeral):
    assert E.table_by_number(text).numeral == numeral


def test_unknown_table_lists_the_known_ones():
    with pytest.raises(KeyError, match="known: I, II"):
        E.table_by_number("8")


def test_tables_are_registered():
    from replication import registry
    for table in E.TABLES:
        assert registry.get(table.name)() is table


def test_bad_branch_is_refused():
    with pytest.raises(ValueError, match="representation"):
        E.BranchSpec("wave", "resnet")
    with pytest.raises(ValueError, match="network"):
        E.BranchSpec("mfcc", "densenet")


def test_presets_resolve():
    from paper2_multirep.tables import resolve_params
    paper = resolve_params("paper")
    assert (paper.resnet_arch, paper.vgg_arch) == ("resnet101", "vgg19")
    assert paper.data.crop_frames == 150 and paper.data.dataset == "" 
    demo = resolve_params("demo")
    assert demo.data.dataset == "demo"
    with pytest.raises(Exception, match="no_such_key"):
        resolve_params("demo", {"no_such_key": 1})
