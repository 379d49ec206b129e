"""The one atomic writer: whole content or the old one, never half, and no debris."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from spo_gitops import fsutil
from spo_gitops.fsutil import write_atomic


def test_writes_text_and_bytes_with_the_given_mode(tmp_path: Path) -> None:
    target = tmp_path / "deep" / "er" / "plan.json"
    write_atomic(target, "héllo\n")
    assert target.read_bytes() == "héllo\n".encode()
    assert stat.S_IMODE(target.stat().st_mode) == 0o644
    write_atomic(target, b"\x00\x01", mode=0o600, durable=True)
    assert target.read_bytes() == b"\x00\x01"
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert sorted(p.name for p in target.parent.iterdir()) == ["plan.json"]


def test_a_failed_write_keeps_the_old_content_and_leaves_no_temporary_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "CODEOWNERS"
    target.write_text("old\n")

    def broken_replace(src: str, dst: str) -> None:  # the fault: the disk refuses the rename
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(fsutil.os, "replace", broken_replace)
    with pytest.raises(OSError, match="No space left"):
        write_atomic(target, "new\n", suffix=".spo-tmp")
    assert target.read_text() == "old\n"
    assert [p.name for p in tmp_path.iterdir()] == ["CODEOWNERS"]


def test_a_fifo_is_written_in_place_not_replaced(tmp_path: Path) -> None:
    fifo = tmp_path / "out"
    os.mkfifo(fifo)
    reader = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)
    try:
        write_atomic(fifo, "through\n")
        assert os.read(reader, 100) == b"through\n"
    finally:
        os.close(reader)
    assert stat.S_ISFIFO(fifo.stat().st_mode)
