"""What every command of the kit does with an expected failure: one line, exit code 2.

An expected failure is bad input the user can fix (an unknown preset, a bad value or an
unknown key in a preset, `--opt sample_rate=abc`, a bad zip archive, a malformed run
record, a missing data root, an unknown table): the command prints ONE line on stderr,

    python -m paper1_ts.run: error: paper1_ts/presets/x.yaml: TrainParams.epochs must be >= 1, got 0

and exits with EXIT_USAGE. Anything else (a bug) keeps its traceback. The exit codes are
the same in every command (docs/errors.md):

    0  ok
    1  the work ran and its verdict is negative: a checked cell regressed, a dataset failed
       verification, a step of a driver failed
    2  bad input: command line, preset, option, data root, archive, run record
    3  replication.data only: a download or an extraction failed

    @command("python -m replication.check", CheckError)
    def main(argv=None) -> int:
        ...                                   # raise the kit's errors; no try/except here

The decorated `main(argv)` returns the exit code (argparse's own usage errors still raise
SystemExit(2) after printing the usage). Exception types are checked lazily, when an
exception arrives, so importing this module (and `--help`) stays instant.
"""

from __future__ import annotations

import functools
import sys
import zipfile
from typing import Callable, Mapping, Sequence

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2

Main = Callable[[Sequence[str] | None], int]


class UsageError(ValueError):
    """Bad command-line input that argparse cannot see (a malformed --tables entry, ...)."""


def expected_errors() -> tuple[type[BaseException], ...]:
    """The kit's exception types that mean "bad input" in every command."""
    import yaml

    from shared.audio import AudioError
    from shared.config import ConfigError
    from shared.datasets.base import DatasetError
    from shared.features.params import FeatureError

    return (UsageError, ConfigError, DatasetError, FeatureError, AudioError, zipfile.BadZipFile,
            yaml.YAMLError, FileNotFoundError, FileExistsError, NotADirectoryError, IsADirectoryError,
            PermissionError)


def error_line(err: BaseException) -> str:
    """The message of `err` on one line (a KeyError's message without its quotes)."""
    text = str(err.args[0]) if isinstance(err, KeyError) and len(err.args) == 1 else str(err)
    if isinstance(err, OSError) and err.filename is not None and err.strerror:
        text = f"{err.filename}: {err.strerror}"         # "[Errno 2] ..." -> "path: No such file ..."
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return "; ".join(lines) or type(err).__name__


def fail(prog: str, err: BaseException | str, code: int = EXIT_USAGE) -> int:
    """Prints `<prog>: error: <message>` on stderr and returns `code`."""
    message = err if isinstance(err, str) else error_line(err)
    print(f"{prog}: error: {message}", file=sys.stderr, flush=True)
    return code


def command(prog: str, *expected: type[BaseException],
            exits: Mapping[type[BaseException], int] | None = None) -> Callable[[Main], Main]:
    """Decorates a command's `main(argv)`: expected failures become one line and an exit code.

    Args:
      prog: the command as typed ("python -m replication.check"), the prefix of the line.
      expected: further exception types that mean bad input for this command (its own
        error classes), on top of `expected_errors()`.
      exits: exception type -> exit code other than 2 (replication.data: DownloadError -> 3);
        checked first.
    """
    def wrap(main: Main) -> Main:
        @functools.wraps(main)
        def run(argv: Sequence[str] | None = None) -> int:
            try:
                return main(argv)
            except Exception as err:
                for kind, code in (exits or {}).items():
                    if isinstance(err, kind):
                        return fail(prog, err, code)
                if isinstance(err, expected_errors() + tuple(expected)):
                    return fail(prog, err)
                raise
        run.prog = prog                      # type: ignore[attr-defined]
        return run
    return wrap


__all__ = ["EXIT_FAILED", "EXIT_OK", "EXIT_USAGE", "UsageError", "command", "error_line",
           "expected_errors", "fail"]
