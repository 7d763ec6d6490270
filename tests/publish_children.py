"""Child processes of the publishing tests (tests/shared/test_publish.py,
tests/replication/test_records_publish.py), started with multiprocessing "spawn".

A racing child waits on a shared Barrier right before its final rename
(shared.publish.publish), so both children have finished staging and then publish at
the same moment: the race is forced on every run, not left to the scheduler.
"""

from __future__ import annotations

import os
import signal
from pathlib import Path

WAIT_S = 300          # a barrier or event not reached by then means a hung sibling


def _publish_after(barrier) -> None:
    """Makes every publish of this process wait for the sibling first."""
    from shared import publish as publish_mod
    real = publish_mod.publish

    def publish(*args, **kwargs):
        barrier.wait(WAIT_S)
        return real(*args, **kwargs)

    publish_mod.publish = publish


def race_directory(target: str, text: str, barrier, results) -> None:
    """Publishes `target` holding data.txt = text and done; reports "won" or the error."""
    from shared.publish import atomic_directory
    _publish_after(barrier)
    try:
        with atomic_directory(Path(target)) as staging:
            (staging / "data.txt").write_text(text)
            (staging / "done").write_text("")
        results.put((text, "won", ""))
    except FileExistsError as err:
        results.put((text, type(err).__name__, str(err)))


def race_records(root: str, writer: str, rounds: int, barrier, results) -> None:
    """Writes the records race0..race<rounds-1> (seed 0) with results and config naming
    `writer`; reports per round "won" or the error."""
    from replication.records import RunRecord, write_record
    _publish_after(barrier)
    for r in range(rounds):
        record = RunRecord(table="paper1/table4", run=f"race{r}", preset="demo", seed=0,
                           metrics={"accuracy": 0.5}, extra={"writer": writer}, host={"test": True})
        try:
            write_record(record, root, config={"writer": writer, "round": r})
            results.put((writer, r, "won", ""))
        except FileExistsError as err:
            results.put((writer, r, type(err).__name__, str(err)))


def killed_inside_block(target: str, prefix: str) -> None:
    """Stages a file, then dies by SIGKILL before publishing (no clean-up can run)."""
    from shared.publish import atomic_directory
    with atomic_directory(Path(target), prefix=prefix) as staging:
        (staging / "half.txt").write_text("half")
        os.kill(os.getpid(), signal.SIGKILL)


def held_inside_block(target: str, prefix: str, entered, release) -> None:
    """Stages a file, says so, waits for `release`, then publishes normally."""
    from shared.publish import atomic_directory
    with atomic_directory(Path(target), prefix=prefix) as staging:
        (staging / "data.txt").write_text("live")
        entered.set()
        release.wait(WAIT_S)


def generate_demo(root: str, changes: dict) -> None:
    """Generates a demo data set (another process publishing the root)."""
    from shared.datasets import demo
    demo.generate(Path(root), demo.with_params(**changes), progress=False)
