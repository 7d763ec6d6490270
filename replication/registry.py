"""A registry of experiments/tables keyed by name (Model Garden style).

Paper packages register one factory per table when they are imported:

    from replication import registry

    @registry.register("paper1/table4")
    def table4(**kwargs):
        ...                                   # returns whatever the runner needs

    registry.register_table("paper2/tableVII", make_table_vii)

    registry.get("paper1/table4")             # the factory
    registry.build("paper1/table4", seeds=3)  # factory(seeds=3)
    registry.resolve("4", paper="paper1")     # "paper1/table4"  (for --table 4)
    registry.names()                          # sorted registered names
    registry.table_number("vii", ["I", ..., "VII"], "paper 2")   # "VII" (--table of both run.py)

A duplicate name raises DuplicateNameError; an unknown name raises UnknownNameError listing
what exists. Factories are objects passed in: there is no eval and no import built from a
string, so a name only exists once the module that registers it has been imported (the
command-line entry points import their paper package explicitly).
"""

from __future__ import annotations

import re
from typing import Any, Callable, Sequence, TypeVar

F = TypeVar("F", bound=Callable[..., Any])
NAME_PATTERN = re.compile(r"^[a-z][a-z0-9_]*/[A-Za-z0-9_]+$")   # "<paper>/<table or experiment>"
_ROMAN = {"1": "I", "2": "II", "3": "III", "4": "IV", "5": "V", "6": "VI", "7": "VII",
          "8": "VIII", "9": "IX", "10": "X"}


class RegistryError(KeyError):
    """Base class; str() is the plain message (KeyError would quote it)."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""


class DuplicateNameError(RegistryError):
    pass


class UnknownNameError(RegistryError):
    pass


class Registry:
    """Name -> factory mapping with loud failures."""

    def __init__(self, kind: str = "experiment") -> None:
        self.kind = kind
        self._factories: dict[str, Callable[..., Any]] = {}

    def register_table(self, name: str, factory: Callable[..., Any]) -> Callable[..., Any]:
        """Registers `factory` under `name`; returns the factory unchanged."""
        if not isinstance(name, str) or not NAME_PATTERN.match(name):
            raise ValueError(f"{self.kind} name {name!r} must look like 'paper1/table4' "
                             "(lower-case prefix, '/', letters, digits or '_')")
        if not callable(factory):
            raise TypeError(f"{self.kind} '{name}': factory must be callable, got {type(factory).__name__}")
        if name in self._factories:
            raise DuplicateNameError(f"{self.kind} '{name}' is already registered "
                                     f"(by {_where(self._factories[name])})")
        self._factories[name] = factory
        return factory

    def register(self, name: str) -> Callable[[F], F]:
        """Decorator form of register_table."""
        def decorate(factory: F) -> F:
            self.register_table(name, factory)
            return factory
        return decorate

    def get(self, name: str) -> Callable[..., Any]:
        try:
            return self._factories[name]
        except KeyError:
            known = ", ".join(self.names()) or "(none registered; import the paper package first)"
            raise UnknownNameError(f"unknown {self.kind} '{name}'; registered: {known}") from None

    def build(self, name: str, /, *args: Any, **kwargs: Any) -> Any:
        """Calls the factory registered under `name`."""
        return self.get(name)(*args, **kwargs)

    def names(self) -> list[str]:
        return sorted(self._factories)

    def __contains__(self, name: object) -> bool:
        return name in self._factories

    def __len__(self) -> int:
        return len(self._factories)

    def unregister(self, name: str) -> None:
        """Removes a name (tests only); unknown names raise."""
        self.get(name)
        del self._factories[name]

    def resolve(self, spec: str, paper: str | None = None) -> str:
        """A full registered name from a short spec.

        "paper1/table4" is returned as is; with paper="paper1", "4" and "table4" give
        "paper1/table4"; with paper="paper2", "7", "VII" and "tableVII" give "paper2/tableVII".
        """
        candidates = [spec]
        if paper is not None and "/" not in spec:
            short = spec[len("table"):] if spec.lower().startswith("table") else spec
            candidates += [f"{paper}/table{short}", f"{paper}/table{short.upper()}",
                           f"{paper}/table{_ROMAN.get(short, short)}"]
        for name in candidates:
            if name in self._factories:
                return name
        self.get(candidates[-1])          # raises UnknownNameError listing what exists
        raise AssertionError("unreachable")


_ARABIC = {roman: arabic for arabic, roman in _ROMAN.items()}


def table_number(spec: str | int, known: Sequence[str], paper: str, note: str = "") -> str:
    """The one table lookup of both papers' commands: `spec` as the user typed it ->
    the table's number as printed in its paper (an item of `known`).

    Accepts Arabic or Roman numbers in any case, with or without "table" and a
    "<paper>/" prefix: for paper 2 "7", "VII", "vii", "table7" and "paper2/tableVII"
    give "VII"; for paper 1 "4" and "IV" give "4".

    Raises:
      UnknownNameError (a KeyError): "<paper> has no table '<spec>' (known: ...)" + note,
        the same text for both papers.
    """
    text = str(spec).strip()
    if "/" in text:
        text = text.split("/", 1)[1]
    if text.lower().startswith("table"):
        text = text[len("table"):].strip()
    upper = text.upper()
    for candidate in (upper, _ROMAN.get(upper), _ARABIC.get(upper)):
        if candidate is not None and candidate in known:
            return candidate
    raise UnknownNameError(f"{paper} has no table '{spec}' (known: {', '.join(known)}){note}")


def _where(factory: Callable[..., Any]) -> str:
    module = getattr(factory, "__module__", "?")
    return f"{module}.{getattr(factory, '__qualname__', repr(factory))}"


TABLES = Registry("table")
"""The kit's table registry ("paper1/table4", "paper2/tableVII", ...)."""

register = TABLES.register
register_table = TABLES.register_table
get = TABLES.get
build = TABLES.build
names = TABLES.names
resolve = TABLES.resolve
