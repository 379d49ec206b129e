"""``files``: rendered artifacts (documents, configuration) written into a directory.

One resource type, ``file``. Its id is the path relative to the directory (``path``, or the
resource name when there is no ``path``). Files are written atomically: a temporary file in the
same folder, fsync, then ``os.replace``; a reader sees the old content or the new, never half.
A temporary file is named ``.<file>.<random>.<pid>.spo-tmp``; one left behind by a process that
was killed mid-write (its pid no longer runs) is removed when the provider is next set up.
Reading returns ``path`` and ``content`` (and ``mode`` when the permission bits are not 0644), so
an edit made by hand shows as drift. A file that exists already is adopted: overwritten.

Settings: ``directory`` (default ``.spo/artifacts``, relative to the project root).
"""

from __future__ import annotations

import os
import re
import stat
import tempfile
from collections.abc import Mapping
from pathlib import Path, PurePosixPath
from typing import Any, ClassVar

from pydantic import Field

from spo_gitops.providers.base import (
    Observed,
    Provider,
    ProviderContext,
    ProviderError,
    ProviderSettings,
    ResourceType,
)

DEFAULT_MODE = 0o644
_TMP_SUFFIX = ".spo-tmp"
# relative, "/"-separated, no empty, "." or ".." segment, no backslash, no control character
# (a NUL or a line break in a path is refused by spo validate, not only at apply)
_CHAR = r"[^/\\\x00-\x1f\x7f]"
_SEGMENT = rf"{_CHAR}*[^/\\.\x00-\x1f\x7f]{_CHAR}*"
PATH_PATTERN = rf"^{_SEGMENT}(/{_SEGMENT})*$"

FILE = ResourceType(
    "file",
    {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "type": "object",
        "description": "A file in the provider's directory.",
        "properties": {
            "path": {
                "type": "string",
                "pattern": PATH_PATTERN,
                "maxLength": 1024,
                "description": "Path relative to the directory, '/'-separated, no '..', no "
                "control characters (default: the resource name).",
            },
            "content": {"type": "string", "description": "The text of the file (UTF-8)."},
            "mode": {
                "type": "string",
                "pattern": "^0[0-7]{3}$",
                "not": {"const": "0644"},
                "description": "Permission bits in octal, four digits, e.g. 0600; leave out for "
                "0644 (the default), so that what is read back equals what was written.",
            },
        },
        "required": ["content"],
        "additionalProperties": False,
    },
    "A text file, written atomically.",
    replace_on=frozenset({"path"}),
)


class FilesSettings(ProviderSettings):
    directory: str = Field(
        default=".spo/artifacts",
        description="Folder the files are written to, relative to the project root.",
    )


class FilesProvider(Provider):
    """Rendered artifacts in a directory, written atomically."""

    name = "files"
    settings_model = FilesSettings
    types: ClassVar[Mapping[str, ResourceType]] = {"file": FILE}

    def __init__(self, settings: ProviderSettings, context: ProviderContext) -> None:
        super().__init__(settings, context)
        assert isinstance(settings, FilesSettings)
        directory = Path(settings.directory).expanduser()
        self.root = directory if directory.is_absolute() else context.project_root / directory
        self.removed_debris = self._remove_debris()

    # --- paths -------------------------------------------------------------------------------

    def _target(self, rel: str) -> Path:
        """The file for a relative path; refuses anything that could leave the directory."""
        pure = PurePosixPath(rel)
        if (
            not rel
            or not re.fullmatch(PATH_PATTERN, rel)
            or pure.is_absolute()
            or any(part in ("..", ".") for part in rel.split("/"))
            or "" in rel.split("/")
        ):
            raise ProviderError(
                f"files: refusing path {rel!r}: it must be relative to the directory, "
                "'/'-separated, without '..', '.' or empty segments"
            )
        target = self.root.joinpath(*pure.parts)
        root = self.root.resolve()
        if not target.resolve().is_relative_to(root):  # a symbolic link pointing outside
            raise ProviderError(f"files: refusing path {rel!r}: it leads outside {self.root}")
        return target

    @staticmethod
    def _rel_of(name: str, properties: Mapping[str, Any]) -> str:
        path = properties.get("path", name)
        if not isinstance(path, str):
            raise ProviderError(f"files.file.{name}: path must be a string")
        return path

    @staticmethod
    def _mode(name: str, properties: Mapping[str, Any]) -> int:
        raw = properties.get("mode")
        if raw is None:
            return DEFAULT_MODE
        try:
            mode = int(str(raw), 8)
        except ValueError:
            mode = -1
        if not 0 <= mode <= 0o777:
            raise ProviderError(f"files.file.{name}: mode {raw!r} is not octal permission bits")
        return mode

    # --- file system -------------------------------------------------------------------------

    def _observe(self, rel: str, target: Path) -> Observed | None:
        try:
            st = target.stat()
            if not stat.S_ISREG(st.st_mode):
                return None
            content = target.read_bytes().decode("utf-8", errors="replace")
        except (FileNotFoundError, NotADirectoryError):
            return None
        except OSError as e:
            raise ProviderError(f"files: cannot read {rel}: {e.strerror}") from e
        props: dict[str, Any] = {"path": rel, "content": content}
        mode = stat.S_IMODE(st.st_mode)
        if mode != DEFAULT_MODE:
            props["mode"] = f"{mode:04o}"
        return Observed(rel, rel, props)

    def _write(self, rel: str, target: Path, content: str, mode: int) -> None:
        data = content.encode("utf-8")
        try:
            st = target.stat()
            if (
                stat.S_ISREG(st.st_mode)
                and stat.S_IMODE(st.st_mode) == mode
                and target.read_bytes() == data
            ):
                return  # already what is wanted: nothing to write
        except (FileNotFoundError, NotADirectoryError):
            pass
        except OSError as e:
            raise ProviderError(f"files: cannot read {rel}: {e.strerror}") from e
        for attempt in range(3):  # a concurrent delete may remove an emptied parent meanwhile
            try:
                target.parent.mkdir(parents=True, exist_ok=True)
                fd, tmp = tempfile.mkstemp(
                    prefix=f".{target.name}.",
                    suffix=f".{os.getpid()}{_TMP_SUFFIX}",
                    dir=target.parent,
                )
            except FileNotFoundError:
                if attempt == 2:
                    raise ProviderError(f"files: cannot create the folder of {rel}") from None
                continue
            except OSError as e:
                raise ProviderError(f"files: cannot write {rel}: {e.strerror}") from e
            break
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
                fh.flush()
                os.fchmod(fh.fileno(), mode)
                os.fsync(fh.fileno())
            os.replace(tmp, target)
        except OSError as e:
            Path(tmp).unlink(missing_ok=True)
            raise ProviderError(f"files: cannot write {rel}: {e.strerror}") from e
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        self._fsync_dir(target.parent)

    @staticmethod
    def _fsync_dir(directory: Path) -> None:
        try:
            fd = os.open(directory, os.O_RDONLY)
        except OSError:
            return
        try:
            os.fsync(fd)
        except OSError:
            pass  # not every file system can sync a directory
        finally:
            os.close(fd)

    def _remove_debris(self) -> list[str]:
        """Remove the temporary files of writes whose process is gone (killed mid-write);
        returns their paths relative to the directory."""
        removed: list[str] = []
        if not self.root.is_dir():
            return removed
        for folder, _dirs, files in os.walk(self.root):
            for fname in files:
                if not (fname.startswith(".") and fname.endswith(_TMP_SUFFIX)):
                    continue
                owner = fname[: -len(_TMP_SUFFIX)].rsplit(".", 1)[-1]
                if owner.isdigit() and _running(int(owner)):
                    continue  # a write in progress (another apply, another partition)
                full = Path(folder, fname)
                try:
                    full.unlink()
                except OSError:
                    continue
                removed.append(full.relative_to(self.root).as_posix())
        return sorted(removed)

    def _remove(self, target: Path) -> None:
        try:
            target.unlink()
        except (FileNotFoundError, NotADirectoryError):
            pass
        except IsADirectoryError:
            return  # not ours: a folder is never a managed file
        parent = target.parent
        while parent != self.root and parent.is_relative_to(self.root):
            try:
                parent.rmdir()
            except OSError:
                break  # not empty (or already gone): stop climbing
            parent = parent.parent

    # --- the contract ------------------------------------------------------------------------

    def read(self, type_: str, id_: str) -> Observed | None:
        self.resource_type(type_)
        return self._observe(id_, self._target(id_))

    def create(self, type_: str, name: str, properties: Mapping[str, Any]) -> Observed:
        self.resource_type(type_)
        rel = self._rel_of(name, properties)
        target = self._target(rel)
        content = properties.get("content")
        if not isinstance(content, str):
            raise ProviderError(f"files.file.{name}: content must be a string")
        self._write(rel, target, content, self._mode(name, properties))
        observed = self._observe(rel, target)
        if observed is None:
            raise ProviderError(f"files: {rel} vanished right after it was written")
        return observed

    def update(self, type_: str, id_: str, name: str, properties: Mapping[str, Any]) -> Observed:
        self.resource_type(type_)
        old = self._target(id_)
        if not old.is_file():
            raise ProviderError(f"files.file.{name}: not found ({id_})")
        observed = self.create(type_, name, properties)
        if observed.id != id_:  # moved: the old file goes
            self._remove(old)
        return observed

    def delete(self, type_: str, id_: str) -> None:
        self.resource_type(type_)
        self._remove(self._target(id_))

    def list(self, type_: str) -> list[Observed]:
        self.resource_type(type_)
        out: list[Observed] = []
        if not self.root.is_dir():
            return out
        for folder, dirs, files in os.walk(self.root):
            dirs.sort()
            for fname in sorted(files):
                if fname.startswith(".") and fname.endswith(_TMP_SUFFIX):
                    continue
                full = Path(folder, fname)
                rel = full.relative_to(self.root).as_posix()
                observed = self._observe(rel, full)
                if observed is not None:
                    out.append(observed)
        return out


def _running(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # another user's process
    except (OverflowError, OSError):
        return False
    return True
