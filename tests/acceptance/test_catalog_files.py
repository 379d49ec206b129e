"""One definition of the catalog's files (catalog/files.py), the same for every reader."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from spo_gitops.catalog import files
from spo_gitops.config import ProjectConfig
from tests.gitrepo import commit, reference_repo
from tests.helpers import run_spo


@pytest.fixture
def repo(in_tmp: Path) -> Path:
    return reference_repo(in_tmp)


def test_a_new_policy_test_case_is_not_read_as_catalog_entities(repo: Path) -> None:
    # a fixture that redefines a live service of the catalog, as policy test cases do
    case = repo / "policies/tests/POL999-new-case/fail"
    case.mkdir(parents=True)
    shutil.copy(repo / "catalog/services/network.yaml", case / "network.yaml")
    (case / "expect.yaml").write_text("findings: []\n")
    validate = run_spo("validate")
    assert validate.exit_code == 0, validate.stdout
    diff = run_spo("diff", "main")
    assert diff.exit_code == 0, diff.stdout + diff.stderr
    assert "SPO605" not in diff.stdout and "SPO607" not in diff.stdout
    assert "network" not in diff.stdout  # nothing changed in the catalog
    commit(repo, "a policy test case")
    between = run_spo("diff", "main~1", "main")
    assert between.exit_code == 0, between.stdout + between.stderr
    assert "network" not in between.stdout


CONFIG = ProjectConfig.model_validate(
    {
        "apiVersion": "spo/v1",
        "catalog": {"paths": ["catalog"], "exclude": ["catalog/drafts/*"]},
        "policies": {"paths": ["policies"]},
    }
)


@pytest.mark.parametrize(
    ("rel", "wanted"),
    [
        ("catalog/services/a.yaml", True),
        ("catalog/services/a.yml", True),
        ("./catalog/a.yaml", True),
        ("catalog/services/a.json", False),
        ("catalog/.hidden/a.yaml", False),
        ("catalog/services/.a.yaml", False),
        ("catalog/drafts/a.yaml", False),  # excluded, relative to spo.yaml
        ("catalog/drafts/deep/a.yaml", False),  # '*' also matches '/'
        ("policies/business-case.yaml", True),
        ("policies/tests/POL001/pass/a.yaml", False),  # a policy test fixture
        ("other/a.yaml", False),
        ("../catalog/a.yaml", False),
        ("catalogue/a.yaml", False),  # a sibling folder whose name starts the same
    ],
)
def test_which_files_are_the_catalog(rel: str, wanted: bool) -> None:
    assert files.wanted(rel, CONFIG) is wanted


SEVERAL = ProjectConfig.model_validate(
    {
        "apiVersion": "spo/v1",
        "catalog": {"paths": ["catalog"], "exclude": ["catalog/drafts/*", "*/old-?.yaml"]},
        "policies": {"paths": ["policies"], "exclude": ["./policies/[x-z]*.yaml"]},
    }
)


@pytest.mark.parametrize(
    ("rel", "wanted"),
    [
        ("catalog/drafts/a.yaml", False),  # the first pattern
        ("catalog/services/old-1.yaml", False),  # the second: '?' is one character
        ("catalog/services/old-12.yaml", True),
        ("catalog/old-1.yml", True),  # the pattern says .yaml
        ("policies/x-rules.yaml", False),  # a policies pattern, './' dropped
        ("policies/a-rules.yaml", True),
        ("policies/tests/POL001/pass/a.yaml", False),  # a policy test fixture
        ("policies/tests.yaml", True),  # not inside the tests folder
        ("policies/testsuite/a.yaml", True),
    ],
)
def test_every_exclude_pattern_counts(rel: str, wanted: bool) -> None:
    assert files.wanted(rel, SEVERAL) is wanted
