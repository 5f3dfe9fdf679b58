"""Disk facts: fingerprints, writers still at work, the folder walk."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from fastapi_hot_reload._middleware.changes import disk as _files
from fastapi_hot_reload._middleware.changes.disk import MISSING, being_written, fingerprint, walk


def test_fingerprint_follows_the_bytes_not_the_write(tmp_path: Path) -> None:
    path = tmp_path / "a.html"
    path.write_text("same")
    before = fingerprint(path)
    path.write_text("same")

    assert fingerprint(path) == before
    path.write_text("other")
    assert fingerprint(path) != before
    assert fingerprint(tmp_path / "gone.html") == MISSING
    assert fingerprint(tmp_path) is None  # a folder: always a change


def test_files_too_big_to_hash_always_count_as_changed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_files, "MAX_HASHED_BYTES", 3)
    (tmp_path / "video.mp4").write_bytes(b"1234")

    assert fingerprint(tmp_path / "video.mp4") is None


def test_a_file_open_for_writing_is_being_written(tmp_path: Path) -> None:
    path = tmp_path / "a.html"
    with path.open("w") as file:
        file.write("half")
        file.flush()
        assert being_written(path)
    assert not being_written(path)
    assert not being_written(tmp_path / "gone.html")
    assert not being_written(tmp_path)  # no lease on a folder: we cannot tell


def test_walk_skips_noise_and_names_that_are_not_text(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "a.css").write_text("")
    (tmp_path / "skip").mkdir()
    (tmp_path / "skip" / "b.css").write_text("")
    (tmp_path / "c.css").write_text("")
    with open(os.path.join(os.fsencode(tmp_path), b"bad-\xff.css"), "w"):
        pass

    def keep(path: Path) -> bool:
        return path.name != "skip"

    assert sorted(walk(tmp_path, keep, 10)) == [tmp_path / "c.css", tmp_path / "sub" / "a.css"]
    assert len(list(walk(tmp_path, keep, 1))) == 1
