"""`spo export backstage`: every entity passes Backstage's own validators (run with node), and
says what the catalog says; the Software Template writes what `spo new service` writes."""

from __future__ import annotations

import datetime as dt
import re
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.conftest import REPO
from tests.gitrepo import git
from tests.helpers import run_spo
from tests.node_tools import backstage_validate


def copy_catalog(root: Path) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    for name in ("spo.yaml", "catalog", "policies", "blueprints"):
        src = REPO / name
        (shutil.copytree if src.is_dir() else shutil.copy)(src, root / name)
    return root


def catalog_documents() -> list[dict[str, Any]]:
    """The reference catalog read with PyYAML: the oracle for what the export must say."""
    docs = []
    for path in sorted((REPO / "catalog").rglob("*.yaml")):
        for doc in yaml.safe_load_all(path.read_text(encoding="utf-8")):
            if isinstance(doc, dict):
                docs.append(doc)
    return docs


def load_all(folder: Path) -> list[dict[str, Any]]:
    out = []
    for path in sorted(folder.rglob("*.yaml")):
        if "skeleton" in path.parts:
            continue
        out.extend(d for d in yaml.safe_load_all(path.read_text(encoding="utf-8")) if d)
    return out


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    repo = tmp_path_factory.mktemp("repo")
    project = copy_catalog(repo / "service-catalog")
    git(repo, "init", "-q", "-b", "main")
    out = repo / "backstage"
    r = run_spo(
        "-C",
        str(project),
        "export",
        "backstage",
        "-o",
        str(out),
        "--repo-url",
        "https://github.com/northwind/catalog/blob/main",
    )
    assert r.exit_code == 0, r.stderr
    return repo, out


def test_backstage_accepts_every_entity(exported: tuple[Path, Path], tmp_path: Path) -> None:
    _, out = exported
    entities = load_all(out)
    kinds = {e["kind"] for e in entities}
    assert kinds == {"Location", "Group", "System", "Component", "Resource", "Template"}
    assert backstage_validate(entities, tmp_path) == []


def test_the_validators_are_not_vacuous(exported: tuple[Path, Path], tmp_path: Path) -> None:
    _, out = exported
    component = next(e for e in load_all(out) if e["kind"] == "Component")
    bad_name = {**component, "metadata": {**component["metadata"], "name": "Not A Name"}}
    no_owner = {**component, "spec": {k: v for k, v in component["spec"].items() if k != "owner"}}
    problems = backstage_validate([bad_name, no_owner], tmp_path)
    assert [p["index"] for p in problems] == [0, 1]


def parse_ref(ref: str) -> tuple[str, str]:
    kind, _, rest = ref.partition(":")
    namespace, _, name = rest.partition("/")
    assert namespace == "default", ref
    return kind, name


def test_entities_say_what_the_catalog_says(exported: tuple[Path, Path]) -> None:
    repo, out = exported
    entities = load_all(out)
    emitted = {(e["kind"].lower(), e["metadata"]["name"]) for e in entities}
    docs = catalog_documents()
    entries = [d for d in docs if d["kind"] == "PortfolioEntry"]
    stage = {d["spec"]["service"]: d["spec"]["stage"] for d in entries}
    expected_lifecycle = {"live": "production", "retiring": "deprecated", "retired": "deprecated"}
    components = {e["metadata"]["name"]: e for e in entities if e["kind"] == "Component"}
    services = [d for d in docs if d["kind"] == "ServiceModel"]
    assert set(components) == {d["metadata"]["name"] for d in services}
    for service in services:
        c = components[service["metadata"]["name"]]
        assert c["spec"]["owner"] == f"group:default/{service['metadata']['owner']}"
        assert c["spec"]["lifecycle"] == expected_lifecycle.get(
            stage.get(service["metadata"]["name"], ""), "experimental"
        )
        deps = {parse_ref(r) for r in c["spec"].get("dependsOn", [])}
        assert {("component", s) for s in service["spec"].get("dependsOn", [])} <= deps
        pools = {r["pool"] for r in service["spec"].get("resources", [])}
        assert {("resource", p) for p in pools} <= deps
    groups = {e["metadata"]["name"]: e for e in entities if e["kind"] == "Group"}
    parties = [d for d in docs if d["kind"] == "Party"]
    assert set(groups) == {p["metadata"]["name"] for p in parties}
    for party in parties:
        assert groups[party["metadata"]["name"]]["spec"]["type"] == party["spec"]["type"]
    resources = {e["metadata"]["name"] for e in entities if e["kind"] == "Resource"}
    assert resources == {d["metadata"]["name"] for d in docs if d["kind"] == "ResourcePool"}
    # every relation points at an entity of the export
    for e in entities:
        spec = e.get("spec", {})
        refs = [spec[k] for k in ("owner", "system") if k in spec and ":" in str(spec[k])]
        for r in [*refs, *spec.get("dependsOn", [])]:
            assert parse_ref(r) in emitted, (e["metadata"]["name"], r)
    # and links back to its file, relative to the repository root
    for e in entities:
        source = e["metadata"].get("annotations", {}).get("spo-gitops.io/source-file")
        if e["kind"] in ("Component", "Group", "Resource"):
            assert source and (repo / source).is_file(), source
            assert e["metadata"]["annotations"]["backstage.io/source-location"] == (
                f"url:https://github.com/northwind/catalog/blob/main/{source}"
            )


def test_the_template_writes_what_spo_new_service_writes(
    exported: tuple[Path, Path], tmp_path: Path
) -> None:
    _, out = exported
    today = dt.date.today()
    values = {
        "name": "instant-loans",
        "title": "Instant Loans",
        "owner": "team-digital",
        "customer": "retail-banking",
        "start": today.isoformat(),
        "end": today.replace(year=today.year + 1).isoformat(),
    }
    template = yaml.safe_load((out / "template/template.yaml").read_text(encoding="utf-8"))
    fetch = next(s for s in template["spec"]["steps"] if s["action"] == "fetch:template")
    assert set(fetch["input"]["values"]) == set(values)
    pr = next(s for s in template["spec"]["steps"] if s["action"] == "publish:github:pull-request")
    assert pr["input"]["branchName"] == "proposal/${{ parameters.name }}"

    def fill(text: str) -> str:  # what fetch:template does with ${{ values.x }}
        return re.sub(r"\$\{\{ values\.(\w+) \}\}", lambda m: values[m.group(1)], text)

    skeleton = out / "template/skeleton"
    written = {
        fill(p.relative_to(skeleton).as_posix()): fill(p.read_text(encoding="utf-8"))
        for p in skeleton.rglob("*")
        if p.is_file()
    }
    project = copy_catalog(tmp_path / "proposal")
    r = run_spo(
        "-C", str(project), "new", "service", "instant-loans", "--owner", "team-digital",
        "--customer", "retail-banking",
    )  # fmt: skip
    assert r.exit_code == 0, r.stderr
    new_files = {
        p.relative_to(project).as_posix(): p.read_text(encoding="utf-8")
        for p in (project / "catalog").rglob("*instant-loans*")
    }
    # the skeleton's paths are relative to the repository root: spo.yaml is in service-catalog/
    assert written == {f"service-catalog/{k}": v for k, v in new_files.items()}
    assert len(written) == 3
    # and its title is what spo new service derives from the name
    assert "title: Instant Loans\n" in new_files["catalog/services/instant-loans.yaml"]


def test_an_invalid_catalog_is_not_exported(tmp_path: Path) -> None:
    project = copy_catalog(tmp_path / "broken")
    (project / "catalog/services/bad.yaml").write_text("apiVersion: spo/v1\nkind: Nope\n")
    r = run_spo("-C", str(project), "export", "backstage", "-o", str(tmp_path / "out"))
    assert r.exit_code == 1
    assert "SPO20" in r.stderr and "nothing exported" in r.stderr
    assert "Traceback" not in r.stderr
    assert not (tmp_path / "out").exists()
