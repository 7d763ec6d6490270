"""tests/rehearsal_cost.py: the helper both slow rehearsal tests print their cost with."""

from __future__ import annotations

import sys

from tests.rehearsal_cost import cost_block, peak_rss_mb, run_rehearsal


def test_cost_block_starts_at_the_cost_lines():
    out = "plan\ntraining\nrehearsal cost at paper scale on this CPU (x):\n  raw 1.00 s/step\n"
    assert cost_block(out) == "rehearsal cost at paper scale on this CPU (x):\n  raw 1.00 s/step\n"
    assert cost_block("plan\nno cost printed\n") == ""


def test_run_rehearsal_returns_the_code_and_stdout_and_passes_argv(capsys):
    seen = []

    def main(argv):
        seen.append(argv)
        print("records written\nrehearsal cost: not measured (--no-estimate)")
        print("prog: error: bad input", file=sys.stderr)
        return 2

    code, out = run_rehearsal("toy", main, ("--table", "V"), capsys)
    assert (code, seen) == (2, [["--table", "V"]])
    assert out == "records written\nrehearsal cost: not measured (--no-estimate)\n"
    assert "error" not in out                       # stderr is printed to the log, not returned


def test_peak_rss_is_a_plausible_size_in_mb():
    assert 10 < peak_rss_mb() < 10 ** 6             # this Python process: tens of MB at least
