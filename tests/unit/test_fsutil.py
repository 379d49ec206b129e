"""The one atomic writer: whole content or the old one, never half, and no debris."""

from __future__ import annotations

import contextlib
import os
import stat
import threading
from pathlib import Path

import pytest

from spo_gitops import fsutil
from spo_gitops.fsutil import read_limited, write_atomic


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


@pytest.mark.parametrize("size", [0, 1, 99, 100, 101, 250_000])
def test_read_limited_reads_at_most_one_byte_more_than_the_limit(tmp_path: Path, size: int) -> None:
    content = bytes(i % 251 for i in range(size))
    path = tmp_path / "f.yaml"
    path.write_bytes(content)
    assert read_limited(path, 100) == content[:101]
    assert read_limited(path, 1 << 20) == content


def test_read_limited_reads_what_has_no_size(tmp_path: Path) -> None:
    # /proc files report a size of 0 and still have content; a FIFO streams it
    status = read_limited("/proc/self/status", 1 << 20)
    assert status.startswith(b"Name:") and status.endswith(b"\n")
    assert len(read_limited("/proc/self/status", 9)) == 10
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    payload = b"x" * 200_000

    def write() -> None:
        with contextlib.suppress(BrokenPipeError):  # the reader stops at the limit
            fifo.write_bytes(payload)

    writer = threading.Thread(target=write)
    writer.start()
    assert read_limited(fifo, 150_000) == payload[:150_001]
    writer.join(timeout=10)
    assert not writer.is_alive()


def test_read_limited_fails_as_open_does(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        read_limited(tmp_path / "missing.yaml", 10)
    with pytest.raises(IsADirectoryError):
        read_limited(tmp_path, 10)
