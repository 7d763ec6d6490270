"""The layers of the kit, read from the source (ast, nothing imported):

    shared/                   imports neither a paper package nor replication
    replication/ (the core)   imports no paper package (paper1_ts, paper2_multirep)
    replication/drivers/, replication/__main__.py   may import anything: they run the papers

An import statement anywhere in a module counts (also one inside a function), and so does
a module named by a string to importlib.import_module / __import__ / runpy.run_module; such
a call whose module is not a literal string is refused in a layered package, since it
cannot be checked. A violation names the file, the line and the module imported.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
PAPERS = frozenset({"paper1_ts", "paper2_multirep"})
# package -> (top-level packages it must not import, paths under it that are exempt)
LAYERS = {
    "replication": (PAPERS, ("replication/drivers/", "replication/__main__.py")),
    "shared": (PAPERS | {"replication"}, ()),
}
IMPORT_CALLS = frozenset({"import_module", "__import__", "run_module"})


def module_name(rel: str) -> str:
    """"replication/check.py" -> "replication.check"; "shared/features/__init__.py" -> "shared.features"."""
    parts = rel[:-len(".py")].split("/")
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _absolute(node: ast.ImportFrom, module: str, is_package: bool) -> str:
    """The absolute module a (possibly relative) `from ... import` names."""
    if not node.level:
        return node.module or ""
    package = module.split(".") if is_package else module.split(".")[:-1]
    base = package[:len(package) - (node.level - 1)] if node.level - 1 <= len(package) else []
    return ".".join(base + ([node.module] if node.module else []))


def _call_name(func: ast.expr) -> str:
    if isinstance(func, ast.Name):
        return func.id
    if isinstance(func, ast.Attribute):
        return func.attr
    return ""


def imported_modules(source: str, rel: str) -> list[tuple[int, str]]:
    """(line, module) of every module the source imports; module "<dynamic>" for an import
    call whose argument is not a literal string. `rel` is the file's path in the checkout."""
    module, is_package = module_name(rel), rel.endswith("__init__.py")
    found: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(source, filename=rel)):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = _absolute(node, module, is_package)
            found.append((node.lineno, base))
            if node.level and not node.module:          # `from .. import x`: x is a module too
                found += [(node.lineno, f"{base}.{alias.name}".lstrip(".")) for alias in node.names]
        elif isinstance(node, ast.Call) and _call_name(node.func) in IMPORT_CALLS and node.args:
            arg = node.args[0]
            literal = isinstance(arg, ast.Constant) and isinstance(arg.value, str)
            found.append((node.lineno, arg.value if literal else "<dynamic>"))
    return sorted(found)


def violations(source: str, rel: str, forbidden: frozenset[str]) -> list[str]:
    """One "file:line: imports X" per forbidden (or uncheckable) import in the source."""
    out = []
    for line, name in imported_modules(source, rel):
        if name == "<dynamic>":
            out.append(f"{rel}:{line}: imports a module named at run time (cannot be checked; "
                       f"name it literally or move the code to replication/drivers/)")
        elif name.split(".")[0] in forbidden:
            out.append(f"{rel}:{line}: imports {name} ({rel.split('/')[0]}/ must not import "
                       f"{', '.join(sorted(forbidden))})")
    return out


def layered_files(package: str) -> list[str]:
    _forbidden, exempt = LAYERS[package]
    rels = sorted(p.relative_to(REPO).as_posix() for p in (REPO / package).rglob("*.py"))
    return [r for r in rels if not any(r == e or (e.endswith("/") and r.startswith(e)) for e in exempt)]


@pytest.mark.parametrize("package", sorted(LAYERS))
def test_layer_imports_nothing_above_it(package):
    forbidden, _exempt = LAYERS[package]
    files = layered_files(package)
    assert len(files) > 5, f"{package}/: found only {files}; is the checkout layout as expected?"
    found = [v for rel in files for v in violations((REPO / rel).read_text(encoding="utf-8"), rel, forbidden)]
    assert not found, "layering violated:\n" + "\n".join(found)


def test_drivers_are_exempt_and_the_rest_of_replication_is_not():
    files = layered_files("replication")
    assert "replication/check.py" in files and "replication/claims_stats.py" in files
    assert not any(f.startswith("replication/drivers/") or f == "replication/__main__.py" for f in files)
    # the exemption is needed: the drivers do import the papers
    drivers = sorted((REPO / "replication" / "drivers").glob("*.py"))
    assert any(name.split(".")[0] in PAPERS for d in drivers
               for _line, name in imported_modules(d.read_text(encoding="utf-8"),
                                                   d.relative_to(REPO).as_posix()))


# --- the scanner itself, on sources written here

def test_scanner_finds_every_kind_of_import_with_its_line():
    src = ("import os\n"
           "def f():\n"
           "    from paper1_ts.run import main\n"            # line 3, inside a function
           "    import paper2_multirep.tables as t\n"         # line 4
           "    importlib.import_module('paper1_ts.models')\n"  # line 5
           "    __import__('replication.check')\n"            # line 6
           "    import_module(name)\n")                       # line 7, not checkable
    assert violations(src, "replication/x.py", PAPERS) == [
        "replication/x.py:3: imports paper1_ts.run (replication/ must not import paper1_ts, paper2_multirep)",
        "replication/x.py:4: imports paper2_multirep.tables (replication/ must not import paper1_ts, paper2_multirep)",
        "replication/x.py:5: imports paper1_ts.models (replication/ must not import paper1_ts, paper2_multirep)",
        "replication/x.py:7: imports a module named at run time (cannot be checked; name it literally or "
        "move the code to replication/drivers/)",
    ]
    shared = violations(src, "shared/x.py", LAYERS["shared"][0])
    assert [v.split(":")[1] for v in shared] == ["3", "4", "5", "6", "7"]


def test_scanner_resolves_relative_imports():
    # shared/datasets/x.py: `from .. import cache` is shared.cache; from replication/drivers/x.py
    # `from .. import check` is replication.check
    assert (3, "shared.cache") in imported_modules("\n\nfrom .. import cache\n", "shared/datasets/x.py")
    assert imported_modules("from ..check import main\n", "replication/drivers/x.py") == [(1, "replication.check")]
    assert imported_modules("from . import demo\n", "replication/drivers/__init__.py") == [
        (1, "replication.drivers"), (1, "replication.drivers.demo")]
    assert imported_modules("from .check import main\n", "replication/__main__.py") == [(1, "replication.check")]


def test_scanner_passes_clean_sources_and_lookalike_names():
    src = ("import paper1_tsx\nfrom shared.paths import checkout_root\n"
           "x = 'paper1_ts.run'\nprint('from paper2_multirep import y')\n")
    assert violations(src, "replication/x.py", PAPERS) == []
    assert violations("from replication_tools import x\n", "shared/x.py", LAYERS["shared"][0]) == []
    assert violations("from replication.check import x\n", "shared/x.py", LAYERS["shared"][0]) == [
        "shared/x.py:1: imports replication.check (shared/ must not import paper1_ts, paper2_multirep, replication)"]
