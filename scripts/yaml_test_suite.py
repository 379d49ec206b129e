"""Build tests/fixtures/yaml-test-suite/cases.json from the official YAML test suite's data: the
``data`` branch of github.com/yaml/yaml-test-suite, one folder per case (``in.yaml``, ``in.json``
when the YAML is valid and has a JSON value, ``error`` when it must be refused, ``===`` its name;
a folder of numbered folders holds a case's variants).

    git clone -b data https://github.com/yaml/yaml-test-suite /tmp/yaml-test-suite-data
    python scripts/yaml_test_suite.py /tmp/yaml-test-suite-data COMMIT
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

OUT = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "yaml-test-suite"


def case_id(folder: Path, root: Path) -> str:
    """``HM87`` for a case, ``HM87-1`` for its variant ``HM87/01`` (the ids the suite's own
    tools print)."""
    parts = folder.relative_to(root).parts
    return parts[0] if len(parts) == 1 else f"{parts[0]}-{int(parts[1])}"


def read(path: Path) -> str:
    return path.read_bytes().decode("utf-8")


def main() -> None:
    root, commit = Path(sys.argv[1]), sys.argv[2]
    cases = []
    for source in sorted(root.glob("**/in.yaml")):
        folder = source.parent
        if folder.is_symlink() or any(p.is_symlink() for p in folder.parents if root in p.parents):
            continue  # the tags/ and name/ indexes link to the cases
        named = folder / "===" if (folder / "===").exists() else folder.parent / "==="
        cases.append(
            {
                "id": case_id(folder, root),
                "name": read(named).strip(),
                "yaml": read(source),
                "json": read(folder / "in.json") if (folder / "in.json").exists() else None,
                "fail": (folder / "error").exists(),
            }
        )
    cases.sort(key=lambda c: c["id"])
    body = {
        "source": f"github.com/yaml/yaml-test-suite, branch data at {commit}, MIT license",
        "cases": cases,
    }
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "cases.json").write_text(
        json.dumps(body, ensure_ascii=False, separators=(",", ":")) + "\n", encoding="utf-8"
    )
    print(f"{len(cases)} cases, {sum(c['fail'] for c in cases)} to refuse")


if __name__ == "__main__":
    main()
