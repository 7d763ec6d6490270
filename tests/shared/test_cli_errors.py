"""Every command maps an expected failure to ONE line on stderr and exit code 2 (shared/cli.py).

A table of bad inputs is run through each command's `main(argv)` in-process: the exit
code, the single `<command>: error: <message>` line naming the file / key / option, and
no traceback are checked. `--help` of every command is timed in a subprocess, and no
command module may import TensorFlow, Keras or librosa when it is imported.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest
import yaml

from shared import cli

REPO = Path(__file__).resolve().parents[2]
COMMANDS = ("paper1_ts.run", "paper2_multirep.run", "replication", "replication.data", "replication.check",
            "replication.report", "replication.decisions", "replication.premises",
            "replication.drivers.claims", "replication.drivers.demo", "replication.drivers.bench",
            "replication.drivers.bench_report", "replication.drivers.bench_training",
            "replication.drivers.isa_probe")
HELP_BOUND_S = 3.0     # the target is < 1 s; the bound leaves room for a host busy with training


def _module(command: str) -> str:
    """The module whose `main` `python -m <command>` runs (a package runs its __main__.py)."""
    return "replication.__main__" if command == "replication" else command


def _main(command: str):
    import importlib
    return importlib.import_module(_module(command)).main


def _record(path: Path, **fields) -> Path:
    data = {"table": "paper1/table4", "run": "T5", "preset": "demo", "seed": 0, "metrics": {"accuracy": 0.5}}
    data.update(fields)
    data = {k: v for k, v in data.items() if v is not None}
    path.mkdir(parents=True, exist_ok=True)
    (path / "results.json").write_text(json.dumps(data))
    return path / "results.json"


def _yaml(path: Path, text: str) -> str:
    path.write_text(text)
    return str(path)


# (id, module, argv builder (tmp -> argv), needles every one of which the error line holds)
CASES = [
    # --- paper 1
    ("p1-unknown-preset", "paper1_ts.run", lambda t: ["--table", "4", "--preset", "nope", "--dry-run"],
     ["unknown preset 'nope'", "paper, demo"]),
    ("p1-missing-preset-file", "paper1_ts.run",
     lambda t: ["--table", "4", "--preset", str(t / "none.yaml"), "--dry-run"], ["none.yaml", "not found"]),
    ("p1-preset-is-a-directory", "paper1_ts.run",
     lambda t: ["--table", "4", "--preset", str(t / "dir.yaml"), "--dry-run"], ["dir.yaml", "not a file"]),
    ("p1-preset-unknown-key", "paper1_ts.run",
     lambda t: ["--table", "4", "--preset", _yaml(t / "k.yaml", "train:\n  epochz: 3\n"), "--dry-run"],
     ["k.yaml", "unknown key 'epochz'"]),
    ("p1-preset-nan-learning-rate", "paper1_ts.run",
     lambda t: ["--table", "4", "--preset", _yaml(t / "n.yaml", "train:\n  learning_rate: .nan\n"), "--dry-run"],
     ["n.yaml", "learning_rate", "finite"]),
    ("p1-preset-bool-epochs", "paper1_ts.run",
     lambda t: ["--table", "4", "--preset", _yaml(t / "b.yaml", "train:\n  epochs: true\n"), "--dry-run"],
     ["b.yaml", "epochs", "boolean"]),
    ("p1-preset-zero-temperature", "paper1_ts.run",
     lambda t: ["--table", "4", "--preset", _yaml(t / "z.yaml", "ts:\n  temperature: 0\n"), "--dry-run"],
     ["z.yaml", "temperature must be > 0"]),
    ("p1-preset-bad-yaml", "paper1_ts.run",
     lambda t: ["--table", "4", "--preset", _yaml(t / "y.yaml", "train: [1, 2\n"), "--dry-run"],
     ["y.yaml", "not valid YAML"]),
    ("p1-seeds-0", "paper1_ts.run", lambda t: ["--table", "4", "--preset", "demo", "--seeds", "0"],
     ["--seeds must be >= 1"]),
    ("p1-missing-data-root", "paper1_ts.run",
     lambda t: ["--table", "4", "--preset", "paper", "--data-root", str(t / "missing"),
                "--results", str(t / "r")], ["missing", "data root not found"]),
    ("p1-existing-record", "paper1_ts.run",
     lambda t: ["--table", "1", "--preset", "demo", "--data-root", str(t / "missing"), "--results", str(t),
                *([] if _record(t / "paper1" / "table1" / "raw_improved" / "seed-0") else [])],
     ["raw_improved", "already exist", "--overwrite"]),
    # --- paper 2
    ("p2-unknown-table", "paper2_multirep.run", lambda t: ["--table", "9", "--dry-run"], ["no table '9'"]),
    ("p2-unknown-preset", "paper2_multirep.run", lambda t: ["--table", "7", "--preset", "nope", "--dry-run"],
     ["unknown preset 'nope'"]),
    ("p2-set-without-equals", "paper2_multirep.run", lambda t: ["--table", "7", "--dry-run", "--set", "seeds"],
     ["--set", "'seeds'"]),
    ("p2-set-unknown-key", "paper2_multirep.run",
     lambda t: ["--table", "7", "--dry-run", "--set", "data.nope=1"], ["unknown key 'nope'"]),
    ("p2-set-non-numeric", "paper2_multirep.run",
     lambda t: ["--table", "7", "--dry-run", "--set", "data.crop_frames=abc"], ["crop_frames", "'abc'"]),
    ("p2-set-bool-for-int", "paper2_multirep.run",
     lambda t: ["--table", "7", "--dry-run", "--set", "seeds=true"], ["seeds", "boolean"]),
    ("p2-seeds-0", "paper2_multirep.run", lambda t: ["--table", "7", "--dry-run", "--seeds", "0"],
     ["--seeds must be >= 1"]),
    ("p2-folds-without-dataset", "paper2_multirep.run", lambda t: ["--table", "7", "--folds", "1"],
     ["--folds applies to --dataset only"]),
    ("p2-validate-without-dataset", "paper2_multirep.run", lambda t: ["--table", "7", "--validate"],
     ["--validate applies to --dataset only"]),
    ("p2-dataset-missing-root", "paper2_multirep.run",
     lambda t: ["--dataset", "esc10", "--data-root", str(t / "missing")], ["missing", "data root not found"]),
    ("p2-dataset-bad-fold", "paper2_multirep.run",
     lambda t: ["--dataset", "esc10", "--data-root", str(t), "--folds", "7"], ["--folds 7"]),
    ("p2-dataset-bad-branch", "paper2_multirep.run",
     lambda t: ["--dataset", "esc10", "--data-root", str(t), "--branches", "mfcc-vgg"], ["'mfcc-vgg'"]),
    # --- data
    ("data-opt-not-a-number", "replication.data",
     lambda t: ["prepare", "demo", "--root", str(t / "d"), "--no-progress", "--opt", "sample_rate=abc"],
     ["DemoParams.sample_rate", "'abc'"]),
    ("data-opt-bool-for-int", "replication.data",
     lambda t: ["prepare", "demo", "--root", str(t / "d"), "--no-progress", "--opt", "sample_rate=true"],
     ["DemoParams.sample_rate", "boolean"]),
    ("data-opt-out-of-range", "replication.data",
     lambda t: ["prepare", "demo", "--root", str(t / "d"), "--no-progress", "--opt", "train_per_class=0"],
     ["DemoParams.train_per_class must be >= 1"]),
    ("data-opt-nan", "replication.data",
     lambda t: ["prepare", "demo", "--root", str(t / "d"), "--no-progress", "--opt", "clip_seconds=.nan"],
     ["DemoParams.clip_seconds", "finite"]),
    ("data-opt-unknown-key", "replication.data",
     lambda t: ["prepare", "demo", "--root", str(t / "d"), "--no-progress", "--opt", "colour=red"],
     ["unknown key 'colour'"]),
    ("data-opt-no-equals", "replication.data",
     lambda t: ["prepare", "demo", "--root", str(t / "d"), "--opt", "colour"], ["--opt 'colour'"]),
    ("data-unknown-dataset", "replication.data", lambda t: ["verify", "nope"], ["nope"]),
    ("data-verify-opt-not-a-number", "replication.data",
     lambda t: ["verify", "esc50", "--root", str(t), "--no-progress", "--opt", "sample_rate=abc"],
     ["option sample_rate", "positive integer", "'abc'"]),
    ("data-verify-opt-not-a-bool", "replication.data",
     lambda t: ["verify", "esc50", "--root", str(t), "--no-progress", "--opt", "esc10_only=maybe"],
     ["option esc10_only", "true or false", "'maybe'"]),
    ("data-verify-opt-zero-fold", "replication.data",
     lambda t: ["verify", "esc50", "--root", str(t), "--no-progress", "--opt", "test_fold=0"],
     ["option test_fold"]),
    ("data-missing-root", "replication.data",
     lambda t: ["verify", "esc50", "--root", str(t / "missing"), "--no-progress"],
     ["missing", "data root not found"]),
    # --- check
    ("check-record-without-preset", "replication.check",
     lambda t: [str(_record(t / "r" / "a", preset=None).parent)], ["results.json", "'preset'"]),
    ("check-record-seed-not-int", "replication.check",
     lambda t: [str(_record(t / "r" / "a", seed="zero").parent)], ["results.json", "'seed'"]),
    ("check-record-not-json", "replication.check",
     lambda t: [str(_yaml(t / "results.json", "{not json"))], ["results.json", "not valid JSON"]),
    ("check-missing-results", "replication.check", lambda t: [str(t / "nothing")], ["nothing"]),
    ("check-no-records", "replication.check", lambda t: [str(t)], ["no results.json"]),
    ("check-nan-tolerance", "replication.check",
     lambda t: [str(_record(t / "r" / "a").parent), "--tolerance", "nan"], ["tolerance"]),
    # --- report / decisions / bench_report
    ("report-unknown-table", "replication.report", lambda t: ["--published", "paper9/table1"],
     ["paper9/table1"]),
    ("report-missing-json", "replication.report", lambda t: ["--check-json", str(t / "c.json")], ["c.json"]),
    ("report-no-markers", "replication.report",
     lambda t: ["--published", "paper1/table4", "--into", _yaml(t / "x.md", "# x\n"), "--section", "s"],
     ["x.md", "BEGIN s"]),
    ("decisions-malformed", "replication.decisions",
     lambda t: [_yaml(t / "reg.yaml", "- id: x\n")], ["reg.yaml"]),
    ("bench-report-missing-json", "replication.drivers.bench_report", lambda t: ["--after", str(t / "a.json")],
     ["a.json", "not found"]),
    # --- drivers
    ("claims-unknown-id", "replication.drivers.claims", lambda t: ["--claims", "p1-no-such", "--report-only",
                                                           "--results", str(t)], ["p1-no-such"]),
    ("claims-seeds-0", "replication.drivers.claims", lambda t: ["--seeds", "0", "--report-only", "--results", str(t)],
     ["--seeds must be >= 1"]),
    ("claims-unknown-budget", "replication.drivers.claims",
     lambda t: ["--budget", "nope", "--report-only", "--results", str(t)], ["unknown budget 'nope'"]),
    ("claims-malformed-record", "replication.drivers.claims",
     lambda t: ["--paper", "1", "--report-only", "--results", str(t),
                *([] if _record(t / "runs" / "paper1" / "table6" / "x" / "seed-0", preset=None) else [])],
     ["results.json", "'preset'"]),
    ("demo-bad-tables", "replication", lambda t: ["--tables", "paper1", "--results", str(t / "r")],
     ["'paper1'"]),
    ("demo-seeds-0", "replication", lambda t: ["--seeds", "0", "--results", str(t / "r")],
     ["--seeds must be >= 1"]),
]


def _assert_one_line(module: str, code: int, err: str, needles, expected_code: int = cli.EXIT_USAGE):
    prog = f"python -m {module}"
    lines = err.splitlines()
    assert code == expected_code, (code, err)
    assert len(lines) == 1, err
    assert lines[0].startswith(f"{prog}: error: "), err
    assert "Traceback" not in err
    for needle in needles:
        assert needle in lines[0], (needle, lines[0])


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_bad_input_is_one_line_and_exit_2(case, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)                       # nothing may be written into the checkout
    (tmp_path / "dir.yaml").mkdir()
    _id, module, argv, needles = case
    code = _main(module)(argv(tmp_path))
    _assert_one_line(module, code, capsys.readouterr().err, needles)
    assert not (tmp_path / "d").exists()             # a refused demo generation published nothing


def test_bad_zip_archive_is_one_line_and_the_extraction_exit_code(tmp_path, capsys, monkeypatch):
    """A corrupt zip (a member's CRC fails) is an extraction failure: exit 3 for replication.data."""
    import replication.data as data_cli
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as zf:
        zf.writestr("ESC-50-master/meta/esc50.csv", "filename,fold,target,category,esc10,src_file,take\n" * 50)
    raw = bytearray(buf.getvalue())
    raw[60:70] = b"X" * 10                            # inside the member's data: Bad CRC-32
    downloads = tmp_path / "dl"
    downloads.mkdir()
    (downloads / "esc.zip").write_bytes(bytes(raw))   # reused by the downloader: no network
    manifest = tmp_path / "esc50.yaml"
    manifest.write_text(yaml.safe_dump({"dataset": "esc50", "record": "test", "hash_source": None, "archives": [
        {"name": "esc.zip", "url": "http://127.0.0.1:9/esc.zip", "size": None, "md5": None,
         "strip_prefix": "ESC-50-master", "into": "."}]}))
    monkeypatch.setattr(data_cli, "_manifest_path", lambda name: manifest)
    code = data_cli.main(["prepare", "esc50", "--root", str(tmp_path / "esc50"), "--downloads", str(downloads),
                          "--no-progress"])
    captured = capsys.readouterr()
    err = "\n".join(line for line in captured.err.splitlines() if not line.startswith("WARNING: no MD5"))
    _assert_one_line("replication.data", code, err, ["esc.zip"] if "esc.zip" in err else [],
                     expected_code=data_cli.EXIT_DOWNLOAD)
    assert not (tmp_path / "esc50").exists()


def test_an_unexpected_exception_keeps_its_traceback():
    @cli.command("python -m demo.cmd")
    def main(argv=None):
        raise ZeroDivisionError("a bug")

    with pytest.raises(ZeroDivisionError):
        main([])


def test_command_specific_types_and_exit_codes(capsys):
    class Mine(Exception):
        pass

    @cli.command("python -m x", Mine, exits={KeyError: 3})
    def main(argv=None):
        raise {"mine": Mine("line one\n  line two"), "key": KeyError("no such thing")}[argv[0]]

    assert main(["mine"]) == 2
    assert capsys.readouterr().err == "python -m x: error: line one; line two\n"
    assert main(["key"]) == 3
    assert capsys.readouterr().err == "python -m x: error: no such thing\n"   # no KeyError quotes


def test_os_errors_name_their_file(capsys):
    @cli.command("python -m y")
    def main(argv=None):
        open(argv[0], encoding="utf-8")

    assert main(["/nonexistent/dir/x.yaml"]) == 2
    assert capsys.readouterr().err == "python -m y: error: /nonexistent/dir/x.yaml: No such file or directory\n"


def test_help_of_every_command_is_fast_and_starts_no_tensorflow():
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2")
    probe = ("import importlib, sys\n"
             f"for m in {[_module(c) for c in COMMANDS]!r}: importlib.import_module(m)\n"
             "print(sorted(m for m in ('tensorflow', 'keras', 'librosa') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", probe], cwd=REPO, env=env, capture_output=True,
                         text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip() == "[]", out.stdout
    times = {}
    for module in COMMANDS:
        start = time.perf_counter()
        proc = subprocess.run([sys.executable, "-m", module, "--help"], cwd=REPO, env=env,
                              capture_output=True, text=True, timeout=60)
        times[module] = time.perf_counter() - start
        assert proc.returncode == 0 and "usage:" in proc.stdout, (module, proc.stderr[-2000:])
    print("--help seconds: " + ", ".join(f"{m} {s:.2f}" for m, s in times.items()))
    slow = {m: round(s, 2) for m, s in times.items() if s > HELP_BOUND_S}
    assert not slow, slow
