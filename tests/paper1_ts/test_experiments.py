"""Paper 1's tables as data: runs match the published cells, shared models are shared."""

import pytest

from paper1_ts import experiments as ex
from replication.published import load_published


@pytest.fixture(scope="module")
def published():
    return load_published()


@pytest.mark.parametrize("number", ex.RESULT_TABLES)
def test_runs_are_the_published_reruns(published, number):
    table = ex.table_by_number(number)
    cells = [c for c in published.cells_of(table.name) if c.rerun]
    assert sorted(r.name for r in table.runs) == sorted({c.run for c in cells})
    for run in table.runs:
        cell = published.lookup(table.name, run.name, "accuracy")
        assert (run.row, run.column) == (cell.row, cell.column), run.name


def test_published_only_cells_are_not_run(published):
    table = ex.table_by_number(1)
    only = {c.run for c in published.cells_of(table.name) if not c.rerun}
    assert set(table.published_only) == only
    assert not only & {r.name for r in table.runs}


def test_table4_grid_is_T_by_teacher_length():
    table = ex.table_by_number(4)
    settings = {(r.systems[0].ts.temperature, r.systems[0].ts.teacher_segments) for r in table.runs}
    assert settings == {(t, s) for t in (1.0, 5.0, 10.0) for s in (1, 2)}
    assert all(r.systems[0].ts.point == "output" and r.systems[0].family == "spec" for r in table.runs)
    assert table.run("T5_teacher20s").systems[0].ts == ex.TSSpec(5.0, 2, "output")


def test_models_are_shared_across_tables():
    t1, t4, t5, t6 = (ex.table_by_number(n) for n in ("1", "4", "5", "6"))
    # Table 6 W/O TS = Table 1 baselines.
    assert t6.run("spec_wo_ts").systems == t1.run("spec_improved").systems
    assert t6.run("ensemble_wo_ts").systems == t1.run("ensemble_improved").systems
    # Table 5 output row = Table 4 T=5 / 20 s; Table 6 spectrogram W/ TS = Table 5 hidden row.
    assert t5.run("output").systems == t4.run("T5_teacher20s").systems
    assert t6.run("spec_w_ts").systems == t5.run("hidden").systems
    # The 10 s teacher is the one-hot baseline itself; the 20 s teacher sees 2 segments.
    assert t4.run("T1_teacher10s").systems[0].teacher == ex.BASE_SPEC
    assert t4.run("T1_teacher20s").systems[0].teacher == ex.ModelJob("spec", input_segments=2)


def test_jobs_put_teachers_first_and_dedupe():
    jobs = ex.table_by_number(4).jobs()
    assert len(jobs) == len(set(jobs)) == 2 + 6           # two teachers + six students
    for k, job in enumerate(jobs):
        if job.teacher is not None:
            assert job.teacher in jobs[:k]
    t6 = ex.table_by_number(6).jobs()
    assert set(t6) == {ex.BASE_RAW, ex.BASE_SPEC, ex.ModelJob("raw", 2), ex.ModelJob("spec", 2),
                       ex.ModelJob("raw", ts=ex.TS_BEST), ex.ModelJob("spec", ts=ex.TS_BEST)}


def test_ensembles_combine_raw_and_spec():
    for number in ("1", "6"):
        for run in ex.table_by_number(number).runs:
            if run.name.startswith("ensemble"):
                assert run.is_ensemble and {s.family for s in run.systems} == {"raw", "spec"}


def test_bad_specs_and_lookups_fail_clearly():
    with pytest.raises(ValueError, match="family"):
        ex.ModelJob("mfcc")
    with pytest.raises(ValueError, match="point"):
        ex.TSSpec(5.0, 2, "logits")
    with pytest.raises(ValueError, match="10 s"):
        ex.ModelJob("spec", input_segments=2, ts=ex.TS_BEST)
    with pytest.raises(KeyError, match="architectures"):
        ex.table_by_number(2)
    with pytest.raises(KeyError, match="paper1/table4"):
        ex.table_by_name("paper1/table9")


def test_tables_are_registered():
    from replication import registry
    for number, spec in ex.TABLES.items():
        assert registry.resolve(number, paper="paper1") == spec.name
        assert registry.build(spec.name) is spec
