"""The claims report: Markdown table, JSON and a PNG forest plot of ClaimResults
(replication/claims_stats.py).

    paths = write_report(results, "results/claims")   # claims.md, claims.json, claims.png

Forest plot: one line per claim (paired mean difference and its 95 % interval, points),
the published difference as a marker, a zero line; each negative-control row sits right
under its claim in another colour, followed by the claim's teacher-signal row (claim minus
control per seed, replication/claims_stats.signal_contrast) in a third. A row without an interval (n < 2) shows its single
difference, or nothing when no unit was paired. A hollow point marks a row with an arm
whose training loss did not level off, or whose curve is unknown (replication/convergence.py):
a claim whose arms have not levelled off is not evidence either way.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Sequence

from replication.claims_stats import CONFIDENCE, ClaimResult, summary
from replication.convergence import MIN_WINDOW, THRESHOLD, ArmLevelling
from replication.report import markdown_table
from shared.config import atomic_write_text

CONTROL_LABEL = "negative control (teacher signal permuted)"
SIGNAL_LABEL = "teacher signal (claim minus control, same seeds)"


def _num(x: float | None, signed: bool = True) -> str:
    if x is None:
        return "-"
    return f"{x:+.2f}" if signed else f"{x:.2f}"


def _effect(r: ClaimResult) -> str:
    if r.mean is None:
        return "-"
    if r.low is None:
        return f"{_num(r.mean)} (one unit)"
    return f"{_num(r.mean)} [{_num(r.low)}, {_num(r.high)}]"


def _verdict(r: ClaimResult) -> str:
    text = r.verdict
    if r.signal:
        text += {"reproduced": " (the signal helps)", "contradicted": " (the signal hurts)"}.get(r.verdict, "")
    elif r.control:
        text += {True: " (control passes)", False: " (CONTROL FAILS)", None: ""}[r.control_passes]
    if r.missing:
        text += "; no records: " + ", ".join(r.missing)
    return text


ARM_LETTERS = "ABCDEFGH"
NOT_EVIDENCE = "A claim whose arms have not levelled off is not evidence either way."


def _arm_levelling(letter: str, a: ArmLevelling) -> str:
    state = {True: "yes", False: "no", None: "unknown"}[a.levelled]
    facts = []
    if a.worst_fall is not None:
        facts.append(f"fall {100 * a.worst_fall:+.1f} %")
    if a.not_levelled:
        facts.append(f"{a.not_levelled} of {a.models} model(s) not levelled")
    if a.worst_fall is None and a.min_epochs is not None:
        facts.append(f"too short: {a.min_epochs} epochs")
    if a.unknown:
        facts.append(f"{a.unknown} of {a.models} without a curve")
    return f"{letter} {state}" + (f" ({', '.join(facts)})" if facts else "")


def _levelling(r: ClaimResult) -> str:
    if not r.levelling:
        return "-"
    half = len(r.levelling) // 2
    def one(i: int, a: ArmLevelling) -> str:
        if i not in r.cancelled:
            return _arm_levelling(ARM_LETTERS[i], a)
        twin = ARM_LETTERS[i + half] if i < half else ARM_LETTERS[i - half]
        return f"{ARM_LETTERS[i]} cancels (same models as {twin})"
    return "; ".join(one(i, a) for i, a in enumerate(r.levelling))


def _fit(r: ClaimResult) -> str:
    """Signal row: per distilled arm, its fit to the real signal / to the permuted one."""
    parts = []
    for letter, pair in zip(ARM_LETTERS, r.fit):
        if pair:
            real, permuted = pair
            ratio = f" (x{real / permuted:.2f})" if permuted else ""
            parts.append(f"{letter} {real:.3g} / {permuted:.3g}{ratio}")
    return "; ".join(parts) or "-"


FIT_SUMMARY = ("Teacher signal fitted (teacher-signal rows): per distilled arm, its models' loss on the "
               "teacher signal when training ended (paper 1: a TS student's last-epoch distillation loss; "
               "paper 2: a distilled branch's KL to P_bar over its last cycle), with the real signal / with "
               "the permuted one, and their ratio. A student fits a signal aligned with its clips far better "
               "than another clip's (ratio well below 1); a ratio near 1 says the signal carries nothing "
               "clip-specific the student can use (e.g. a teacher that learned nothing), so that arm's "
               "accuracies cannot show the teacher's effect either way.")


def levelling_summary(results: Sequence[ClaimResult]) -> str:
    """The summary sentence on levelling ("" when the results carry none)."""
    if not any(r.levelling for r in results):
        return ""
    s = summary(results)
    return (f"Training loss levelled off (over the last quarter of training, at least {MIN_WINDOW} epochs, it "
            f"fell by less than {100 * THRESHOLD:.0f} % of its value or of its whole fall in the run; "
            f"'fall' = the smaller of the two, worst model shown) in every arm of {s['levelled']} "
            f"of {s['claims']} claims; {s['not_levelled']} claim(s) have an arm that did not level off and "
            f"{s['levelling_unknown']} an arm without a readable loss curve. {NOT_EVIDENCE}")


def markdown(results: Sequence[ClaimResult], title: str = "Claims") -> str:
    """One row per claim and per negative control, with a summary line."""
    s = summary(results)
    pct = int(round(CONFIDENCE * 100))
    with_fit = any(r.fit for r in results)
    rows = []
    for r in results:
        where = ", ".join(f"Table {p}" for p in r.printed)
        name = f"`{r.claim_id}`" + (f" {SIGNAL_LABEL}" if r.signal else f" {CONTROL_LABEL}" if r.control else "")
        statement = ("real teacher signal over a permuted one, same budget" if r.signal
                     else "effect must vanish" if r.control else r.statement)
        rows.append([name, statement, r.arms, where,
                     str(r.n), _effect(r), _num(r.published) if not r.control else "-", _verdict(r),
                     _levelling(r)] + ([_fit(r)] if with_fit else []))
    lines = [f"## {title}", "",
             f"Paired differences (points of {', '.join(sorted({r.metric for r in results})) or 'accuracy'}) "
             f"between the two arms of each claim, over the seeds (and folds) both arms ran; "
             f"mean [{pct} % t interval]. Verdict: reproduced = interval above 0 in the paper's "
             "direction; contradicted = below 0; inconclusive = contains 0; too few seeds = n < 2.", "",
             f"{s['reproduced']} of {s['claims']} claims reproduced, {s['contradicted']} contradicted, "
             f"{s['inconclusive']} inconclusive, {s['too few seeds']} with too few seeds"
             + (f"; negative controls: {s['controls_passing']} of {s['controls']} pass, "
                f"{s['controls_failing']} fail" if s["controls"] else "")
             + (f"; teacher signal over a permuted one: {s['signal_reproduced']} of {s['signals']} helps "
                f"(interval above 0), {s['signal_contradicted']} hurts, {s['signal_inconclusive']} inconclusive."
                if s["signals"] else "."), ""]
    if levelling_summary(results):
        lines += [levelling_summary(results), ""]
    if with_fit:
        lines += [FIT_SUMMARY, ""]
    lines += [markdown_table(["claim", "statement", "arms (A - B)", "printed", "n",
                              f"effect, points [{pct} % CI]", "published", "verdict",
                              "levelled off (per arm)"]
                             + (["teacher signal fitted, real / permuted (per arm)"] if with_fit else []), rows)]
    return "\n".join(lines) + "\n"


def to_json(results: Sequence[ClaimResult]) -> str:
    return json.dumps({"confidence": CONFIDENCE, "summary": summary(results),
                       "levelling": {"threshold": THRESHOLD, "min_window": MIN_WINDOW,
                                     "rule": "relative_drop < threshold or fall_share < threshold",
                                     "note": NOT_EVIDENCE},
                       "results": [r.to_dict() for r in results]}, indent=2) + "\n"


def plot_forest(results: Sequence[ClaimResult], path: str | os.PathLike, dpi: int = 120) -> Path:
    """PNG forest plot of the results (one line per claim, controls under their claim)."""
    from replication.plots import _pyplot, _save

    if not results:
        raise ValueError(f"{path}: no claim results to plot")
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(8.5, 0.9 + 0.32 * len(results)))
    labels, y = [], 0.0
    ys = []
    for r in results:
        y -= 0.6 if r.control else 1.0              # a control (and the signal row) sits right under its claim
        ys.append(y)
        labels.append(f"  signal: {r.claim_id}" if r.signal else f"  control: {r.claim_id}" if r.control
                      else r.claim_id)
        colour = "tab:green" if r.signal else "tab:grey" if r.control else "tab:blue"
        if r.low is not None:
            ax.plot([r.low, r.high], [y, y], color=colour, lw=2)
        if r.mean is not None:                      # hollow: an arm not shown to have levelled off
            ax.plot([r.mean], [y], "o", color=colour, ms=5,
                    mfc=colour if r.levelled or not r.levelling else "white")
        if not r.control:
            ax.plot([r.published], [y], "D", mfc="none", mec="tab:red", ms=6)
    ax.axvline(0.0, color="black", lw=0.8, ls="--")
    ax.set_yticks(ys)
    ax.set_yticklabels(labels, fontsize=7)
    ax.set_xlabel(f"paired difference, points (mean and {int(round(CONFIDENCE * 100))} % interval)")
    handles = [plt.Line2D([], [], color="tab:blue", marker="o", lw=2, label="claim (measured)"),
               plt.Line2D([], [], color="tab:grey", marker="o", lw=2, label=CONTROL_LABEL),
               plt.Line2D([], [], ls="none", marker="D", mfc="none", mec="tab:red", label="published difference")]
    if any(r.signal for r in results):
        handles.insert(2, plt.Line2D([], [], color="tab:green", marker="o", lw=2, label=SIGNAL_LABEL))
    if any(r.levelling for r in results):
        handles.append(plt.Line2D([], [], ls="none", marker="o", color="tab:blue", mfc="white",
                                  label="hollow: an arm's loss not levelled off (or unknown)"))
    ax.legend(handles=handles, fontsize=7, loc="lower center", bbox_to_anchor=(0.5, 1.0), ncol=2,
              frameon=False)
    ax.grid(axis="x", alpha=0.3)
    return _save(fig, path, dpi)


def write_report(results: Sequence[ClaimResult], out_dir: str | os.PathLike,
                 title: str = "Claims", stem: str = "claims") -> dict[str, Path]:
    """Writes <stem>.md, <stem>.json and <stem>.png under out_dir (atomically)."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = {"markdown": out / f"{stem}.md", "json": out / f"{stem}.json", "plot": out / f"{stem}.png"}
    atomic_write_text(paths["markdown"], markdown(results, title) + f"\n![forest plot]({stem}.png)\n")
    atomic_write_text(paths["json"], to_json(results))
    plot_forest(results, paths["plot"])
    return paths


__all__ = ["levelling_summary", "markdown", "plot_forest", "to_json", "write_report"]
