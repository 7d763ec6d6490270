"""Get the datasets: `python -m replication.data download|verify|prepare NAME [--root DIR]`.

  download NAME   fetch the archives of data/manifests/NAME.yaml into data/downloads/NAME
                  (MD5-checked, resumable, progress bars)
  verify NAME     check metadata and every audio file of the root; lists every problem
                  (--rehearsal: accept rehearsal data, whose split sizes are not official)
  prepare NAME    real sets: download + extract (atomic) + verify;
                  demo: generate the synthetic set (DemoParams, --opt to change fields)
  rehearsal-data NAME --root DIR [--per-class N] [--seed S]
                  dcase2018_task1a, fsdkaggle2018: a few synthetic clips per class in the
                  real layout and format (shared/datasets/rehearsal.py), then verify
                  --rehearsal; --root is required (never data/datasets/NAME)

Default root: data/datasets/NAME in the repository. Options of a dataset go through
--opt KEY=VALUE (e.g. --opt esc10_only=true --opt sample_rate=22050 for the ESC-10
fixture, --opt verified_only=true for FSDKaggle2018, --opt train_per_class=4 for demo).

Exit codes: 0 ok; 1 verification found errors (or warnings with --strict);
2 bad command line, unknown dataset/option, missing data root or unusable metadata;
3 download or extraction failed (a bad zip / tar archive included). Every error is one
line on stderr, `python -m replication.data: error: ...` (docs/errors.md).
"""

from __future__ import annotations

import argparse
import sys
import tarfile
import zipfile
from pathlib import Path
from typing import Any, Sequence

import yaml

from shared.cli import command
from shared.config import override
from shared.datasets import demo, rehearsal
from shared.datasets.base import DatasetError
from shared.datasets.registry import get_dataset, known_datasets
from shared.download import (DownloadError, download_archive, install_archives, is_installed,
                             load_manifest)
from shared.verify import verify_dataset

REPO = Path(__file__).resolve().parents[1]
EXIT_OK, EXIT_VERIFY, EXIT_USAGE, EXIT_DOWNLOAD = 0, 1, 2, 3


def _parse_opts(items: Sequence[str]) -> dict[str, Any]:
    opts: dict[str, Any] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise DatasetError(f"--opt '{item}' must look like KEY=VALUE")
        opts[key.strip()] = yaml.safe_load(value)
    return opts


def _manifest_path(name: str) -> Path:
    return REPO / "data" / "manifests" / f"{name}.yaml"


def cmd_download(name: str, downloads: Path, progress: bool) -> dict[str, Path]:
    manifest = load_manifest(_manifest_path(name))
    if not manifest.fully_hashed:
        missing = [a.name for a in manifest.archives if not a.md5]
        print(f"WARNING: no MD5 known for {', '.join(missing)}: their integrity cannot be "
              f"checked (see {_manifest_path(name)})", file=sys.stderr)
    paths = {}
    for entry in manifest.archives:
        print(f"{entry.name} <- {entry.url}")
        paths[entry.name] = download_archive(entry, downloads, progress=progress)
    print(f"{len(paths)} archive(s) in {downloads}")
    return paths


def cmd_verify(name: str, root: Path, opts: dict[str, Any], decode: bool, strict: bool,
               workers: int, progress: bool) -> int:
    entry = get_dataset(name)
    if not Path(root).is_dir():      # bad input (exit 2), not a failed verification (exit 1)
        raise DatasetError(f"{root}: data root not found (get it with `python -m replication.data "
                           f"prepare {name} --root {root}`)")
    spec = entry.spec(root, **opts)
    report = verify_dataset(root, spec, lambda: entry.load_splits(root, **opts),
                            decode=decode, workers=workers, progress=progress,
                            rehearsal=bool(opts.get("rehearsal", False)))
    print(report.summary())
    if report.ok(strict):
        print("verify: OK" + (" (warnings above)" if report.warnings else ""))
        return EXIT_OK
    print("verify: FAILED" + (" (--strict: warnings count as errors)" if strict and not report.errors else ""))
    return EXIT_VERIFY


def cmd_prepare(args: argparse.Namespace, root: Path, opts: dict[str, Any]) -> int:
    if args.name == demo.NAME:
        params = override(demo.DemoParams(), opts, source="--opt")
        if demo.is_complete(root, params) and not args.force:
            print(f"demo already generated at {root} with these params")
        else:
            demo.generate(root, params, progress=not args.no_progress, force=args.force)
            print(f"demo generated at {root}")
        return cmd_verify(args.name, root, {}, not args.quick, args.strict, args.workers,
                          not args.no_progress)
    manifest = load_manifest(_manifest_path(args.name))
    if is_installed(root, manifest) and not args.force:
        print(f"{root}: already extracted from {len(manifest.archives)} archive(s)")
    else:
        paths = cmd_download(args.name, args.downloads, not args.no_progress)
        print(f"extracting into {root} ...")
        install_archives(manifest, paths, root, force=args.force)
    return cmd_verify(args.name, root, opts, not args.quick, args.strict, args.workers,
                      not args.no_progress)


def cmd_rehearsal_data(args: argparse.Namespace) -> int:
    if args.root is None:
        raise DatasetError("rehearsal-data needs --root DIR (it never writes into "
                           f"data/datasets/{args.name}, where the real data set goes)")
    params = rehearsal.RehearsalParams(args.name, per_class=args.per_class, seed=args.seed)
    if rehearsal.is_complete(args.root, params):
        print(f"rehearsal data already generated at {args.root} with these params")
    else:
        rehearsal.generate(args.root, params, progress=not args.no_progress, force=args.force)
        print(f"rehearsal data ({args.name}, {args.per_class} clip(s) per class per split, "
              f"seed {args.seed}) generated at {args.root}")
    return cmd_verify(args.name, args.root, {"rehearsal": True}, not args.quick, args.strict,
                      args.workers, not args.no_progress)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m replication.data", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("command", choices=("download", "verify", "prepare", "rehearsal-data"))
    parser.add_argument("name", help=f"dataset: {', '.join(known_datasets())}")
    parser.add_argument("--root", type=Path, help="dataset root (default data/datasets/NAME)")
    parser.add_argument("--downloads", type=Path, help="archive folder (default data/downloads/NAME)")
    parser.add_argument("--opt", action="append", default=[], metavar="KEY=VALUE",
                        help="dataset option (demo: a DemoParams field when preparing)")
    parser.add_argument("--quick", action="store_true", help="verify headers only, do not decode")
    parser.add_argument("--strict", action="store_true", help="warnings make verify fail")
    parser.add_argument("--force", action="store_true", help="replace an existing root")
    parser.add_argument("--workers", type=int, default=2, help="verify threads (default 2)")
    parser.add_argument("--no-progress", action="store_true", help="no progress bars")
    parser.add_argument("--rehearsal", action="store_true",
                        help="verify: accept rehearsal data (same as --opt rehearsal=true)")
    parser.add_argument("--per-class", type=int, default=2,
                        help="rehearsal-data: clips per class in every split (default 2)")
    parser.add_argument("--seed", type=int, default=0, help="rehearsal-data: generator seed (default 0)")
    return parser


@command("python -m replication.data",
         exits={DownloadError: EXIT_DOWNLOAD, zipfile.BadZipFile: EXIT_DOWNLOAD,
                tarfile.TarError: EXIT_DOWNLOAD})
def main(argv: Sequence[str] | None = None) -> int:
    """Exit codes: see the module docstring; errors are one line (shared/cli.py)."""
    args = build_parser().parse_args(argv)
    if args.command == "rehearsal-data":
        return cmd_rehearsal_data(args)
    root = args.root or REPO / "data" / "datasets" / args.name
    args.downloads = args.downloads or REPO / "data" / "downloads" / args.name
    get_dataset(args.name)
    opts = _parse_opts(args.opt)
    if args.rehearsal:
        if args.command != "verify":
            raise DatasetError(f"--rehearsal applies to verify, not {args.command} "
                               f"(rehearsal-data verifies its root in rehearsal mode itself)")
        opts["rehearsal"] = True
    if args.command == "download":
        if args.name == demo.NAME:
            raise DatasetError("the demo dataset is generated, not downloaded: "
                               "use `prepare demo`")
        cmd_download(args.name, args.downloads, not args.no_progress)
        return EXIT_OK
    if args.command == "verify":
        return cmd_verify(args.name, root, opts, not args.quick, args.strict, args.workers,
                          not args.no_progress)
    return cmd_prepare(args, root, opts)


if __name__ == "__main__":
    sys.exit(main())
