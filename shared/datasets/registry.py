"""Datasets by command-line name: `get_dataset("dcase2018_task1a")`.

An unknown name is an error listing the known ones; an option a dataset does not
take is an error listing the options it does take. The demo's spec depends on the
params it was generated with, so `DatasetEntry.spec(root)` reads them from the root.
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

from shared.datasets import demo, dcase2018_task1a, esc50, fsdkaggle2018
from shared.datasets.base import DatasetError, DatasetSpec, Split

_MODULES: dict[str, ModuleType] = {
    dcase2018_task1a.NAME: dcase2018_task1a,
    fsdkaggle2018.NAME: fsdkaggle2018,
    esc50.NAME: esc50,
    demo.NAME: demo,
}


@dataclass(frozen=True)
class DatasetEntry:
    name: str
    module: ModuleType
    generated: bool     # True for the demo (made by the kit, not downloaded)

    def options(self) -> tuple[str, ...]:
        """Keyword options of load_splits (and of spec, which takes a subset)."""
        params = inspect.signature(self.module.load_splits).parameters
        return tuple(p for p in params if p not in ("root", "params"))

    def _check(self, opts: dict[str, Any]) -> None:
        unknown = sorted(set(opts) - set(self.options()))
        if unknown:
            valid = ", ".join(self.options()) or "none"
            raise DatasetError(f"dataset '{self.name}' has no option(s) {', '.join(unknown)} "
                               f"(valid: {valid})")
        defaults = inspect.signature(self.module.load_splits).parameters
        for key, value in opts.items():
            default = defaults[key].default          # the option's type is its default's
            if isinstance(default, bool) and not isinstance(value, bool):
                raise DatasetError(f"dataset '{self.name}' option {key}: expected true or false, got {value!r}")
            if (isinstance(default, int) and not isinstance(default, bool)
                    and (isinstance(value, bool) or not isinstance(value, int) or value < 1)):
                raise DatasetError(f"dataset '{self.name}' option {key}: expected a positive integer, "
                                   f"got {value!r}")

    def spec(self, root: Path | None = None, **opts: Any) -> DatasetSpec:
        """The DatasetSpec; for the demo, of the params saved in `root` if given."""
        self._check(opts)
        if self.generated:
            return demo.spec(demo.read_params(root)) if root is not None else demo.spec()
        accepted = inspect.signature(self.module.spec).parameters
        return self.module.spec(**{k: v for k, v in opts.items() if k in accepted})

    def load_splits(self, root: Path, **opts: Any) -> dict[str, Split]:
        self._check(opts)
        return self.module.load_splits(Path(root), **opts)


def known_datasets() -> tuple[str, ...]:
    return tuple(sorted(_MODULES))


def get_dataset(name: str) -> DatasetEntry:
    """The registered dataset `name`, or DatasetError listing the known names."""
    if name not in _MODULES:
        raise DatasetError(f"unknown dataset '{name}' (known: {', '.join(known_datasets())})")
    return DatasetEntry(name=name, module=_MODULES[name], generated=name == demo.NAME)
