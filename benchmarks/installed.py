"""Measure spo as pip installs it: with its bytecode compiled.

pip compiles every module of a package it installs, so a user's `spo` loads bytecode. A checkout
run with PYTHONDONTWRITEBYTECODE set (as some CI images and this development machine do) compiles
all ~200 of spo's modules from source in every process instead, about 0.15 s of each run that
check-jsonschema, installed by pip, does not pay. Each benchmark calls ``as_installed()`` before
it starts any spo process.
"""

from __future__ import annotations

import compileall
import os
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "spo_gitops"


def as_installed() -> None:
    """Compile spo's modules once and let the measured processes use the bytecode."""
    os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
    compileall.compile_dir(PACKAGE, quiet=1)
