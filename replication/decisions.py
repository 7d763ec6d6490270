"""The register of decisions: loader, validator and Markdown renderer.

Every reading the kit chose for an open or inconsistent point of a paper is one entry in
replication/decisions/<shared|paper1|paper2>.yaml. Each file is a YAML list of entries:

    - id: p1-spectrogram-frames          # unique over all files
      paper: paper1                      # paper1 | paper2 | both
      topic: ...
      paper_says: ...
      chosen: ...
      alternatives: [..., ...]           # a list
      config_key: Paper1Params.features.window   # the field that switches it (dotted)
      why: ...

    python -m replication.decisions                       # validate and print Markdown
    python -m replication.decisions --markdown FILE                     # the whole page to FILE
    python -m replication.decisions --into docs/register.md --section decisions   # the rendered register

A missing or unknown key, a wrong type, an unknown paper or a duplicate id is a
DecisionsError naming the file and the entry.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Sequence

from replication.published import PublishedError, load_yaml_strict, repo_root
from replication.report import markdown_table, replace_between_markers, ReportError
from shared.cli import command
from shared.config import atomic_write_text

KEYS = ("id", "paper", "topic", "paper_says", "chosen", "alternatives", "config_key", "why")
PAPERS = ("paper1", "paper2", "both")
PAPER_TITLES = {"paper1": "Paper 1 (teacher-student soft labels, Heo et al. 2019)",
                "paper2": "Paper 2 (multi-representation distillation, Gao et al.)",
                "both": "Both papers"}
_ID = re.compile(r"^[a-z0-9][a-z0-9_.-]*$")


class DecisionsError(ValueError):
    """A register file or entry does not fit the schema."""


@dataclass(frozen=True)
class Decision:
    """One register entry."""
    id: str
    paper: str
    topic: str
    paper_says: str
    chosen: str
    alternatives: tuple[str, ...]
    config_key: str
    why: str
    source: str = ""           # file it came from


def default_decisions_dir() -> Path:
    return repo_root() / "replication" / "decisions"


def _entry(path: Path, index: int, raw: Any) -> Decision:
    label = f"{path}: entry {index + 1}"
    if isinstance(raw, dict) and isinstance(raw.get("id"), str):
        label += f" (id '{raw['id']}')"
    if not isinstance(raw, dict):
        raise DecisionsError(f"{label}: expected a mapping with keys {', '.join(KEYS)}, "
                             f"got {type(raw).__name__}")
    missing = [k for k in KEYS if k not in raw]
    if missing:
        raise DecisionsError(f"{label}: missing key(s) {', '.join(missing)}")
    unknown = sorted(set(map(str, raw)) - set(KEYS))
    if unknown:
        raise DecisionsError(f"{label}: unknown key(s) {', '.join(unknown)} (schema: {', '.join(KEYS)})")
    for key in KEYS:
        if key == "alternatives":
            continue
        value = raw[key]
        if not isinstance(value, str) or not value.strip():
            raise DecisionsError(f"{label}: '{key}' must be a non-empty string, got {value!r}")
    if not _ID.match(raw["id"]):
        raise DecisionsError(f"{label}: id must be lower-case letters, digits, '-', '_' or '.'")
    if raw["paper"] not in PAPERS:
        raise DecisionsError(f"{label}: paper must be one of {', '.join(PAPERS)}, got {raw['paper']!r}")
    alts = raw["alternatives"]
    if not isinstance(alts, list) or any(isinstance(a, (dict, list)) or a is None for a in alts):
        raise DecisionsError(f"{label}: 'alternatives' must be a list of plain values, got {alts!r}")
    return Decision(id=raw["id"], paper=raw["paper"], topic=raw["topic"].strip(),
                    paper_says=raw["paper_says"].strip(), chosen=raw["chosen"].strip(),
                    alternatives=tuple(str(a) for a in alts), config_key=raw["config_key"].strip(),
                    why=raw["why"].strip(), source=str(path))


def load_file(path: str | os.PathLike) -> list[Decision]:
    """Entries of one register file (an empty file is an empty list)."""
    path = Path(path)
    try:
        data = load_yaml_strict(path)
    except PublishedError as err:
        raise DecisionsError(str(err)) from None
    if data is None:
        return []
    if not isinstance(data, list):
        raise DecisionsError(f"{path}: top level must be a list of entries, got {type(data).__name__}")
    return [_entry(path, i, raw) for i, raw in enumerate(data)]


def load_decisions(paths: Iterable[str | os.PathLike] | None = None) -> list[Decision]:
    """All entries of the given files (default: replication/decisions/*.yaml), ids unique."""
    if paths is None:
        paths = sorted(default_decisions_dir().glob("*.yaml"))
    entries: list[Decision] = []
    seen: dict[str, Decision] = {}
    for path in paths:
        for entry in load_file(path):
            if entry.id in seen:
                raise DecisionsError(f"{path}: duplicate id '{entry.id}' (also in {seen[entry.id].source})")
            seen[entry.id] = entry
            entries.append(entry)
    return entries


def unknown_ids(ids: Iterable[str], entries: Sequence[Decision]) -> list[str]:
    """The ids (e.g. from a run record's `decisions`) that the register does not hold."""
    known = {e.id for e in entries}
    return sorted({i for i in ids if i not in known})


def _switch_paths(config_key: str) -> list[str]:
    """Dotted field paths named by a register entry's config_key, class names dropped
    ("TSParams.teacher_mode" -> "teacher_mode"; "Paper1Params.models.cnn_gru.res4_filters"
    -> "models.cnn_gru.res4_filters"); prose and file paths give nothing."""
    out = []
    for part in re.split(r"[,/;]", config_key):
        part = part.strip().split(" ")[0].split("(")[0]
        pieces = part.split(".")
        if len(pieces) >= 2 and pieces[0][:1].isupper() and all(p.isidentifier() for p in pieces):
            out.append(".".join(pieces[1:]))
    return out


def ids_for_keys(keys: Iterable[str], entries: Sequence[Decision], papers: Sequence[str] = ()) -> list[str]:
    """Register ids whose switch is one of the dotted config `keys` ("ts.teacher_mode",
    or "ts.teacher_mode: 'x' (paper: 'y')" lines): a key matches when it ends with a path
    the entry's config_key names. `papers` limits the entries (plus "both")."""
    paths = [k.split(":")[0].strip() for k in keys]
    found = set()
    for entry in entries:
        if papers and entry.paper not in (*papers, "both"):
            continue
        for switch in _switch_paths(entry.config_key):
            if any(p == switch or p.endswith("." + switch) for p in paths):
                found.add(entry.id)
    return sorted(found)


def paper_diff(keys: Sequence[str], paper: str) -> dict:
    """{"keys": the "key: value (paper: value)" lines, "decisions": the register ids that
    switch them}: what a run record stores in extra["paper_diff"] for the checker."""
    return {"keys": list(keys), "decisions": ids_for_keys(keys, load_decisions(), papers=(paper,)) if keys else []}


def _by_paper(entries: Sequence[Decision]) -> list[tuple[str, list[Decision]]]:
    order = {"paper1": 0, "paper2": 1, "both": 2}
    groups: dict[str, list[Decision]] = {}
    for e in sorted(entries, key=lambda e: (order[e.paper], e.id)):
        groups.setdefault(e.paper, []).append(e)
    return list(groups.items())


def render_markdown(entries: Sequence[Decision], style: str = "table", heading_level: int = 3) -> str:
    """Markdown of the register, grouped by paper: one table per paper, or a section per entry."""
    if style not in ("table", "sections"):
        raise DecisionsError(f"style must be 'table' or 'sections', got {style!r}")
    if not entries:
        return "_The register of decisions is empty._\n"
    hashes = "#" * heading_level
    out: list[str] = []
    for paper, group in _by_paper(entries):
        out += [f"{hashes} {PAPER_TITLES[paper]}", ""]
        if style == "table":
            rows = [[f"`{e.id}`", e.topic, e.paper_says, e.chosen, "; ".join(e.alternatives) or "-",
                     f"`{e.config_key}`", e.why] for e in group]
            out += [markdown_table(["id", "topic", "the paper says", "chosen", "alternatives",
                                    "switch", "why"], rows), ""]
        else:
            for e in group:
                out += [f"{hashes}# `{e.id}`: {e.topic}", "",
                        f"- **The paper says:** {e.paper_says}",
                        f"- **Chosen:** {e.chosen}",
                        f"- **Alternatives:** {'; '.join(e.alternatives) or '-'}",
                        f"- **Switch:** `{e.config_key}`",
                        f"- **Why:** {e.why}", ""]
    return "\n".join(out).rstrip("\n") + "\n"


@command("python -m replication.decisions", DecisionsError, ReportError, PublishedError)
def main(argv: Sequence[str] | None = None) -> int:
    """Exit codes: 0 the register is valid, 2 bad input (one line on stderr, docs/errors.md)."""
    p = argparse.ArgumentParser(prog="python -m replication.decisions",
                                description="Validate the register of decisions and render it as Markdown.")
    p.add_argument("files", nargs="*", type=Path, help="register files (default replication/decisions/*.yaml)")
    p.add_argument("--markdown", type=Path, help="write the Markdown here (atomically)")
    p.add_argument("--into", type=Path,
                   help="Markdown file whose marked section is replaced (the kit's register: docs/register.md)")
    p.add_argument("--section", default="decisions", help="marker name for --into (default: decisions)")
    p.add_argument("--style", choices=("table", "sections"), default="table")
    args = p.parse_args(argv)
    entries = load_decisions(args.files or None)
    md = render_markdown(entries, args.style)
    if args.markdown:
        atomic_write_text(args.markdown, md)
    if args.into:
        changed = replace_between_markers(args.into, args.section, md)
        print(f"{args.into}: section '{args.section}' {'updated' if changed else 'unchanged'}")
    if not args.markdown and not args.into:
        print(md, end="")
    else:
        print(f"{len(entries)} decisions valid", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
