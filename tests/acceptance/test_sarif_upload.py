"""`spo validate --format sarif` on a real repository whose spo.yaml is not at the root: what
the GitHub Action uploads to code scanning."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import yaml

from tests.conftest import REPO
from tests.gitrepo import git
from tests.helpers import run_spo
from tests.node_tools import sarif_multitool


def test_sarif_from_a_catalog_in_a_subfolder(tmp_path: Path) -> None:
    project = tmp_path / "platform" / "service-catalog"
    project.mkdir(parents=True)
    for name in ("spo.yaml", "catalog", "policies"):
        src = REPO / name
        (shutil.copytree if src.is_dir() else shutil.copy)(src, project / name)
    broken = project / "catalog/services/broken.yaml"
    broken.write_text(
        "apiVersion: spo/v1\nkind: ServiceModel\n"
        "metadata: {name: broken, version: 1.0.0, owner: team-digital, owner: team-data}\n"
        "spec: {type: business, tier: 9}\n",
        encoding="utf-8",
    )
    # an SLA without its reporting cadence: a finding of policy POL009
    sla = project / "catalog/slas/network-branch.yaml"
    text = sla.read_text(encoding="utf-8")
    sla.write_text(text[: text.index("  reporting:")], encoding="utf-8")
    git(tmp_path, "init", "-q", "-b", "main")
    out = tmp_path / "spo.sarif"
    r = run_spo("-C", str(project), "validate", "--format", "sarif", "-o", str(out))
    assert r.exit_code == 1, r.stderr
    log = json.loads(out.read_text(encoding="utf-8"))

    assert sarif_multitool(out) == []
    (run,) = log["runs"]
    uris = {
        loc["physicalLocation"]["artifactLocation"]["uri"]
        for result in run["results"]
        for loc in result["locations"]
    }
    assert "platform/service-catalog/catalog/services/broken.yaml" in uris
    for uri in uris:  # relative to the repository root, as code scanning resolves them
        assert (tmp_path / uri).is_file(), uri
    # waived findings (the reference catalog waives some POL007 ones) are not alerts
    report = json.loads(run_spo("-C", str(project), "validate", "--format", "json").stdout)
    assert report["summary"]["waived"] > 0
    assert run["properties"]["waived"] == report["summary"]["waived"]
    assert len(run["results"]) == len(report["findings"]) - report["summary"]["waived"]
    assert "POL009" in {res["ruleId"] for res in run["results"]}
    # each policy code is described by its Policy document's title
    titles = {}
    for path in (REPO / "policies").glob("*.yaml"):
        for doc in yaml.safe_load_all(path.read_text(encoding="utf-8")):
            if doc and doc.get("kind") == "Policy":
                titles[doc["spec"]["code"]] = doc["metadata"].get("title")
    described = {rule["id"]: rule for rule in run["tool"]["driver"]["rules"]}
    assert titles["POL009"]
    assert described["POL009"]["shortDescription"]["text"] == titles["POL009"]


def test_annotations_name_repository_paths_when_spo_yaml_is_in_a_subfolder(tmp_path: Path) -> None:
    project = tmp_path / "platform"
    project.mkdir()
    for name in ("spo.yaml", "catalog", "policies"):
        src = REPO / name
        (shutil.copytree if src.is_dir() else shutil.copy)(src, project / name)
    (project / "catalog/services/broken.yaml").write_text(
        "apiVersion: spo/v1\nkind: ServiceModel\nmetadata: {name: broken}\n", encoding="utf-8"
    )
    git(tmp_path, "init", "-q", "-b", "main")
    r = run_spo("-C", str(project), "validate", "--format", "github")
    assert r.exit_code == 1
    lines = [ln for ln in r.stdout.splitlines() if ln.startswith("::error ")]
    assert lines
    assert all(ln.startswith("::error file=platform/catalog/") for ln in lines), lines
