"""`python -m replication.data`: exit codes, messages, prepare demo, prepare from a local server."""

from __future__ import annotations

import hashlib
import io
import threading
import zipfile
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

import numpy as np
import pytest
import soundfile as sf
import yaml

from replication import data as cli

DEMO_OPTS = ["--opt", "train_per_class=2", "--opt", "evaluate_per_class=1",
             "--opt", "clip_seconds=0.5", "--opt", "sample_rate=8000"]


def test_unknown_dataset_and_bad_option_exit_2(capsys):
    assert cli.main(["verify", "nope", "--no-progress"]) == cli.EXIT_USAGE
    assert "known: dcase2018_task1a, demo, esc50, fsdkaggle2018" in capsys.readouterr().err
    assert cli.main(["download", "demo"]) == cli.EXIT_USAGE
    assert cli.main(["verify", "esc50", "--opt", "nokey"]) == cli.EXIT_USAGE


def test_prepare_demo_then_verify_then_detect_damage(tmp_path, capsys):
    root = tmp_path / "demo"
    assert cli.main(["prepare", "demo", "--root", str(root), "--no-progress", *DEMO_OPTS]) == 0
    assert "verify: OK" in capsys.readouterr().out
    assert cli.main(["verify", "demo", "--root", str(root), "--no-progress", "--strict"]) == 0
    victim = sorted((root / "audio").iterdir())[0]
    victim.write_bytes(b"")
    assert cli.main(["verify", "demo", "--root", str(root), "--no-progress"]) == cli.EXIT_VERIFY
    out = capsys.readouterr().out
    assert victim.name in out and "zero-length" in out and "verify: FAILED" in out


def test_verify_esc10_fixture_through_the_cli(esc10_root, capsys):
    args = ["verify", "esc50", "--root", str(esc10_root), "--no-progress", "--quick",
            "--opt", "esc10_only=true", "--opt", "sample_rate=22050"]
    assert cli.main(args) == 0
    assert "400 audio file(s) checked, 0 error(s)" in capsys.readouterr().out


@pytest.fixture
def esc_server(tmp_path):
    """Serves a tiny ESC-50-shaped zip from tmp_path/www on an ephemeral port."""
    www = tmp_path / "www"
    www.mkdir()
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        rows = ["filename,fold,target,category,esc10,src_file,take"]
        for fold in (1, 2):
            name = f"{fold}-1000{fold}-A-0.wav"
            rows.append(f"{name},{fold},0,dog,True,1000{fold},A")
            wav = io.BytesIO()
            sf.write(wav, 0.1 * np.sin(np.arange(220500) / 10.0), 44100, subtype="PCM_16", format="WAV")
            zf.writestr(f"ESC-50-master/audio/{name}", wav.getvalue())
        zf.writestr("ESC-50-master/meta/esc50.csv", "\n".join(rows) + "\n")
    (www / "esc.zip").write_bytes(buf.getvalue())
    handler = partial(type("Quiet", (SimpleHTTPRequestHandler,), {"log_message": lambda *a: None}),
                      directory=str(www))
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield www / "esc.zip", f"http://127.0.0.1:{httpd.server_address[1]}/esc.zip"
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=5)


def _manifest(tmp_path, url, md5):
    path = tmp_path / "esc50.yaml"
    path.write_text(yaml.safe_dump({"dataset": "esc50", "record": "test", "hash_source": None, "archives": [
        {"name": "esc.zip", "url": url, "size": None, "md5": md5, "strip_prefix": "ESC-50-master", "into": "."}]}))
    return path


def test_prepare_downloads_extracts_and_verifies(esc_server, tmp_path, monkeypatch, capsys):
    archive, url = esc_server
    monkeypatch.setattr(cli, "_manifest_path", lambda name: _manifest(tmp_path, url, hashlib.md5(archive.read_bytes()).hexdigest()))
    root, dl = tmp_path / "esc50", tmp_path / "dl"
    code = cli.main(["prepare", "esc50", "--root", str(root), "--downloads", str(dl), "--no-progress"])
    out = capsys.readouterr().out
    assert (root / "meta" / "esc50.csv").is_file() and (root / "audio" / "1-10001-A-0.wav").is_file()
    assert code == cli.EXIT_VERIFY                   # 2 clips are not the official 2000: said loudly
    assert "official count is 1600" in out and "2 audio file(s) checked" in out
    assert cli.main(["prepare", "esc50", "--root", str(root), "--downloads", str(dl),
                     "--no-progress"]) == cli.EXIT_VERIFY
    assert "already extracted" in capsys.readouterr().out


def test_prepare_refuses_a_corrupt_archive(esc_server, tmp_path, monkeypatch, capsys):
    _archive, url = esc_server
    monkeypatch.setattr(cli, "_manifest_path", lambda name: _manifest(tmp_path, url, "0" * 32))
    root, dl = tmp_path / "esc50", tmp_path / "dl"
    assert cli.main(["prepare", "esc50", "--root", str(root), "--downloads", str(dl),
                     "--no-progress"]) == cli.EXIT_DOWNLOAD
    assert "esc.zip" in capsys.readouterr().err
    assert not root.exists() and list(dl.iterdir()) == []


def test_missing_md5_is_announced(esc_server, tmp_path, monkeypatch, capsys):
    _archive, url = esc_server
    monkeypatch.setattr(cli, "_manifest_path", lambda name: _manifest(tmp_path, url, None))
    assert cli.main(["download", "esc50", "--downloads", str(tmp_path / "dl"), "--no-progress"]) == 0
    assert "no MD5 known for esc.zip" in capsys.readouterr().err
