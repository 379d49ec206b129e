"""All git access of the toolkit: the ``git`` command, with git's environment under control.

Every call is a ``git`` process (blobs are read through one ``git cat-file --batch`` process per
open repository), so no git library is imported: GitPython cost about 90 ms of the start-up of
every command that reads the repository, and ran the same processes.

Git hooks and wrappers (pre-commit, ``git rebase -x``) export ``GIT_DIR``, ``GIT_INDEX_FILE``,
``GIT_WORK_TREE`` and friends; inherited, they would point our git calls at somebody else's
repository or index. As pre-commit's ``git.py`` does, every call here runs with those variables
stripped (a few that only say *how* to reach git or a remote are kept).
"""

from __future__ import annotations

import io
import os
import re
import subprocess
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import IO

from spo_gitops.errors import SpoError

# Kept: they choose the git binary, its transport or its credentials prompt, not the repository.
_KEEP = frozenset(
    {
        "GIT_EXEC_PATH",
        "GIT_SSH",
        "GIT_SSH_COMMAND",
        "GIT_SSL_CAINFO",
        "GIT_SSL_NO_VERIFY",
        "GIT_ASKPASS",
        "GIT_TERMINAL_PROMPT",
        "GIT_CONFIG_NOSYSTEM",
        "GIT_HTTP_PROXY_AUTHMETHOD",
    }
)


GIT = "git"  # found on PATH, as every git tool finds it


class GitError(SpoError, RuntimeError):
    """Git cannot do what was asked: not a repository, unknown revision, failed commit."""


def no_git_env(environ: dict[str, str] | os._Environ[str] | None = None) -> dict[str, str]:
    """A copy of ``environ`` (default: this process's) without the inherited ``GIT_*`` settings."""
    env = dict(os.environ if environ is None else environ)
    return {k: v for k, v in env.items() if not k.startswith("GIT_") or k in _KEEP}


def _env() -> dict[str, str]:
    """The environment of a git command whose output or messages are read: git's own, in the
    C locale (the messages in English, as the error handling reads them)."""
    env = no_git_env()
    env.update(LC_ALL="C", LANGUAGE="C")
    return env


@dataclass
class Repository:
    """A working tree and its history; open it with :func:`repository`."""

    root: Path
    _batch: subprocess.Popen[bytes] | None = field(default=None, init=False, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False)

    def _git(self, *args: str) -> str:
        """What ``git ARGS`` prints (its last line break taken off); GitError when it fails."""
        try:
            done = subprocess.run([GIT, *args], cwd=self.root, env=_env(), capture_output=True)
        except OSError as e:
            raise GitError(f"git {args[0]} failed: {e.strerror or e}") from e
        if done.returncode != 0:
            message = done.stderr.decode("utf-8", "replace").strip()
            raise GitError(f"git {args[0]} failed: {message or f'exit {done.returncode}'}")
        return done.stdout.decode("utf-8", "surrogateescape").removesuffix("\n")

    def close(self) -> None:
        """End the ``git cat-file`` process, if one was started."""
        with self._lock:
            proc, self._batch = self._batch, None
        if proc is not None:
            _end(proc)

    def resolve(self, rev: str) -> str:
        """The commit id ``rev`` names; GitError when it names none."""
        try:
            return self._git("rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}").strip()
        except GitError:
            raise GitError(
                f"unknown revision {rev!r}",
                hint="name a branch, tag or commit, e.g. main or origin/main",
            ) from None

    def files(self, rev: str, under: Sequence[str] = ()) -> list[str]:
        """Paths (relative to the repository root) of the files in ``rev`` under ``under``."""
        out = self._git("ls-tree", "-r", "--name-only", "-z", rev, "--", *under)
        return [p for p in out.split("\0") if p]

    def read(self, rev: str, path: str) -> bytes | None:
        """The content of ``path`` at ``rev``, or None when it has no such file."""
        if "\n" in rev or "\n" in path:
            return None  # no such file: git names none with a line break (and the object
            # name below is one line of git's batch protocol)
        return self._blob(f"{rev}:{path}")

    def read_blob(self, blob_id: str) -> bytes | None:
        """The content of the blob ``blob_id`` (from :meth:`blob_ids`), or None when the
        repository has no such blob."""
        if not re.fullmatch(r"[0-9a-f]{40}|[0-9a-f]{64}", blob_id):
            return None
        return self._blob(blob_id)

    def read_many(self, rev: str, paths: Sequence[str]) -> dict[str, bytes | None]:
        """:meth:`read` of many files at once: one ``git cat-file --batch`` run for all of them
        (a request and an answer per file cost ~0.7 ms of process ping-pong each)."""
        out: dict[str, bytes | None] = dict.fromkeys(paths)
        asked = [p for p in out if "\n" not in p and "\n" not in rev]
        if not asked:
            return out
        request = "".join(f"{rev}:{p}\n" for p in asked).encode("utf-8", "surrogateescape")
        try:
            done = subprocess.run(
                [GIT, "cat-file", "--batch"],
                input=request,
                cwd=self.root,
                env=no_git_env(),
                capture_output=True,
                check=True,
            )
        except (OSError, subprocess.CalledProcessError) as e:
            raise GitError(f"git cat-file failed: {e}") from e
        answers = io.BytesIO(done.stdout)
        for path in asked:
            try:
                found = _answer(answers)
            except (OSError, ValueError) as e:
                raise GitError(f"git cat-file failed: {e}") from e
            if found is not None and found[0] == b"blob":
                out[path] = found[1]
        return out

    def _blob(self, name: str) -> bytes | None:
        """The blob git names ``name`` (an id, or ``rev:path``), None when it names none or
        something else. One request to the ``git cat-file --batch`` process the repository
        keeps running: no revision's trees are walked in Python (a folder of 10,000 files is
        one large tree object, and walking it for each file made reading a revision's files
        quadratic)."""
        with self._lock:
            try:
                out, answer = self._cat_file()
                answer.write(name.encode("utf-8", "surrogateescape") + b"\n")
                answer.flush()
                found = _answer(out)
            except (OSError, ValueError) as e:
                broken, self._batch = self._batch, None
                if broken is not None:
                    _end(broken, kill=True)
                raise GitError(f"git cat-file failed: {e}") from e
        return found[1] if found is not None and found[0] == b"blob" else None

    def _cat_file(self) -> tuple[IO[bytes], IO[bytes]]:
        """(its output, its input) of the running ``git cat-file --batch``, started on first use."""
        if self._batch is not None and self._batch.poll() is not None:
            _end(self._batch)  # it died since the last request: a new one answers
            self._batch = None
        if self._batch is None:
            self._batch = subprocess.Popen(
                [GIT, "cat-file", "--batch"],
                cwd=self.root,
                env=no_git_env(),
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
            )
        assert self._batch.stdout is not None and self._batch.stdin is not None
        return self._batch.stdout, self._batch.stdin

    def changed_files(self, base: str, head: str | None = None) -> list[str]:
        """Files that differ between ``base`` and ``head`` (default: the working tree, untracked
        files included), relative to the repository root."""
        args = ["diff", "--name-only", "-z", "--no-renames", base]
        if head is not None:
            args.append(head)
        names = set(self._git(*args).split("\0"))
        if head is None:
            names.update(self._git("ls-files", "-z", "--others", "--exclude-standard").split("\0"))
        return sorted(n for n in names if n)

    def blob_ids(self, rev: str, under: Sequence[str] = ()) -> dict[str, str]:
        """Path (relative to the repository root) -> blob id of each file in ``rev`` under
        ``under``: one ``git ls-tree``, no file is read."""
        out = self._git("ls-tree", "-r", "-z", "--full-tree", rev, "--", *under)
        ids: dict[str, str] = {}
        for entry in out.split("\0"):
            meta, _, path = entry.partition("\t")
            parts = meta.split()
            if len(parts) == 3 and parts[1] == "blob":
                ids[path] = parts[2]
        return ids

    def branch_exists(self, name: str) -> bool:
        try:
            self._git("rev-parse", "--verify", "--quiet", f"refs/heads/{name}")
        except GitError:
            return False
        return True

    def commit_on_new_branch(self, branch: str, paths: Sequence[Path], message: str) -> str:
        """Create ``branch`` at HEAD, switch to it and commit exactly ``paths``; returns the id."""
        if self.branch_exists(branch):
            raise GitError(f"branch {branch!r} already exists", hint="pick another name")
        self._git("switch", "--quiet", "-c", branch)
        rel = [p.resolve().relative_to(self.root).as_posix() for p in paths]
        self._git("add", "--", *rel)
        self._git("commit", "--quiet", "--no-verify", "-m", message, "--", *rel)
        return self.resolve("HEAD")

    def is_ancestor(self, commit: str, of: str) -> bool:
        """True when ``commit`` is reachable from ``of`` (both resolved first)."""
        ancestor, descendant = self.resolve(commit), self.resolve(of)
        try:
            self._git("merge-base", "--is-ancestor", ancestor, descendant)
        except GitError:
            return False
        return True

    def dirty_files(self) -> list[str]:
        """Tracked files with uncommitted changes, and untracked files not ignored."""
        out = self._git("status", "--porcelain", "-z", "--untracked-files=normal")
        return sorted(entry[3:] for entry in out.split("\0") if len(entry) > 3)

    def log(self, paths: Sequence[str], max_count: int = 20) -> list[dict[str, str]]:
        """Commits touching ``paths`` (relative to the repository root), newest first: each with
        its id, author, date (ISO 8601) and subject. Renames are followed only for one path."""
        if not paths:
            return []
        follow = ["--follow"] if len(paths) == 1 else []
        out = self._git(
            "log",
            f"--max-count={max_count}",
            *follow,
            "--format=%H%x1f%an%x1f%aI%x1f%s%x1e",
            "--",
            *paths,
        )
        commits = []
        for record in out.split("\x1e"):
            parts = record.strip("\n").split("\x1f")
            if len(parts) == 4:
                commits.append(dict(zip(("id", "author", "date", "subject"), parts, strict=True)))
        return commits

    def relative(self, path: Path) -> str:
        """``path`` relative to the repository root, POSIX style ('' for the root)."""
        rel = path.resolve().relative_to(self.root).as_posix()
        return "" if rel == "." else rel


def _answer(stream: IO[bytes]) -> tuple[bytes, bytes] | None:
    """One answer of ``git cat-file --batch``: (the object's type, its content), or None when it
    names no object; OSError when the answer is cut short."""
    header = stream.readline()
    parts = header.split()
    if not header.endswith(b"\n") or not parts:
        raise OSError("git cat-file stopped")
    if parts[-1] in (b"missing", b"ambiguous") or len(parts) != 3:
        return None
    size = int(parts[2])
    data = stream.read(size)
    if len(data) != size or stream.read(1) != b"\n":
        raise OSError("git cat-file stopped")
    return parts[1], data


def _end(proc: subprocess.Popen[bytes], *, kill: bool = False) -> None:
    """Close a ``git cat-file`` process's pipes (it ends when its input closes) and reap it."""
    if kill:
        with suppress(OSError):
            proc.kill()
    for stream in (proc.stdin, proc.stdout):
        if stream is not None:
            with suppress(OSError):
                stream.close()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def _toplevel(path: Path) -> Path:
    """The working tree around ``path``; GitError when there is none."""
    start = path if path.is_dir() else path.parent
    not_inside = GitError(
        f"{path} is not inside a git repository",
        hint="run the command in a clone of the catalog repository",
    )
    if not start.is_dir():
        raise not_inside
    try:
        done = subprocess.run(
            [GIT, "rev-parse", "--is-bare-repository", "--show-toplevel"],
            cwd=start,
            env=_env(),
            capture_output=True,
        )
    except OSError as e:
        raise GitError(f"git cannot be run: {e.strerror or e}", hint="install git") from e
    lines = done.stdout.decode("utf-8", "surrogateescape").splitlines()
    if lines[:1] == ["true"]:
        raise GitError(f"{path} is in a bare repository")
    if done.returncode != 0 or len(lines) != 2:
        raise not_inside
    return Path(lines[1]).resolve()


@contextmanager
def repository(path: Path) -> Iterator[Repository]:
    """The repository that contains ``path``; GitError when there is none."""
    repo = Repository(_toplevel(path))
    try:
        yield repo
    finally:
        repo.close()


def in_repository(path: Path) -> bool:
    """Whether ``path`` is inside a git working tree."""
    try:
        _toplevel(path)
    except GitError:
        return False
    return True


def init_with_commit(path: Path, message: str) -> str | None:
    """Make ``path`` a new repository on branch main and commit everything in it; returns the
    commit id, or None (the files staged, not committed) when git has no user identity."""
    path.mkdir(parents=True, exist_ok=True)
    repo = Repository(path.resolve())
    repo._git("init", "--quiet", "--initial-branch=main")
    repo._git("add", "--all")
    try:
        repo._git("config", "user.email")
    except GitError:
        return None
    repo._git("commit", "--quiet", "--no-verify", "-m", message)
    return repo.resolve("HEAD")


def join(prefix: str, rel: str) -> str:
    """A path inside the repository from the project's prefix and a project-relative path."""
    return str(PurePosixPath(prefix, rel)) if prefix else str(PurePosixPath(rel))


def prefix_of(path: Path) -> str:
    """The folder ``path`` is in, relative to its repository's root ('' at the root, and when
    ``path`` is in no repository): what repository-relative reports put before project paths."""
    try:
        with repository(path) as repo:
            return repo.relative(path)
    except GitError:
        return ""
