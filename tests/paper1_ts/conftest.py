"""Fixtures shared by paper 1's tests: one tiny demo Table 1 run for every test that reads it."""

from __future__ import annotations

import contextlib
import io

import pytest


@pytest.fixture(scope="session")
def tiny_table1(tmp_path_factory):
    """(results root, exit code, printed output) of `python -m paper1_ts.run --table 1 --preset
    demo` at the TINY size of tests/paper1_ts/test_tables.py, run in-process once (most of a
    minute here): test_tables.py checks the run, test_predict.py uses its store."""
    from paper1_ts import commands
    from paper1_ts.run import build_parser
    from tests.paper1_ts.test_tables import TINY

    results = tmp_path_factory.mktemp("tiny_table1")
    args = build_parser().parse_args(["--table", "1", "--preset", "demo", "--results", str(results)])
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        code = commands.run_result_table(args, extra=TINY)
    return results, code, printed.getvalue()
