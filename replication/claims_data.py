"""The papers' main claims as data: loader and validator of data/claims/*.yaml.

A claim says that one arm of a paper's tables beats another. An arm is a run the kit's
tables already define, named by (table registry name, run name) exactly as in
data/published/*.yaml; "best_of" names several runs of one table whose best (per seed)
is the arm. Two kinds:

    difference        effect = higher - lower                         (paper: effect > 0)
    gain_difference   effect = (larger_gain.higher - larger_gain.lower)
                             - (smaller_gain.higher - smaller_gain.lower)  (paper: effect > 0)

Each claim becomes a signed sum of arms (`Claim.terms`), so one code path computes the
published effect (from the published cells, at load time, never typed) and the measured
one (replication/claims_stats.py). A file:

    schema: 1
    paper: paper1
    claims:
      - id: p1-ts-spec                       # unique over all files
        statement: ...                       # in our words
        kind: difference
        metric: accuracy                     # accuracy | map_at_3
        higher: {table: paper1/table6, run: spec_w_ts}
        lower: {table: paper1/table6, run: spec_wo_ts}
        control: true                        # also run with the teacher signal permuted
        note: ...                            # optional

An arm may add a `variant` (VARIANTS below): its records come from runs made with one
switch flipped, under <results>/<variant>, instead of the faithful runs, and its published
value is the same printed cell.
- `equal_budget` (paper 2): the independent branches given the distilled branch's passes
  (register p2-epoch-accounting, `python -m replication.drivers.claims --equal-budget`); the
  paper compared with Q-epoch baselines.
- `as_printed` (paper 1): the TS students trained on Eq. (3) exactly as printed (register
  p1-temperature-form, `--as-printed`); the paper's cells come from one reading, the kit's
  default is Hinton's, and this arm puts the other beside it.
A claim with a variant arm has no negative control (control: false): the faithful claim's
control already tests the wiring.

A missing or unknown key, an unknown table or run, a published-only run, a published
effect against the claimed direction or a duplicate id is a ClaimsError naming the file
and the key. Nothing here imports a paper package.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence

from replication.published import METRICS, Published, PublishedError, load_published, load_yaml_strict, repo_root

KINDS = ("difference", "gain_difference")
PAPERS = ("paper1", "paper2")
_TOP_KEYS = ("schema", "paper", "claims")
_COMMON_KEYS = ("id", "statement", "kind", "metric", "control")
_OPTIONAL_KEYS = ("note",)
_KIND_KEYS = {"difference": ("higher", "lower"), "gain_difference": ("larger_gain", "smaller_gain")}
_ID = re.compile(r"^[a-z0-9][a-z0-9_.-]*$")
# Arm variants: name -> (papers that have it, what it means). The name is also the folder of
# the results root its records are read from (replication/drivers/claims.py).
VARIANTS = {"equal_budget": (("paper2",), "independent branches trained for the distilled branch's passes "
                                          "(training_overrides.cyclic.independent_budget = passes)"),
            "as_printed": (("paper1",), "TS students trained on Eq. (3) read as printed, softmax(softmax(z) / T) "
                                        "(ts.teacher_mode = as_printed)")}


class ClaimsError(ValueError):
    """A claims file or entry does not fit the schema or the published tables."""


def default_claims_dir() -> Path:
    return repo_root() / "data" / "claims"


@dataclass(frozen=True)
class Arm:
    """One side of a claim: a run of a table, or the best (per seed) of several runs."""
    table: str                     # registry name, "paper1/table6"
    runs: tuple[str, ...]          # one run, or >= 2 for "best_of"
    variant: str = ""              # "" = the faithful runs; else a key of VARIANTS

    @property
    def best_of(self) -> bool:
        return len(self.runs) > 1

    @property
    def label(self) -> str:
        name = self.runs[0] if not self.best_of else "best of (" + ", ".join(self.runs) + ")"
        return f"{self.table} {name}" + (f" [{self.variant.replace('_', ' ')}]" if self.variant else "")


@dataclass(frozen=True)
class Claim:
    """One claim of a paper, with its published effect computed from the published cells."""
    id: str
    paper: str                           # "paper1" | "paper2"
    statement: str
    kind: str                            # one of KINDS
    metric: str                          # one of replication.published.METRICS
    terms: tuple[tuple[int, Arm], ...]   # effect = sum(sign * value(arm)); paper direction: > 0
    control: bool                        # a negative-control version is run beside it
    published: float                     # the effect in the published cells, percent points
    printed: tuple[str, ...]             # printed tables the arms come from, e.g. ("6",)
    note: str = ""
    source: str = ""

    @property
    def arms(self) -> tuple[Arm, ...]:
        return tuple(arm for _, arm in self.terms)

    def arm_text(self) -> str:
        """"A - B" or "(A - B) - (C - D)" with arm labels."""
        labels = [arm.label for _, arm in self.terms]
        if self.kind == "difference":
            return f"{labels[0]} - {labels[1]}"
        return f"({labels[0]} - {labels[1]}) - ({labels[2]} - {labels[3]})"


def _where(path: Path, index: int, raw: Any) -> str:
    label = f"{path}: claims[{index}]"
    if isinstance(raw, Mapping) and isinstance(raw.get("id"), str):
        label += f" (id '{raw['id']}')"
    return label


def _keys(where: str, raw: Any, required: Sequence[str], optional: Sequence[str] = ()) -> None:
    if not isinstance(raw, Mapping):
        raise ClaimsError(f"{where}: expected a mapping with keys {', '.join(required)}, got {type(raw).__name__}")
    missing = [k for k in required if k not in raw]
    if missing:
        raise ClaimsError(f"{where}: missing key(s) {', '.join(missing)}")
    unknown = sorted(set(map(str, raw)) - set(required) - set(optional))
    if unknown:
        raise ClaimsError(f"{where}: unknown key(s) {', '.join(unknown)} "
                          f"(allowed: {', '.join((*required, *optional))})")


def _arm(where: str, raw: Any, paper: str, published: Published, metric: str) -> tuple[Arm, float]:
    """An arm and its published value (the best of its runs' cells)."""
    if not isinstance(raw, Mapping):
        raise ClaimsError(f"{where}: an arm is {{table, run}} or {{table, best_of: [runs]}}, got {raw!r}")
    run_key = "best_of" if "best_of" in raw else "run"
    _keys(where, raw, ("table", run_key), ("variant",))
    variant = raw.get("variant", "")
    if "variant" in raw:
        if variant not in VARIANTS:
            raise ClaimsError(f"{where}.variant: {variant!r} unknown (choose from {', '.join(VARIANTS)})")
        if paper not in VARIANTS[variant][0]:
            raise ClaimsError(f"{where}.variant: '{variant}' exists for {', '.join(VARIANTS[variant][0])} "
                              f"only, not {paper}")
    table = raw["table"]
    if not isinstance(table, str) or not table.startswith(paper + "/"):
        raise ClaimsError(f"{where}.table: {table!r} is not a table of {paper}")
    if table not in published.tables:
        raise ClaimsError(f"{where}.table: unknown table '{table}' "
                          f"(known: {', '.join(t for t in published.table_names() if t.startswith(paper))})")
    runs = raw[run_key] if run_key == "best_of" else [raw[run_key]]
    if not isinstance(runs, list) or not runs or (run_key == "best_of" and len(runs) < 2) \
            or not all(isinstance(r, str) for r in runs) or len(set(runs)) != len(runs):
        raise ClaimsError(f"{where}.{run_key}: expected {'a list of >= 2 distinct run names' if run_key == 'best_of' else 'a run name'}, got {raw[run_key]!r}")
    values = []
    for run in runs:
        try:
            cell = published.lookup(table, run, metric)
        except PublishedError as err:
            raise ClaimsError(f"{where}: {err}") from None
        if not cell.rerun:
            raise ClaimsError(f"{where}: '{table}' run '{run}' is published only (the kit does not run it)")
        values.append(cell.value)
    return Arm(table, tuple(runs), variant), max(values)


def _claim(path: Path, index: int, raw: Any, paper: str, published: Published) -> Claim:
    where = _where(path, index, raw)
    kind = raw.get("kind") if isinstance(raw, Mapping) else None
    if kind not in KINDS:
        _keys(where, raw, _COMMON_KEYS, _OPTIONAL_KEYS + ("higher", "lower", "larger_gain", "smaller_gain"))
        raise ClaimsError(f"{where}.kind: {kind!r} unknown (choose from {', '.join(KINDS)})")
    _keys(where, raw, _COMMON_KEYS + _KIND_KEYS[kind], _OPTIONAL_KEYS)
    for key in ("id", "statement"):
        if not isinstance(raw[key], str) or not raw[key].strip():
            raise ClaimsError(f"{where}.{key}: must be a non-empty string, got {raw[key]!r}")
    if not _ID.match(raw["id"]):
        raise ClaimsError(f"{where}.id: lower-case letters, digits, '-', '_' or '.' only")
    metric = raw["metric"]
    if metric not in METRICS:
        raise ClaimsError(f"{where}.metric: {metric!r} unknown (choose from {', '.join(METRICS)})")
    if not isinstance(raw["control"], bool):
        raise ClaimsError(f"{where}.control: must be true or false, got {raw['control']!r}")
    if "note" in raw and not isinstance(raw["note"], str):
        raise ClaimsError(f"{where}.note: must be a string")
    if kind == "difference":
        pairs = [("higher", 1, raw["higher"]), ("lower", -1, raw["lower"])]
    else:
        pairs = []
        for key, sign in (("larger_gain", 1), ("smaller_gain", -1)):
            _keys(f"{where}.{key}", raw[key], ("higher", "lower"))
            pairs += [(f"{key}.higher", sign, raw[key]["higher"]), (f"{key}.lower", -sign, raw[key]["lower"])]
    terms, effect = [], 0.0
    for key, sign, arm_raw in pairs:
        arm, value = _arm(f"{where}.{key}", arm_raw, paper, published, metric)
        terms.append((sign, arm))
        effect += sign * value
    if raw["control"] and any(arm.variant for _, arm in terms):
        raise ClaimsError(f"{where}.control: a claim with a variant arm has no negative control "
                          "(set control: false; the faithful claim's control tests the wiring)")
    if len({arm for _, arm in terms}) != len(terms):
        raise ClaimsError(f"{where}: an arm appears twice (the effect would not depend on it)")
    effect = round(effect, 6)
    if effect <= 0:
        raise ClaimsError(f"{where}: the published cells give {effect:+.2f} points, against the claimed "
                          "direction; a claim states what the paper's numbers show")
    printed = tuple(dict.fromkeys(published.table(arm.table).printed for _, arm in terms))
    return Claim(id=raw["id"], paper=paper, statement=raw["statement"].strip(), kind=kind, metric=metric,
                 terms=tuple(terms), control=raw["control"], published=effect, printed=printed,
                 note=str(raw.get("note", "")).strip(), source=str(path))


def load_claims_file(path: str | os.PathLike, published: Published | None = None) -> list[Claim]:
    """The claims of one file, validated against the published tables."""
    path = Path(path)
    try:
        data = load_yaml_strict(path)
    except PublishedError as err:
        raise ClaimsError(str(err)) from None
    _keys(str(path), data, _TOP_KEYS)
    if data["schema"] != 1:
        raise ClaimsError(f"{path}: schema: {data['schema']!r} unknown (this kit reads schema 1)")
    if data["paper"] not in PAPERS:
        raise ClaimsError(f"{path}: paper: {data['paper']!r} unknown (choose from {', '.join(PAPERS)})")
    if not isinstance(data["claims"], list) or not data["claims"]:
        raise ClaimsError(f"{path}: claims: expected a non-empty list")
    published = published or load_published()
    return [_claim(path, i, raw, data["paper"], published) for i, raw in enumerate(data["claims"])]


def load_claims(paths: Iterable[str | os.PathLike] | None = None,
                published: Published | None = None) -> list[Claim]:
    """Every claim of the given files (default data/claims/*.yaml), ids unique."""
    if paths is None:
        paths = sorted(default_claims_dir().glob("*.yaml"))
    published = published or load_published()
    seen: dict[str, Claim] = {}
    out: list[Claim] = []
    for path in paths:
        for claim in load_claims_file(path, published):
            if claim.id in seen:
                raise ClaimsError(f"{path}: duplicate claim id '{claim.id}' (also in {seen[claim.id].source})")
            seen[claim.id] = claim
            out.append(claim)
    return out


def claims_of(claims: Sequence[Claim], paper: str) -> list[Claim]:
    """The claims of "paper1", "paper2" or "all"."""
    if paper == "all":
        return list(claims)
    if paper not in PAPERS:
        raise ClaimsError(f"paper {paper!r} unknown (choose from {', '.join(PAPERS)}, all)")
    return [c for c in claims if c.paper == paper]


def tables_needed(claims: Sequence[Claim], variant: str | None = None) -> list[str]:
    """Registry names of the tables whose runs the claims compare, sorted; with `variant`,
    only the tables of the arms of that variant (the runs a variant root needs)."""
    return sorted({arm.table for c in claims for arm in c.arms if variant is None or arm.variant == variant})


def variants_of(claims: Sequence[Claim]) -> list[str]:
    """The arm variants the claims use, sorted."""
    return sorted({arm.variant for c in claims for arm in c.arms if arm.variant})


__all__ = ["Arm", "Claim", "ClaimsError", "KINDS", "VARIANTS", "claims_of", "default_claims_dir", "load_claims",
           "load_claims_file", "tables_needed", "variants_of"]
