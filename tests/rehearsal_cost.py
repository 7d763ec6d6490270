"""Run a rehearsal command in-process and show what it cost (not a test module).

Imported as `tests.rehearsal_cost` by the slow rehearsal tests of both papers
(tests/paper1_ts/test_rehearsal.py, tests/paper2_multirep/test_rehearsal.py): the wall
time, the peak RSS of the test process and the command's own "rehearsal cost" lines go
to the test log, outside pytest's capture, whatever the verdict. Nothing here judges
speed: the numbers are printed, never asserted.
"""

from __future__ import annotations

import resource
import time
from typing import Callable, Sequence

from replication.rehearsal import cost_block


def peak_rss_mb() -> float:
    """Peak resident memory of this process so far, in MB (Linux: ru_maxrss is in KB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run_rehearsal(label: str, main: Callable[[Sequence[str]], int], argv: Sequence[str],
                  capsys) -> tuple[int, str]:
    """Runs `main(argv)`, prints "<label> rehearsal: <s> s, peak RSS <MB> MB, exit <code>",
    the cost block and (exit code not 0) the command's stderr past pytest's capture, and
    returns (exit code, captured stdout). The stderr is printed because a command's
    one-line error (`<prog>: error: ...`, exit 2) goes there, not to stdout."""
    start = time.time()
    code = main(list(argv))
    captured = capsys.readouterr()
    seconds = time.time() - start
    with capsys.disabled():              # the measured cost, shown in the test log
        print(f"\n{label} rehearsal: {seconds:.0f} s, peak RSS {peak_rss_mb():.0f} MB, exit {code}")
        print(cost_block(captured.out))
        if code != 0:
            print(f"stderr of the command:\n{captured.err}")
    return code, captured.out
