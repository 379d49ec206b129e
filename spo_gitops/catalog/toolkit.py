"""What decides a finding besides the catalog: the toolkit's code and the libraries it runs on.

The caches of validation (the changed-only index in review/changed.py, the partitions' record
in provision/scope.py) replay what an earlier run found, so each is keyed by :func:`digest`:
upgrading spo-gitops, editing its source, or installing, upgrading or removing any library
(the parsers, the schema checker, pydantic, the expression engine, or any other) makes them
miss, never replay findings that other code would not give.

The libraries are told apart by the metadata folders of the distributions on the import path
(``name-version.dist-info``): a listing per folder, a millisecond, where asking each library
for its version costs a scan of the path per name, and a hand-kept list of the libraries that
matter is one more thing to forget (an earlier one named a library that is not installed and
missed the YAML parser).
"""

from __future__ import annotations

import functools
import hashlib
import os
import sys
from pathlib import Path

from spo_gitops import __version__

_METADATA = (".dist-info", ".egg-info")


def installed() -> list[str]:
    """The distributions on the import path, as their metadata folders name them, folder by
    folder in the order of the path (the first copy of a library is the one imported)."""
    names: list[str] = []
    for entry in sys.path:
        if not entry or not os.path.isabs(entry):
            continue  # the working directory: the catalog, not a library
        try:
            with os.scandir(entry) as it:
                found = sorted(e.name for e in it if e.name.endswith(_METADATA))
        except OSError:  # a zip file, a folder that is gone
            continue
        names.extend(f"{entry}{os.sep}{name}" for name in found)
    return names


@functools.cache
def digest() -> str:
    """A digest of spo-gitops (its version and every source file), the interpreter and the
    distributions installed: read once per process (the code it runs)."""
    h = hashlib.sha256(f"{__version__}\0{sys.version}\0".encode())
    package = Path(__file__).resolve().parent.parent
    for source in sorted(package.rglob("*.py")):
        h.update(str(source.relative_to(package)).encode() + b"\0" + source.read_bytes())
    h.update("\0".join(installed()).encode())
    return h.hexdigest()
