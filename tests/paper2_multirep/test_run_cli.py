"""The paper-2 command line: listing, bad input, and the paper preset resolving and planning."""

from __future__ import annotations

from paper2_multirep import run


def test_list_prints_every_table(capsys):
    assert run.main(["--list"]) == 0
    out = capsys.readouterr().out
    for numeral in ("I", "II", "III", "IV", "V", "VI", "VII"):
        assert f"paper2/table{numeral} " in out


def test_unknown_table_is_a_clear_error(capsys):
    assert run.main(["--table", "9", "--dry-run"]) == 2
    assert "no table '9'" in capsys.readouterr().err


def test_bad_override_is_a_clear_error(capsys):
    assert run.main(["--table", "7", "--dry-run", "--set", "data.nope=1"]) == 2
    assert "nope" in capsys.readouterr().err


def test_paper_preset_resolves_and_plans_without_data(tmp_path, capsys):
    code = run.main(["--table", "7", "--preset", "paper", "--dry-run",
                     "--data-root", str(tmp_path / "absent"), "--results", str(tmp_path / "res")])
    assert code == 0
    out = capsys.readouterr().out
    assert "paper2/tableVII" in out and "preset paper" in out
    # Table VII: 4 independent branches + 2 distilled groups, nothing trained yet
    assert "6 distinct training jobs, 6 to train" in out
    assert out.count("[todo] independent") == 4 and out.count("[todo] cyclic") == 2
    from paper2_multirep.tables import resolve_params
    from paper2_multirep.table_backend import training_params
    passes = training_params(resolve_params("paper")).passes_per_branch()
    assert f"({passes['independent']} passes/branch)" in out
    assert f"({passes['cyclic']} passes/branch)" in out
    assert not (tmp_path / "res").exists()          # a dry run writes nothing
