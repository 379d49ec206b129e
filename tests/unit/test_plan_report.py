"""How plans read: Terraform-like symbols, field diffs, text diffs for multi-line values."""

from __future__ import annotations

from spo_gitops.provision.plan import Action, Change, Drift, Plan
from spo_gitops.report.plan import render_markdown, render_text


def sample() -> Plan:
    plan = Plan("lineage", 3, "0123456789abcdef")
    plan.actions = [
        Action(
            "files.file.runbook",
            "files",
            "file",
            "runbook",
            "update",
            "catalog changed: content",
            id="runbooks/x.md",
            changes=(Change("/content", "step 1\nstep 2\n", "step 1\nstep 2b\n"),),
            entity="ServiceModel:x",
            source="catalog/x.yaml:1",
        ),
        Action(
            "cmdb.service.y",
            "cmdb",
            "service",
            "y",
            "create",
            "not yet provisioned",
            changes=(Change("/tier", None, 1),),
        ),
        Action(
            "cmdb.service.z",
            "cmdb",
            "service",
            "z",
            "delete",
            "no longer in the catalog",
            changes=(Change("/tier", 2, None),),
        ),
        Action("cmdb.service.w", "cmdb", "service", "w", "no-op", "up to date"),
    ]
    plan.drift = [Drift("cmdb.service.v", (Change("/tier", 1, 3),))]
    plan.orphans = ["cmdb.party.gone"]
    return plan


def test_text_uses_symbols_and_shows_text_diffs() -> None:
    text = render_text(sample())
    assert (
        "~ files.file.runbook  # catalog changed: content  (ServiceModel:x, catalog/x.yaml:1)"
        in text
    )
    assert "        -step 2\n        +step 2b" in text
    assert "+ cmdb.service.y  # not yet provisioned\n    /tier = 1" in text
    assert "- cmdb.service.z  # no longer in the catalog\n    /tier = 2" in text
    assert "cmdb.service.w" not in text  # no-ops are counted, not listed
    assert "! cmdb.service.v /tier: 1 -> 3" in text
    assert "kept because pruning is off" in text and "cmdb.party.gone" in text
    assert text.rstrip().endswith(
        "Plan: 1 to create, 1 to update, 0 to replace, 1 to delete (1 unchanged). 1 drifted."
    )


def test_markdown_reads_as_a_pull_request_comment() -> None:
    md = render_markdown(sample())
    assert md.startswith("### spo plan\n")
    assert "| `~` | `files.file.runbook` | catalog changed: content | ServiceModel:x |" in md
    assert "Catalog commit `0123456789ab`, state serial 3." in md
    assert "```diff" in md and "<details>" in md
    assert "- `cmdb.service.v`: /tier" in md


def test_an_empty_plan_says_so() -> None:
    assert render_text(Plan("l", 0, None)).strip() == "No changes: the providers match the catalog."
