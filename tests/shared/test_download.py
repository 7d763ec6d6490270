"""Download (MD5, truncation, resume) against a local HTTP server, and safe extraction."""

from __future__ import annotations

import hashlib
import io
import stat
import tarfile
import threading
import zipfile
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from shared.download import (ArchiveEntry, DownloadError, Manifest, download_archive,
                             extract_archive, install_archives, is_installed, load_manifest)


class _Handler(BaseHTTPRequestHandler):
    files: dict[str, bytes] = {}
    truncate_to: int | None = None      # send only this many body bytes (Content-Length stays full)
    honour_range = True
    ranges: list[str] = []

    def log_message(self, *args):       # keep pytest output clean
        pass

    def do_GET(self):
        body = self.files.get(self.path.lstrip("/"))
        if body is None:
            self.send_error(404)
            return
        start = 0
        rng = self.headers.get("Range")
        if rng:
            self.ranges.append(rng)
        if rng and self.honour_range:
            start = int(rng.split("=")[1].split("-")[0])
            if start >= len(body):
                self.send_response(416)
                self.end_headers()
                return
            self.send_response(206)
            self.send_header("Content-Range", f"bytes {start}-{len(body) - 1}/{len(body)}")
        else:
            self.send_response(200)
        self.send_header("Content-Length", str(len(body) - start))
        self.end_headers()
        payload = body[start:]
        if self.truncate_to is not None:
            payload = payload[:self.truncate_to]
        self.wfile.write(payload)
        self.wfile.flush()
        if self.truncate_to is not None:
            self.close_connection = True


@pytest.fixture
def server():
    handler = type("Handler", (_Handler,), {"files": {}, "ranges": [], "truncate_to": None,
                                            "honour_range": True})
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield handler, f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=5)


def _zip_bytes(members: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return buf.getvalue()


def _entry(base: str, name: str, data: bytes, md5: str | None = "auto", **kw) -> ArchiveEntry:
    digest = hashlib.md5(data).hexdigest() if md5 == "auto" else md5
    return ArchiveEntry(name=name, url=f"{base}/{name}", size=kw.pop("size", len(data)), md5=digest, **{
        "strip_prefix": None, **kw})


def test_good_archive_downloads_verifies_and_extracts(server, tmp_path):
    handler, base = server
    data = _zip_bytes({"pkg/meta.csv": b"a\tb\n", "pkg/audio/x.txt": b"hello"})
    handler.files["good.zip"] = data
    entry = _entry(base, "good.zip", data, strip_prefix="pkg")
    path = download_archive(entry, tmp_path / "dl", progress=False)
    assert path.read_bytes() == data
    manifest = Manifest("toy", "", None, (entry,))
    root = install_archives(manifest, {"good.zip": path}, tmp_path / "root")
    assert (root / "meta.csv").read_bytes() == b"a\tb\n"
    assert (root / "audio" / "x.txt").read_bytes() == b"hello"
    assert is_installed(root, manifest)
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".root.partial")]


def test_wrong_md5_is_refused_and_leaves_no_file(server, tmp_path):
    handler, base = server
    data = _zip_bytes({"a.txt": b"payload"})
    handler.files["bad.zip"] = data
    entry = _entry(base, "bad.zip", data, md5="0" * 32)
    with pytest.raises(DownloadError, match="bad.zip"):
        download_archive(entry, tmp_path / "dl", progress=False)
    assert list((tmp_path / "dl").iterdir()) == []


def test_truncated_transfer_is_refused(server, tmp_path):
    handler, base = server
    data = bytes(range(256)) * 400
    handler.files["cut.zip"] = data
    handler.truncate_to = 1000
    entry = _entry(base, "cut.zip", data)
    with pytest.raises(DownloadError, match="cut.zip"):
        download_archive(entry, tmp_path / "dl", progress=False)
    assert not (tmp_path / "dl" / "cut.zip").exists()          # never looks complete
    part = tmp_path / "dl" / "cut.zip.part"
    assert part.exists() and part.stat().st_size < len(data)    # kept for resume


def test_resume_continues_a_partial_file_with_range(server, tmp_path):
    handler, base = server
    data = bytes(range(256)) * 400
    handler.files["big.zip"] = data
    dl = tmp_path / "dl"
    dl.mkdir()
    (dl / "big.zip.part").write_bytes(data[:30000])
    path = download_archive(_entry(base, "big.zip", data), dl, progress=False)
    assert path.read_bytes() == data
    assert handler.ranges == ["bytes=30000-"]
    assert not (dl / "big.zip.part").exists()


def test_resume_with_a_corrupt_partial_file_is_refused(server, tmp_path):
    handler, base = server
    data = bytes(range(256)) * 400
    handler.files["big.zip"] = data
    dl = tmp_path / "dl"
    dl.mkdir()
    (dl / "big.zip.part").write_bytes(b"\xff" * 30000)          # wrong bytes on disk
    with pytest.raises(DownloadError):
        download_archive(_entry(base, "big.zip", data), dl, progress=False)
    assert list(dl.iterdir()) == []


def test_server_without_range_support_restarts(server, tmp_path):
    handler, base = server
    data = bytes(range(256)) * 100
    handler.files["a.zip"] = data
    handler.honour_range = False
    dl = tmp_path / "dl"
    dl.mkdir()
    (dl / "a.zip.part").write_bytes(data[:500])
    assert download_archive(_entry(base, "a.zip", data), dl, progress=False).read_bytes() == data


@pytest.mark.parametrize("member", ["../evil.txt", "/abs/evil.txt", "ok/../../evil.txt"])
def test_zip_with_escaping_path_is_rejected(tmp_path, member):
    archive = tmp_path / "evil.zip"
    archive.write_bytes(_zip_bytes({"fine.txt": b"x", member: b"bad"}))
    with pytest.raises(DownloadError, match="unsafe path"):
        extract_archive(archive, tmp_path / "out")
    assert not (tmp_path / "out").exists()
    assert not (tmp_path / "evil.txt").exists()
    assert [p.name for p in tmp_path.iterdir()] == ["evil.zip"]   # staging removed


def test_zip_symlink_is_rejected(tmp_path):
    archive = tmp_path / "link.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        info = zipfile.ZipInfo("link")
        info.external_attr = (stat.S_IFLNK | 0o777) << 16
        zf.writestr(info, "/etc/passwd")
    with pytest.raises(DownloadError, match="symbolic link"):
        extract_archive(archive, tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_tar_symlink_and_dotdot_are_rejected(tmp_path):
    for name, kind in (("link", tarfile.SYMTYPE), ("../up.txt", tarfile.REGTYPE)):
        archive = tmp_path / "t.tar"
        with tarfile.open(archive, "w") as tf:
            info = tarfile.TarInfo(name)
            info.type = kind
            info.linkname = "../../outside" if kind == tarfile.SYMTYPE else ""
            tf.addfile(info, io.BytesIO(b"") if kind == tarfile.REGTYPE else None)
        with pytest.raises(DownloadError):
            extract_archive(archive, tmp_path / "out")
        assert not (tmp_path / "out").exists()


def test_tar_extracts_with_strip_prefix(tmp_path):
    archive = tmp_path / "ok.tar.gz"
    with tarfile.open(archive, "w:gz") as tf:
        info = tarfile.TarInfo("top/sub/a.txt")
        info.size = 3
        tf.addfile(info, io.BytesIO(b"abc"))
    out = extract_archive(archive, tmp_path / "out", strip_prefix="top")
    assert (out / "sub" / "a.txt").read_bytes() == b"abc"


def test_member_outside_strip_prefix_is_an_error(tmp_path):
    archive = tmp_path / "a.zip"
    archive.write_bytes(_zip_bytes({"top/a.txt": b"1", "other/b.txt": b"2"}))
    with pytest.raises(DownloadError, match="other/b.txt"):
        extract_archive(archive, tmp_path / "out", strip_prefix="top")
    assert not (tmp_path / "out").exists()


def test_existing_incomplete_root_is_not_overwritten(tmp_path):
    archive = tmp_path / "a.zip"
    archive.write_bytes(_zip_bytes({"a.txt": b"1"}))
    entry = ArchiveEntry("a.zip", "http://unused/a.zip", None, None, None)
    root = tmp_path / "root"
    root.mkdir()
    (root / "mine.txt").write_text("user data")
    with pytest.raises(DownloadError, match="not completed"):
        install_archives(Manifest("toy", "", None, (entry,)), {"a.zip": archive}, root)
    assert (root / "mine.txt").read_text() == "user data"


def test_repository_manifests_load_and_dcase_hashes_are_complete():
    repo = Path(__file__).resolve().parents[2] / "data" / "manifests"
    dcase = load_manifest(repo / "dcase2018_task1a.yaml")
    names = [a.name for a in dcase.archives]
    assert names[:2] == ["TUT-urban-acoustic-scenes-2018-development.doc.zip",
                         "TUT-urban-acoustic-scenes-2018-development.meta.zip"]
    assert len(names) == 15 and dcase.fully_hashed
    assert all(a.size and a.url.startswith("https://zenodo.org/record/1228142/") for a in dcase.archives)
    for name in ("fsdkaggle2018", "esc50"):
        assert load_manifest(repo / f"{name}.yaml").dataset == name


def test_manifest_with_bad_md5_is_rejected(tmp_path):
    path = tmp_path / "m.yaml"
    path.write_text("dataset: x\nrecord: r\nhash_source: null\narchives:\n"
                    "- {name: a.zip, url: 'http://h/a.zip', md5: NOTHEX}\n")
    with pytest.raises(DownloadError, match="md5"):
        load_manifest(path)
