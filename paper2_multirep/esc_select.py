"""Choose an ESC-50-layout preset's settings on validation folds, never on the test folds.

    python -m paper2_multirep.esc_select --dataset esc10 --data-root ../shared/data/esc10 \
        --candidates data/esc/esc10_candidates.yaml --folds 1 2 --seeds 3 --results results/esc10_select

Each candidate of the YAML file (a name and overrides of the base preset, as `--set`
would give them) runs `python -m paper2_multirep.run --dataset ... --validate` for the
given held-out folds (paper2_multirep/esc.py: trained on the three folds other than the
held-out fold k and its validation fold k mod 5 + 1, scored on the validation fold; fold k
never read) under <results>/<candidate>/. The candidate whose independent branches score
best on validation (mean of the independent rows' accuracy: the baselines the claims
compare against, so the setting is not chosen for the distilled arm) is chosen, and the one
command that runs it on the held-out folds is printed. <results>/selection.{md,json} keep
every candidate's validation table. A candidate whose table is already there for the same
folds and seeds is read, not rerun (an interrupted selection resumes).

Candidates file (YAML):
    note: why these candidates            # required, one line or more
    preset: esc10                          # the base experiment preset
    candidates:
      preset_as_is: {}
      cycles_10: {training_overrides: {optim: {epochs: 10}}}

Exit status 0 when every candidate ran; 2 on bad input (one line on stderr naming the file).
"""

from __future__ import annotations

import argparse
import json
import shlex
import sys
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

from shared.cli import UsageError, command
from shared.config import atomic_write_text

PROG = "python -m paper2_multirep.esc_select"
SELECT_BY = "independent"          # rows whose label ends with this word decide the choice
_KEYS = ("note", "preset", "candidates")


def load_candidates(path: str | Path) -> tuple[str, dict[str, dict]]:
    """(base preset, {name: overrides}) from a candidates file; UsageError naming the file."""
    import yaml
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UsageError(f"{path}: candidates file not found") from None
    except yaml.YAMLError as err:
        raise UsageError(f"{path}: not valid YAML ({err})") from None
    if not isinstance(data, dict) or set(data) != set(_KEYS):
        keys = sorted(data) if isinstance(data, dict) else type(data).__name__
        raise UsageError(f"{path}: expected exactly the keys {', '.join(_KEYS)}, got {keys}")
    if not isinstance(data["preset"], str) or not data["preset"]:
        raise UsageError(f"{path}: preset must be a preset name or YAML path")
    candidates = data["candidates"]
    if not isinstance(candidates, dict) or not candidates:
        raise UsageError(f"{path}: candidates must be a non-empty mapping name -> overrides")
    for name, overrides in candidates.items():
        if not isinstance(name, str) or not name.replace("_", "").replace("-", "").isalnum():
            raise UsageError(f"{path}: candidate name {name!r} must be letters, digits, '_' or '-'")
        if not isinstance(overrides, dict):
            raise UsageError(f"{path}: candidate {name}: overrides must be a mapping, got {overrides!r}")
    return data["preset"], dict(candidates)


def dotted(overrides: Mapping[str, Any], prefix: str = "") -> list[str]:
    """{"a": {"b": 1}} -> ["a.b=1"] (the `--set` items of a candidate)."""
    out: list[str] = []
    for key, value in overrides.items():
        if isinstance(value, Mapping):
            out.extend(dotted(value, f"{prefix}{key}."))
        else:
            text = value if isinstance(value, str) else json.dumps(value, separators=(",", ":"))
            out.append(f"{prefix}{key}={text}")
    return out


def score(summary: Mapping) -> float:
    """Mean validation accuracy of the independent rows of an esc.run_esc summary."""
    values = [row["accuracy"]["mean"] for label, row in summary["rows"].items()
              if label.endswith(SELECT_BY)]
    if not values:
        raise ValueError(f"summary of {summary.get('dataset')}: no '{SELECT_BY}' row")
    return sum(values) / len(values)


def _saved(path: Path, folds: Sequence[int], seeds: int) -> dict | None:
    try:
        summary = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return summary if summary.get("folds") == list(folds) and summary.get("seeds") == seeds else None


def held_out_command(dataset: str, preset: str, data_root: str, folds: Sequence[int], seeds: int,
                     overrides: Mapping[str, Any]) -> str:
    sets = "".join(f" --set {shlex.quote(item)}" for item in dotted(overrides))
    return (f"python -m paper2_multirep.run --dataset {dataset} --preset {preset} --data-root {shlex.quote(data_root)} "
            f"--folds {' '.join(map(str, folds))} --seeds {seeds}{sets}")


def render(selection: Mapping) -> str:
    """Markdown: one row per candidate (validation accuracy per row label), the choice marked."""
    from replication.report import markdown_table
    labels = list(next(iter(selection["candidates"].values()))["rows"])
    rows = [[name + (" (chosen)" if name == selection["chosen"] else ""),
             " ".join(dotted(entry["overrides"])) or "-",
             *(f"{100 * entry['rows'][label]['accuracy']['mean']:.2f}" for label in labels),
             f"{100 * entry['score']:.2f}"] for name, entry in selection["candidates"].items()]
    lines = [f"ESC settings chosen on VALIDATION folds {selection['validation_folds']} (held-out folds "
             f"{selection['folds']} unread), {selection['seeds']} seeds, base preset {selection['preset']}; "
             f"choice = best mean accuracy of the independent rows.", "",
             markdown_table(["candidate", "overrides", *labels, "score"], rows), "",
             f"Held-out run of the chosen settings: `{selection['command']}`"]
    return "\n".join(lines) + "\n"


def select(candidates: Mapping[str, dict], *, preset: str, dataset: str, data_root: str, folds: Sequence[int],
           seeds: int, results: Path, run: Callable[..., dict] | None = None, log=print) -> dict:
    """Runs (or reads) every candidate on validation folds and returns the selection."""
    from paper2_multirep import esc
    if run is None:
        from paper2_multirep import tables

        def run(name: str, overrides: dict, out: Path) -> dict:
            params = tables.resolve_params(preset, overrides)
            return esc.run_esc(params, dataset=dataset, data_root=data_root, folds=folds, seeds=seeds,
                               results_root=str(results / name), out_dir=str(out), validate=True,
                               command=held_out_command(dataset, preset, data_root, folds, seeds, overrides)
                               + " --validate", log=log)
    entries: dict[str, dict] = {}
    for i, (name, overrides) in enumerate(candidates.items(), 1):
        out = results / name / f"{dataset}{esc.VALIDATE_SUFFIX}"
        summary = _saved(out / "table.json", folds, seeds)
        log(f"[{i}/{len(candidates)}] candidate {name}: " + ("validation table found, read" if summary else "training"))
        if summary is None:
            summary = run(name, dict(overrides), out)
        entries[name] = {"overrides": overrides, "rows": summary["rows"], "score": score(summary)}
    chosen = max(entries, key=lambda n: entries[n]["score"])        # first of equal scores
    return {"dataset": dataset, "preset": preset, "folds": list(folds), "seeds": seeds,
            "validation_folds": [esc.VALIDATION_FOLD[f] for f in folds], "selected_by": f"mean accuracy of the "
            f"'{SELECT_BY}' rows on validation", "candidates": entries, "chosen": chosen,
            "command": held_out_command(dataset, preset, data_root, folds, seeds, candidates[chosen])}


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog=PROG, description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--dataset", choices=("esc50", "esc10"), default="esc10")
    p.add_argument("--data-root", required=True, help="ESC-50-layout directory")
    p.add_argument("--candidates", required=True, help="candidates YAML (see above)")
    p.add_argument("--folds", type=int, nargs="+", default=[1, 2], help="held-out folds (default 1 2)")
    p.add_argument("--seeds", type=int, default=3)
    p.add_argument("--results", default="results/esc_select")
    return p


@command(PROG)
def main(argv: Sequence[str] | None = None) -> int:
    from paper2_multirep.esc import ESC_FOLDS
    args = build_parser().parse_args(argv)
    if not Path(args.data_root).is_dir():
        raise UsageError(f"--data-root {args.data_root}: data root not found")
    bad = [f for f in args.folds if f not in ESC_FOLDS]
    if bad or len(set(args.folds)) != len(args.folds):
        raise UsageError(f"--folds {' '.join(map(str, args.folds))}: distinct ESC-50 folds 1..5")
    if args.seeds < 1:
        raise UsageError(f"--seeds must be >= 1, got {args.seeds}")
    preset, candidates = load_candidates(args.candidates)
    from paper2_multirep import tables
    from shared.config import ConfigError
    for name, overrides in candidates.items():       # every candidate's settings, before any trains
        try:
            tables.resolve_params(preset, overrides)
        except ConfigError as err:
            raise UsageError(f"{args.candidates}: candidate {name}: {err}") from None
    results = Path(args.results)
    selection = select(candidates, preset=preset, dataset=args.dataset, data_root=args.data_root,
                       folds=args.folds, seeds=args.seeds, results=results)
    text = render(selection)
    atomic_write_text(results / "selection.json", json.dumps(selection, indent=2) + "\n")
    atomic_write_text(results / "selection.md", text)
    print(text)
    print(f"wrote {results / 'selection.md'} and {results / 'selection.json'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
