"""The command line both papers share (replication/runner_cli.py): one table lookup, one
parser builder for the common options, --set overrides; both run.py use them."""

from __future__ import annotations

import pytest

from replication.registry import UnknownNameError, table_number
from replication.runner_cli import explicit_keys, parse_overrides, table_parser
from shared.cli import UsageError

P1 = ["1", "2", "3", "4", "5", "6"]
P2 = ["I", "II", "III", "IV", "V", "VI", "VII"]


@pytest.mark.parametrize("spec,known,expected", [
    ("7", P2, "VII"), ("VII", P2, "VII"), ("vii", P2, "VII"), ("table7", P2, "VII"),
    ("tableVII", P2, "VII"), ("paper2/tableIV", P2, "IV"), (" 1 ", P2, "I"),
    ("4", P1, "4"), ("IV", P1, "4"), ("table4", P1, "4"), (6, P1, "6")])
def test_one_lookup_takes_arabic_roman_and_any_case(spec, known, expected):
    assert table_number(spec, known, "paper x") == expected


def test_unknown_tables_give_the_same_text_for_both_papers():
    with pytest.raises(UnknownNameError) as one:
        table_number("9", P1, "paper 1")
    with pytest.raises(UnknownNameError) as two:
        table_number("9", P2, "paper 2")
    assert str(one.value) == "paper 1 has no table '9' (known: 1, 2, 3, 4, 5, 6)"
    assert str(two.value) == "paper 2 has no table '9' (known: I, II, III, IV, V, VI, VII)"
    with pytest.raises(UnknownNameError, match=r"\(known: 1, 4\); tables 2"):
        table_number("2", ["1", "4"], "paper 1", "; tables 2 and 3 are architectures")


def test_papers_lookups_are_the_shared_one():
    from paper1_ts.experiments import table_by_number as p1
    from paper2_multirep.experiments import table_by_number as p2
    assert p1("IV").name == "paper1/table4" and p2("vii").name == "paper2/tableVII"
    with pytest.raises(KeyError, match=r"^paper 1 has no table '8' \(known: 1, 4, 5, 6\); tables 2 and 3"):
        p1("8")
    with pytest.raises(KeyError, match=r"^paper 2 has no table '8' \(known: I, II, III"):
        p2("8")


def test_overrides_nest_and_parse_yaml_scalars():
    assert parse_overrides(["a.b=1", "a.c=x", "d=true", "e=[1, 2]"]) == \
        {"a": {"b": 1, "c": "x"}, "d": True, "e": [1, 2]}
    assert explicit_keys({"a": {"b": 1, "c": {"d": 2}}, "e": 3}) == ["a.b", "a.c.d", "e"]
    for bad in ("seeds", "=1", "a..b=1"):
        with pytest.raises(UsageError, match="--set expects KEY=VALUE"):
            parse_overrides([bad])
    with pytest.raises(UsageError, match="'a' was given a value before"):
        parse_overrides(["a=1", "a.b=2"])


def test_parser_has_the_common_options_and_one_target():
    parser, targets = table_parser("prog", "d", figures=("3",), preset_help="p", default_preset="paper")
    targets.add_argument("--list", action="store_true")
    args = parser.parse_args(["--table", "vii", "--seeds", "2", "--data-root", "D", "--results", "R",
                              "--overwrite", "--dry-run", "--no-estimate", "--set", "a=1", "--opt", "b=2"])
    assert (args.table, args.seeds, args.data_root, args.results, args.preset) == ("vii", 2, "D", "R", "paper")
    assert args.overwrite and args.dry_run and args.no_estimate and args.set == ["a=1", "b=2"]
    for argv in ([], ["--table", "1", "--figure", "3"], ["--table", "1", "--list"], ["--figure", "9"]):
        with pytest.raises(SystemExit):
            parser.parse_args(argv)


@pytest.mark.parametrize("module", ["paper1_ts.run", "paper2_multirep.run"])
def test_both_commands_share_the_options(module):
    import importlib
    parser = importlib.import_module(module).build_parser()
    options = {s for action in parser._actions for s in action.option_strings}
    assert {"--table", "--figure", "--preset", "--seeds", "--data-root", "--results", "--overwrite",
            "--dry-run", "--no-estimate", "--set", "--opt"} <= options


def test_both_commands_refuse_an_unknown_table_in_one_line(capsys):
    from paper1_ts import run as run1
    from paper2_multirep import run as run2
    assert run1.main(["--table", "IX", "--dry-run"]) == 2
    assert run2.main(["--table", "IX", "--dry-run"]) == 2
    err = capsys.readouterr().err.splitlines()
    assert err == ["python -m paper1_ts.run: error: paper 1 has no table 'IX' (known: 1, 2, 3, 4, 5, 6)",
                   "python -m paper2_multirep.run: error: paper 2 has no table 'IX' "
                   "(known: I, II, III, IV, V, VI, VII)"]


def test_paper1_set_reaches_the_params_and_counts_as_explicit(tmp_path):
    from paper1_ts import commands, tables
    from paper1_ts.experiments import table_by_number
    from paper1_ts.run import build_parser
    from shared.config import ConfigError
    args = build_parser().parse_args(["--table", "4", "--preset", "demo", "--results", str(tmp_path),
                                      "--set", "train.gru_epochs=7", "--set", "ts.temperature=3"])
    params = commands.params_from_args(args)
    assert params.train.gru_epochs == 7 and params.ts.temperature == 3.0
    with pytest.raises(ConfigError, match="ts.temperature=3.0 was given explicitly"):
        tables.make_plan(table_by_number(4), params, "demo",
                         explicit=explicit_keys(parse_overrides(args.set)))
    bad = build_parser().parse_args(["--table", "4", "--preset", "demo", "--set", "train.nope=1"])
    with pytest.raises(ConfigError, match="unknown key 'nope' in --set"):
        commands.params_from_args(bad)
