import functools
import hashlib
import http.server
import os
import threading
from pathlib import Path

import pytest

from reprobook import data

MIRROR = os.environ.get("REPROBOOK_DATA_MIRROR")


@pytest.fixture
def isolated(tmp_path, monkeypatch):
    """A private cache and a one-entry registry whose file lives in a private mirror."""
    content = b"a,b\n1,2\n"
    entry = data.Dataset("toy/table.csv", "http://127.0.0.1:9/toy/table.csv",
                         hashlib.sha256(content).hexdigest(), "CC0", "nobody")
    monkeypatch.setitem(data.REGISTRY, entry.name, entry)
    monkeypatch.setenv("REPROBOOK_DATA_DIR", str(tmp_path / "cache"))
    mirror = tmp_path / "mirror"
    (mirror / "toy").mkdir(parents=True)
    monkeypatch.delenv("REPROBOOK_DATA_MIRROR", raising=False)
    return entry, content, mirror


def test_registry_entries_name_their_origin_and_checksum():
    assert len(data.REGISTRY) >= 9
    for name, entry in data.REGISTRY.items():
        assert entry.name == name
        assert entry.url.startswith("https://")
        assert len(entry.sha256) == 64 and int(entry.sha256, 16) >= 0
        assert entry.licence and entry.citation


def test_mirror_is_used_and_verified(isolated, monkeypatch):
    entry, content, mirror = isolated
    (mirror / entry.name).write_bytes(content)
    monkeypatch.setenv("REPROBOOK_DATA_MIRROR", str(mirror))
    assert data.fetch(entry.name) == mirror / entry.name


def test_checksum_mismatch_is_an_error(isolated, monkeypatch):
    entry, content, mirror = isolated
    (mirror / entry.name).write_bytes(content + b"tampered")
    monkeypatch.setenv("REPROBOOK_DATA_MIRROR", str(mirror))
    with pytest.raises(data.ChecksumError, match="toy/table.csv"):
        data.fetch(entry.name)


def test_offline_without_mirror_says_what_and_how(isolated):
    entry, _, _ = isolated
    with pytest.raises(data.DataUnavailableError) as error:
        data.fetch(entry.name)
    message = str(error.value)
    assert entry.name in message and entry.url in message and "REPROBOOK_DATA_MIRROR" in message


def test_unknown_names_list_the_registry():
    with pytest.raises(KeyError, match="registered datasets are"):
        data.fetch("no/such/file.csv")


@pytest.fixture
def served(isolated, monkeypatch, tmp_path):
    """The registered file served over HTTP at its (local) address."""
    entry, content, _ = isolated
    folder = tmp_path / "served"
    (folder / "toy").mkdir(parents=True)
    (folder / "toy" / "table.csv").write_bytes(content)
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(folder))
    handler.log_message = lambda *args: None
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    local = data.Dataset(entry.name, f"http://127.0.0.1:{httpd.server_address[1]}/toy/table.csv",
                         entry.sha256, entry.licence, entry.citation)
    monkeypatch.setitem(data.REGISTRY, entry.name, local)
    yield local
    httpd.shutdown()


def test_download_goes_to_the_cache(isolated, served):
    entry, content, _ = isolated
    path = data.fetch(entry.name)
    assert path == Path(os.environ["REPROBOOK_DATA_DIR"]) / entry.name
    assert path.read_bytes() == content
    assert not list(path.parent.glob("*.part"))


@pytest.mark.skipif(MIRROR is None, reason="needs a data mirror (REPROBOOK_DATA_MIRROR)")
def test_mirrored_files_match_the_registry():
    present = [name for name in data.REGISTRY if (Path(MIRROR) / name).exists()]
    assert present, f"the mirror {MIRROR} holds none of the registered files"
    for name in present:
        assert data.sha256_of(Path(MIRROR) / name) == data.REGISTRY[name].sha256


def flip_a_byte(path: Path, position: int = 2) -> None:
    blob = bytearray(path.read_bytes())
    blob[position] ^= 0x01
    path.write_bytes(bytes(blob))


def test_a_corrupt_cached_file_is_replaced_from_the_mirror(isolated, monkeypatch):
    entry, content, mirror = isolated
    (mirror / entry.name).write_bytes(content)
    cached = Path(os.environ["REPROBOOK_DATA_DIR"]) / entry.name
    cached.parent.mkdir(parents=True)
    cached.write_bytes(content)
    assert data.fetch(entry.name) == cached
    flip_a_byte(cached)
    monkeypatch.setenv("REPROBOOK_DATA_MIRROR", str(mirror))
    with pytest.warns(data.DataWarning, match="does not match its sha256"):
        path = data.fetch(entry.name)
    assert path == cached and cached.read_bytes() == content, "the cache is healed from the mirror"
    assert not list(cached.parent.glob("*.part"))


def test_a_corrupt_cached_file_is_replaced_from_its_address(isolated, served):
    entry, content, _ = isolated
    cached = Path(os.environ["REPROBOOK_DATA_DIR"]) / entry.name
    cached.parent.mkdir(parents=True)
    cached.write_bytes(content)
    flip_a_byte(cached, 0)
    with pytest.warns(data.DataWarning, match="fresh download"):
        assert data.fetch(entry.name) == cached
    assert cached.read_bytes() == content


def test_a_corrupt_mirror_copy_is_skipped_for_the_address(isolated, served, monkeypatch):
    entry, content, mirror = isolated
    (mirror / entry.name).write_bytes(content)
    flip_a_byte(mirror / entry.name)
    monkeypatch.setenv("REPROBOOK_DATA_MIRROR", str(mirror))
    with pytest.warns(data.DataWarning, match="mirror copy"):
        path = data.fetch(entry.name)
    assert path == Path(os.environ["REPROBOOK_DATA_DIR"]) / entry.name and path.read_bytes() == content


def test_only_corrupt_copies_and_no_address_is_a_checksum_error(isolated, monkeypatch):
    entry, content, mirror = isolated
    cached = Path(os.environ["REPROBOOK_DATA_DIR"]) / entry.name
    cached.parent.mkdir(parents=True)
    cached.write_bytes(content + b"x")
    with pytest.warns(data.DataWarning), pytest.raises(data.ChecksumError) as error:
        data.fetch(entry.name)
    assert "corrupt" in str(error.value) and entry.url in str(error.value)
    assert not cached.exists(), "a corrupt copy is not kept"
