"""Exit codes come from the exception classes: user mistakes are 1 or 64 with a hint, bugs 70."""

from __future__ import annotations

from pathlib import Path

import pytest

from spo_gitops.errors import MissingExtraError
from tests.helpers import run_spo, tiny_catalog


def test_a_missing_extra_names_what_to_install(
    in_tmp: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def needs_boto3(*args: object, **kwargs: object) -> None:
        raise MissingExtraError("aws", module="boto3", feature="the aws provider")

    monkeypatch.setattr("spo_gitops.cli.validate_cmd.run_validate", needs_boto3)
    result = run_spo("-C", str(tiny_catalog(in_tmp)), "validate")
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        "spo: error: the aws provider needs the optional dependency 'aws' (boto3 is not installed)",
        "  hint: pip install 'spo-gitops[aws]'",
    ]


def test_a_missing_extra_is_still_an_import_error() -> None:
    # code that guards an optional import may catch ImportError without knowing the class
    with pytest.raises(ImportError):
        raise MissingExtraError("charts", module="matplotlib")
