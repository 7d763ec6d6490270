"""Timing in rounds for the benchmark sections that report a spread (frontend_floor, inference).

On a shared host one slow spell can fall on one measurement and not on another. Here
the timed functions take turns inside every round, each round keeps its own time per
call (wall clock and this process's CPU time), and a section reports the median over
the rounds with the smallest and largest round, so the spread of a busy host is shown
rather than hidden behind a single best time.

    times = timed_rounds({"kit": kit_fn, "bound": bound_fn}, rounds=7, calls=len(clips))
    spread(times["kit"]["wall_ms"])              # {"median": .., "min": .., "max": ..}
    spread(ratios(times, "kit", "bound"))        # per-round kit / bound
"""

from __future__ import annotations

import os
import time
from typing import Callable, Sequence

import numpy as np


def timed_rounds(fns: dict[str, Callable[[], None]], rounds: int, calls: int = 1) -> dict[str, dict]:
    """{name: {"wall_ms": [per round], "cpu_ms": [per round]}}: milliseconds per call.

    Args:
      fns: each runs `calls` calls (e.g. one per clip) when invoked once.
      rounds: number of rounds; inside a round every fn runs once, in the dict's order.
      calls: how many calls one invocation makes (the times are divided by it).
    Raises:
      ValueError: rounds or calls below 1.
    """
    if rounds < 1 or calls < 1:
        raise ValueError(f"timed_rounds needs rounds >= 1 and calls >= 1, got {rounds}, {calls}")
    out = {name: {"wall_ms": [], "cpu_ms": []} for name in fns}
    for _ in range(rounds):
        for name, fn in fns.items():
            wall, cpu = time.perf_counter(), time.process_time()
            fn()
            out[name]["cpu_ms"].append((time.process_time() - cpu) / calls * 1e3)
            out[name]["wall_ms"].append((time.perf_counter() - wall) / calls * 1e3)
    return out


def ratios(times: dict[str, dict], top: str, bottom: str, clock: str = "wall_ms") -> list[float]:
    """Per-round time of `top` over time of `bottom` (the same round, so the same host load)."""
    return [a / b for a, b in zip(times[top][clock], times[bottom][clock])]


def spread(values: Sequence[float]) -> dict[str, float]:
    """{"median", "min", "max"} of per-round values."""
    arr = np.asarray(values, dtype=np.float64)
    if arr.size == 0:
        raise ValueError("spread of no values")
    return {"median": float(np.median(arr)), "min": float(arr.min()), "max": float(arr.max())}


def host_load() -> dict:
    """Load average and this process's niceness: how busy the host was (report beside the times)."""
    return {"loadavg": [round(x, 2) for x in os.getloadavg()], "nice": os.nice(0),
            "cpus": os.cpu_count()}


def saved_section(report: dict, key: str, name: str) -> dict:
    """Section `key` of a saved benchmark JSON (`name`: its path, for the message), for the
    renderers of docs/scale.md. ValueError if the JSON has no such section."""
    sec = report.get("sections", {}).get(key)
    if not sec:
        raise ValueError(f"{name}: no {key} section (run the benchmark with --section {key})")
    return sec
