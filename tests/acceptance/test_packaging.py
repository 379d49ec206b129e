"""The distributions build, pass `twine check`, and carry the metadata PyPI shows.

Built for real with `python -m build` (an isolated build environment, pinned by PIP_CONSTRAINT
when scripts/check sets it): the sdist first, then the wheel from the sdist, as a release does.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tarfile
import zipfile
from email.parser import HeaderParser
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
# pip's user configuration (the package index) lives in the real home, which the tests isolate
_PIP_CONFIG = Path(os.path.expanduser("~/.config/pip/pip.conf"))

HEAVY = {"matplotlib", "psycopg", "requests", "boto3"}


@pytest.fixture(scope="module")
def dist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    env = dict(os.environ)
    if _PIP_CONFIG.is_file() and "PIP_CONFIG_FILE" not in env:
        env["PIP_CONFIG_FILE"] = str(_PIP_CONFIG)
    done = subprocess.run(
        [sys.executable, "-m", "build", "-o", str(out), str(REPO)],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return out


def _wheel(dist: Path) -> Path:
    (wheel,) = dist.glob("spo_gitops-*.whl")
    return wheel


def _sdist(dist: Path) -> Path:
    (sdist,) = dist.glob("spo_gitops-*.tar.gz")
    return sdist


def test_twine_check_passes(dist: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "twine", "check", "--strict", str(_wheel(dist)), str(_sdist(dist))],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.count("PASSED") == 2


def test_wheel_metadata(dist: Path) -> None:
    with zipfile.ZipFile(_wheel(dist)) as zf:
        names = zf.namelist()
        meta_name = next(n for n in names if n.endswith(".dist-info/METADATA"))
        meta = HeaderParser().parsestr(zf.read(meta_name).decode())
    assert meta["Name"] == "spo-gitops"
    assert meta["License-Expression"] == "Apache-2.0"
    assert meta.get_all("License-File") == ["LICENSE"]
    assert any(n.endswith(".dist-info/licenses/LICENSE") for n in names)
    classifiers = meta.get_all("Classifier") or []
    assert "Typing :: Typed" in classifiers
    assert not [c for c in classifiers if c.startswith("License ::")]  # the SPDX string says it
    urls = dict(u.split(", ", 1) for u in meta.get_all("Project-URL") or [])
    assert {"Homepage", "Source", "Issues", "Changelog", "Documentation"} <= set(urls)
    assert meta["Description-Content-Type"] == "text/markdown"
    # the heavy libraries are reachable only through an extra
    for req in meta.get_all("Requires-Dist") or []:
        name = req.split(";")[0].split("[")[0].split(">")[0].split("=")[0].strip().lower()
        if name in HEAVY:
            assert "extra ==" in req, req
    assert {"charts", "postgres", "http", "aws", "all"} <= set(meta.get_all("Provides-Extra") or [])
    # what the package reads at run time is inside it
    assert "spo_gitops/py.typed" in names
    assert any(n.startswith("spo_gitops/templates/init/") for n in names)
    assert any(n.startswith("spo_gitops/templates/docs/") for n in names)


def test_sdist_carries_license(dist: Path) -> None:
    with tarfile.open(_sdist(dist)) as tf:
        names = {n.split("/", 1)[1] for n in tf.getnames() if "/" in n}
    assert {"LICENSE", "README.md", "pyproject.toml"} <= names
