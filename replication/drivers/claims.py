"""The claims driver: runs the tables the papers' claims need, pairs the arms by seed and
reports each claim with a 95 % interval, beside its negative control.

    python -m replication.drivers.claims --paper 1 --dataset demo --seeds 5 --results results/claims
    python -m replication.drivers.claims --paper all --seeds 5 --control --results results/claims
    python -m replication.drivers.claims --paper 2 --tables paper2/tableVII --seeds 3 --control --equal-budget
    python -m replication.drivers.claims --paper 2 --tables paper2/tableVII --seeds 5 --control --equal-budget \
        --demo-opt design=premises --data-root data/datasets/demo_premises --results results/claims_premises

Steps: load data/claims/*.yaml (replication/claims_data.py), keep the chosen paper's
claims (and, with --tables / --claims, only those whose arms lie in the given tables /
with the given ids); generate the demo data once; run each needed table through the
command a user types (`python -m paper1_ts.run --table 6 --preset demo ...`, `python -m
paper2_multirep.run --table VII ...`; a driver, so the papers are imported lazily here
and never by the harness core) into <results>/runs; with --control, run the same tables
again with the teacher signal permuted (a preset overlay written under
<results>/control/presets: ts.teacher_signal = permuted for paper 1,
training_overrides.cyclic.aggregate_signal = permuted for paper 2) into
<results>/control, whose job stores are links to those of <results>/runs: the switch
enters the store key of every distilled model only, so the one-hot baselines, teachers
and independent branches are trained once and shared (tests prove the keys); then
with --equal-budget, run the paper-2 tables of the claims whose arm has `variant:
equal_budget` (claims_data.py) with the independent branches given the distilled
branch's passes (overlay training_overrides.cyclic.independent_budget = passes, register
p2-epoch-accounting) into <results>/equal_budget, stores linked the same way: only the
independent jobs change key, the distilled groups are shared (tests prove it); with
--as-printed, likewise the paper-1 tables of the claims whose arm has `variant:
as_printed` with the TS students on Eq. (3) as printed (overlay ts.teacher_mode =
as_printed, register p1-temperature-form) into <results>/as_printed: only the TS students
change key. Without the option, a variant's claims are left out (said so). Then pair, test and write
<results>/claims.{md,json,png} (replication/claims_stats.py, claims_report.py), each claim
with whether its arms' training loss levelled off, read from the job stores the records
name (replication/claims_curves.py, convergence.py), and each teacher-signal row with how
closely its distilled arms fit the real and the permuted signal. Trained models come from the job
stores on a rerun.

Exit status: 0 when every step ran (whatever the verdicts); with --strict, 1 also when a
claim is not reproduced or a negative control is; 2 on bad input (one line on stderr,
`python -m replication.drivers.claims: error: ...`, docs/errors.md).
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

from replication.claims_curves import CurveError
from replication.drivers import claims_esc
from replication.claims_data import ClaimsError
from replication.claims_stats import ClaimsStatsError
from replication.published import PublishedError
from replication.records import RecordError
from shared.cli import UsageError, command
from shared.paths import checkout_root

DATASETS = ("demo", "esc10", "esc50")     # ESC-50 layout: paper 2's claims, replication/drivers/claims_esc.py
REPO = checkout_root()
BASE_PRESETS = {"paper1": REPO / "paper1_ts" / "presets" / "demo.yaml",
                "paper2": REPO / "paper2_multirep" / "presets" / "experiment_demo.yaml"}
CONTROL_OVERLAYS: dict[str, dict[str, Any]] = {
    "paper1": {"ts": {"teacher_signal": "permuted"}},                                  # register p1-teacher-signal
    "paper2": {"training_overrides": {"cyclic": {"aggregate_signal": "permuted"}}},    # register p2-aggregate-signal
}
# Arm variants (replication/claims_data.py VARIANTS): variant -> paper -> overlay of its demo preset.
VARIANT_OVERLAYS: dict[str, dict[str, dict[str, Any]]] = {
    # register p2-epoch-accounting: the independent branch trains the distilled branch's passes
    "equal_budget": {"paper2": {"training_overrides": {"cyclic": {"independent_budget": "passes"}}}},
    # register p1-temperature-form: the TS students' targets from Eq. (3) exactly as printed
    "as_printed": {"paper1": {"ts": {"teacher_mode": "as_printed"}}},
}
# The command-line flag of each variant (variant -> flag; the flag's dest is the variant's name).
VARIANT_FLAGS = {"equal_budget": "--equal-budget", "as_printed": "--as-printed"}
# Training budgets: data/claims/budgets/<name>.yaml, an overlay of each paper's demo preset
# applied to every arm (runs, controls, variants) alike; "demo" is the demo presets as they are.
BUDGET_DIR = REPO / "data" / "claims" / "budgets"
DEFAULT_BUDGET = "demo"
_BUDGET_KEYS = ("note", "paper1", "paper2")


def budget_names(budget_dir: Path = BUDGET_DIR) -> list[str]:
    """The known budgets: "demo" and one per YAML file of `budget_dir`."""
    return [DEFAULT_BUDGET] + sorted(p.stem for p in budget_dir.glob("*.yaml"))


def load_budget(name: str, budget_dir: Path = BUDGET_DIR) -> dict[str, dict[str, Any]]:
    """paper -> overlay of its demo preset for the budget `name` ({} for "demo").

    Raises:
      ValueError: unknown budget (the known ones named), or a file with a key other than
        note / paper1 / paper2 or a paper entry that is not a mapping (file and key named).
    """
    from shared.config import read_yaml
    if name == DEFAULT_BUDGET:
        return {p: {} for p in BASE_PRESETS}
    path = budget_dir / f"{name}.yaml"
    if not path.is_file():
        raise ValueError(f"unknown budget '{name}' (known: {', '.join(budget_names(budget_dir))})")
    data = read_yaml(path)
    unknown = sorted(set(data) - set(_BUDGET_KEYS))
    if unknown:
        raise ValueError(f"{path}: unknown key(s) {', '.join(unknown)} (allowed: {', '.join(_BUDGET_KEYS)})")
    out = {}
    for paper in BASE_PRESETS:
        overlay = data.get(paper) or {}
        if not isinstance(overlay, Mapping):
            raise ValueError(f"{path}: '{paper}' must be a mapping (an overlay of its demo preset)")
        out[paper] = dict(overlay)
    return out


def _runner(paper: str) -> Callable[[Sequence[str]], int]:
    # Imported here, not at module load: the harness core never imports a paper package.
    if paper == "paper1":
        from paper1_ts.run import main
    else:
        from paper2_multirep.run import main
    return main


def merge(base: Mapping[str, Any], overlay: Mapping[str, Any]) -> dict[str, Any]:
    """Deep merge of two YAML mappings (overlay wins; nested mappings merged)."""
    from shared.config import merge_mappings
    return merge_mappings(base, overlay)


def write_overlay(paper: str, out_dir: Path, variant: str | None = "permuted",
                  budget: str = DEFAULT_BUDGET, budget_overlay: Mapping[str, Any] | None = None) -> Path:
    """The demo preset of `paper`, with a budget's overlay (`budget_overlay`, named `budget`)
    and then the negative-control switch on ("permuted"), or the overlay of an arm variant
    (a key of VARIANT_OVERLAYS), or nothing more (None), as a YAML file."""
    import yaml
    from shared.config import atomic_write_text, read_yaml
    overlay = {} if variant is None else \
        CONTROL_OVERLAYS[paper] if variant == "permuted" else VARIANT_OVERLAYS[variant][paper]
    what = [f"the {budget} budget"] if budget != DEFAULT_BUDGET else []
    what += [] if variant is None else \
        ["the negative-control switch" if variant == "permuted" else f"the {variant} arm variant"]
    data = merge(merge(read_yaml(BASE_PRESETS[paper]), budget_overlay or {}), overlay)
    path = out_dir / f"{paper}_{budget}_{variant or 'arms'}.yaml"
    out_dir.mkdir(parents=True, exist_ok=True)
    atomic_write_text(path, f"# {BASE_PRESETS[paper].relative_to(REPO)} + {' + '.join(what) or 'nothing'} "
                            "(written by python -m replication.drivers.claims)\n" + yaml.safe_dump(data, sort_keys=False))
    return path


STORE_DIRS = ("paper1/_store", "paper2/_store")     # under a results root (paper*/tables.py STORE_DIR)


def share_stores(runs: Path, control: Path) -> None:
    """Makes <control>/paper*/_store links to <runs>/paper*/_store (created when missing).

    Raises:
      FileExistsError: a control store is already a real folder (an older layout): it is
        not replaced without the user removing it.
    """
    for store in STORE_DIRS:
        target, link = runs / store, control / store
        target.mkdir(parents=True, exist_ok=True)
        if link.is_symlink() and link.resolve() == target.resolve():
            continue
        if link.exists() or link.is_symlink():
            raise FileExistsError(f"{link} exists and is not a link to {target}; remove it to share "
                                  "the job store of the matched runs")
        link.parent.mkdir(parents=True, exist_ok=True)
        link.symlink_to(os.path.relpath(target.resolve(), link.parent.resolve()), target_is_directory=True)


def table_argument(table: str) -> tuple[str, str]:
    """"paper1/table6" -> ("paper1", "6"); "paper2/tableVII" -> ("paper2", "VII")."""
    paper, _, name = table.partition("/")
    if paper not in BASE_PRESETS or not name.startswith("table"):
        raise ValueError(f"claims name an unknown table '{table}'")
    return paper, name[len("table"):]


def run_tables(tables: Sequence[str], results: Path, preset: Mapping[str, str], data_root: str,
               seeds: int, echo: Callable[[str], None] = print) -> list[str]:
    """Runs each table with the given preset per paper; returns the failures (exit code 2+,
    or an exception). A checker regression (exit 1) is reported and not a failure here."""
    failures = []
    for table in tables:
        paper, number = table_argument(table)
        argv = ["--table", number, "--preset", preset[paper], "--results", str(results),
                "--data-root", data_root, "--seeds", str(seeds), "--overwrite"]
        echo(f"\n=== {table} -> {results} ({preset[paper]})")
        code = _runner(paper)(argv)
        if code == 1:
            echo(f"=== {table}: the checker flagged a cell (see above); the claims use the records anyway")
        elif code != 0:
            failures.append(f"{table} (exit {code})")
    return failures


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m replication.drivers.claims", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--paper", choices=("1", "2", "all"), default="all")
    p.add_argument("--dataset", choices=DATASETS, default="demo")
    p.add_argument("--data-root", default="data/datasets/demo",
                   help="demo data root, or the ESC-50-layout directory of --dataset esc10 / esc50")
    p.add_argument("--folds", type=int, nargs="+", default=None,
                   help="--dataset esc10 / esc50: held-out folds, paired by (fold, seed) (default 1)")
    p.add_argument("--esc-preset", default=None,
                   help="--dataset esc10 / esc50: paper 2's experiment preset of every arm (default esc10)")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                   help="--dataset esc10 / esc50: an override of that preset for every arm, as "
                        "python -m paper2_multirep.run --set takes it (e.g. the setting esc_select chose)")
    p.add_argument("--demo-opt", action="append", default=[], metavar="KEY=VALUE",
                   help="a field of the generated demo data (DemoParams), passed to `python -m replication.data "
                        "prepare demo --opt`, e.g. design=premises (register shared-demo-premises-design); "
                        "give such data its own --data-root and --results")
    p.add_argument("--seeds", type=int, default=5, help="seeds per run (default 5; >= 2 for an interval)")
    p.add_argument("--budget", default=DEFAULT_BUDGET,
                   help="training budget of every arm: demo (the demo presets as they are) or a file "
                        "name of data/claims/budgets/ without .yaml (each says what it is for in its note); "
                        f"known: {', '.join(budget_names())}")
    p.add_argument("--results", default="results/claims", help="root of runs/, control/, equal_budget/ and the report")
    p.add_argument("--control", action="store_true", help="also run the negative controls (teacher signal permuted)")
    p.add_argument("--tables", nargs="+", default=None, metavar="PAPER/TABLE",
                   help="only claims whose arms all lie in these tables, e.g. paper1/table6 paper2/tableVII")
    p.add_argument("--equal-budget", action="store_true",
                   help="also run the paper-2 independent branches with the distilled branch's passes "
                        "and report the claims whose arm has variant: equal_budget")
    p.add_argument("--as-printed", action="store_true",
                   help="also run the paper-1 TS students with Eq. (3) read as printed (ts.teacher_mode "
                        "as_printed) and report the claims whose arm has variant: as_printed")
    p.add_argument("--claims", nargs="+", default=None, metavar="ID", help="only these claim ids")
    p.add_argument("--report-only", action="store_true", help="train nothing: report from the records present")
    p.add_argument("--report-dir", default=None, help="where claims.{md,json,png} go (default: --results)")
    p.add_argument("--into", default=None, metavar="FILE",
                   help="also put the Markdown report between <!-- BEGIN SECTION --> / <!-- END SECTION --> in FILE")
    p.add_argument("--section", default="claims", help="marker name for --into (default: claims)")
    p.add_argument("--strict", action="store_true",
                   help="exit 1 when a claim is not reproduced or a negative control is")
    return p


def select_claims(claims: Sequence[Any], tables: Sequence[str] | None, ids: Sequence[str] | None,
                  variants: Sequence[str] = ()) -> list[Any]:
    """Claims filtered by table set and ids (an unknown id is a UsageError naming the known ones);
    a claim with an arm variant (e.g. equal_budget) stays only when its variant is in `variants`."""
    if ids:
        known = {c.id for c in claims}
        unknown = sorted(set(ids) - known)
        if unknown:
            raise UsageError(f"unknown claim id(s) {', '.join(unknown)} (known: {', '.join(sorted(known))})")
        claims = [c for c in claims if c.id in ids]
    if tables:
        claims = [c for c in claims if {a.table for a in c.arms} <= set(tables)]
    return [c for c in claims if all(not a.variant or a.variant in variants for a in c.arms)]


def records_in(root: Path, tables: set[str]) -> list[tuple[Any, Any]]:
    """(path, RunRecord) of the given tables found under a results root ([] when absent)."""
    from replication.records import find_records
    return [(p, r) for p, r in (find_records([root]) if root.exists() else []) if r.table in tables]


@command("python -m replication.drivers.claims", ClaimsError, ClaimsStatsError, CurveError, PublishedError, RecordError)
def main(argv: Sequence[str] | None = None) -> int:
    from replication.claims_curves import fit_index, levelling_index
    from replication.claims_data import claims_of, load_claims, tables_needed
    from replication.claims_report import write_report
    from replication.claims_stats import CONTROL, MAIN, evaluate, summary

    args = build_parser().parse_args(argv)
    paper = "all" if args.paper == "all" else f"paper{args.paper}"
    variants = [v for v in VARIANT_FLAGS if getattr(args, v)]
    if args.seeds < 1:
        raise UsageError(f"--seeds must be >= 1, got {args.seeds}")
    esc = args.dataset in claims_esc.ESC_DATASETS
    if esc:
        claims_esc.check_args(args)
    elif args.folds or args.esc_preset or args.set:
        raise UsageError("--folds, --esc-preset and --set apply to --dataset esc10 / esc50 only "
                         "(the demo's budgets are --budget)")
    every = select_claims(claims_of(load_claims(), paper), args.tables, args.claims, list(VARIANT_OVERLAYS))
    claims = select_claims(every, None, None, variants)
    if esc:
        claims = claims_esc.esc_claims(claims, claims_esc.group_runs())
    for variant in () if esc else VARIANT_OVERLAYS:       # on ESC data the variant flags are refused
        left = len(select_claims(every, None, None, [variant])) - len(select_claims(every, None, None, []))
        if left and variant not in variants:
            print(f"{left} claim(s) with an {variant.replace('_', '-')} arm left out (pass {VARIANT_FLAGS[variant]})")
    if not claims:
        raise UsageError("no claim left after --paper / --tables / --claims / --equal-budget / --as-printed")
    try:
        budget = load_budget(args.budget)
    except ValueError as err:                 # unknown budget or a malformed budget file
        raise UsageError(str(err)) from None
    tables = tables_needed(claims)
    variant_tables = {v: tables_needed(claims, v) for v in variants}
    root = Path(args.results)
    runs, control = root / MAIN, root / CONTROL
    where = f"{args.dataset} folds {' '.join(map(str, args.folds))}, as " if esc else ""
    print(f"{len(claims)} claim(s) over {len(tables)} table(s): {where}{', '.join(tables)}; "
          f"{args.seeds} seed(s); budget {args.budget}; controls {'on' if args.control else 'off'}; "
          f"equal-budget arms {'on' if args.equal_budget else 'off'}; "
          f"as-printed arms {'on' if args.as_printed else 'off'}", flush=True)
    failures: list[str] = []
    if esc and not args.report_only:
        failures += claims_esc.run_arms(args, runs, control, _runner("paper2"), share_stores)
    elif not args.report_only:
        from replication.data import main as data_main
        if data_main(["prepare", "demo", "--root", args.data_root,
                      *[a for opt in args.demo_opt for a in ("--opt", opt)]]) != 0:
            return 1
        plain = {p: "demo" for p in BASE_PRESETS} if args.budget == DEFAULT_BUDGET else \
            {p: str(write_overlay(p, runs / "presets", None, args.budget, budget[p])) for p in BASE_PRESETS}
        failures += run_tables(tables, runs, plain, args.data_root, args.seeds)
        if args.control:
            presets = {p: str(write_overlay(p, control / "presets", "permuted", args.budget, budget[p]))
                       for p in BASE_PRESETS}
            share_stores(runs, control)
            failures += run_tables(tables, control, presets, args.data_root, args.seeds)
        for variant, needed in variant_tables.items():
            presets = {p: str(write_overlay(p, root / variant / "presets", variant, args.budget, budget[p]))
                       for p in VARIANT_OVERLAYS[variant]}
            share_stores(runs, root / variant)
            failures += run_tables(needed, root / variant, presets, args.data_root, args.seeds)
    wanted = set(tables)

    def records_under(root: Path, tables: set[str]) -> list[tuple[Any, Any]]:
        return claims_esc.esc_records(root, args.dataset, args.folds) if esc else records_in(root, tables)

    records = records_under(runs, wanted)
    levelling = {MAIN: levelling_index(records, runs)}
    fits = {MAIN: fit_index(records, runs)}
    control_records = None
    if args.control:
        control_records = records_under(control, wanted)
        levelling[CONTROL] = levelling_index(control_records, control)
        fits[CONTROL] = fit_index(control_records, control)
    variant_records = {v: records_under(root / v, set(t)) for v, t in variant_tables.items()}
    for variant, recs in variant_records.items():
        levelling[variant] = levelling_index(recs, root / variant)
        fits[variant] = fit_index(recs, root / variant)
    results = evaluate(claims, records, control_records, variant_records=variant_records, levelling=levelling,
                       fits=fits)
    seeds = sorted({rec.seed for _, rec in records})
    paths = write_report(results, Path(args.report_dir or root),
                         title=f"Claims ({args.dataset} data, "
                               + (f"held-out folds {', '.join(map(str, args.folds))}, preset {args.esc_preset}"
                                  + "".join(f", {kv}" for kv in args.set) if esc else f"{args.budget} budget")
                               + ", seeds "
                               f"{', '.join(map(str, seeds)) or 'none'})")
    print(paths["markdown"].read_text())
    print(f"report: {paths['markdown']}, {paths['json']}, {paths['plot']}")
    if args.into:
        publish(paths, Path(args.into), args.section)
        print(f"report placed in {args.into} (section {args.section})")
    if failures:
        print("claims: FAILED steps: " + "; ".join(failures))
        return 1
    s = summary(results)
    if args.strict and (s["reproduced"] < s["claims"] or s["controls_failing"]
                        or (args.control and s["controls_passing"] < s["controls"])):
        print("claims: --strict: not every claim reproduced or not every control vanished")
        return 1
    return 0


def publish(paths: Mapping[str, Path], into: Path, section: str) -> None:
    """Puts the Markdown report into `into`'s marked section, the plot's link made relative
    to that file (README tables are generated, never typed)."""
    from replication.report import replace_between_markers
    text = paths["markdown"].read_text(encoding="utf-8")
    plot = os.path.relpath(paths["plot"].resolve(), into.resolve().parent)
    text = text.replace(f"]({paths['plot'].name})", f"]({plot})")
    text = text.replace("## ", "#### ", 1)           # the report's title under the README's own heading
    replace_between_markers(into, section, text)


if __name__ == "__main__":
    sys.exit(main())
