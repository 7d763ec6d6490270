"""Fixtures shared by the benchmark tests: one quick run of every default section."""

from __future__ import annotations

import contextlib
import io
import json

import pytest


@pytest.fixture(scope="session")
def quick_bench(tmp_path_factory) -> tuple[dict, str]:
    """(JSON report, printed output) of `python -m replication.drivers.bench --quick` on three
    generated clips, run once for every test that reads it (the training section alone takes
    most of a minute here)."""
    from replication.drivers import bench

    tmp = tmp_path_factory.mktemp("bench")
    out, printed = tmp / "bench.json", io.StringIO()
    with contextlib.redirect_stdout(printed):
        rc = bench.main(["--quick", "--clips", "3", "--steps", "2", "--esc10", str(tmp / "absent"),
                         "--json", str(out)])
    assert rc == 0
    return json.loads(out.read_text()), printed.getvalue()
