"""Who hears about what, and when, worked out by hand from the improvement-loop catalog."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

from spo_gitops.catalog.validate import validate
from spo_gitops.config import load_project
from spo_gitops.notify.messages import addresses, due_messages
from spo_gitops.notify.send import Ledger
from tests.conftest import REPO

LOOP = REPO / "examples" / "improvement-loop"


def _index(tmp_path: Path) -> object:
    repo = tmp_path / "repo"
    shutil.copytree(LOOP, repo)
    shutil.copy(LOOP / "improvement-plan.yaml", repo / "catalog" / "improvement-plan.yaml")
    slas = repo / "catalog" / "slas.yaml"
    slas.write_text(
        slas.read_text().replace(
            "  provider: team-network\n",
            "  provider: team-network\n  reviews: {cadence: quarterly, next: 2027-01-20}\n",
        )
    )
    return validate(load_project(repo)).index


def test_reviews_and_actions_falling_due(tmp_path: Path) -> None:
    index = _index(tmp_path)
    # the action "proactive network monitoring" is due 2027-01-29; the review on 2027-01-20
    assert due_messages(index, dt.date(2026, 12, 1), 14) == []  # type: ignore[arg-type]
    soon = due_messages(index, dt.date(2027, 1, 10), 14)  # type: ignore[arg-type]
    assert [(m.topic, m.key, m.parties) for m in soon] == [
        (
            "review",
            "review/network-infrastructure-business/2027-01-20",
            ("team-service-management", "business-units"),
        )
    ]
    later = due_messages(index, dt.date(2027, 1, 20), 14)  # type: ignore[arg-type]
    assert [m.key for m in later] == [
        "review/network-infrastructure-business/2027-01-20",
        "action/network-mttr-2026/0/2027-01-29",
    ]
    overdue = due_messages(index, dt.date(2027, 2, 1), 14)  # type: ignore[arg-type]
    assert [(m.key, m.subject) for m in overdue] == [
        (
            "action/network-mttr-2026/0/2027-01-29/overdue",
            "[action overdue] proactive network monitoring",
        )
    ]
    assert overdue[0].parties == ("team-network", "team-service-management")


def test_addresses_and_the_ledger(tmp_path: Path) -> None:
    index = _index(tmp_path)
    got = addresses(index, ["team-network", "business-units", "team-network"])  # type: ignore[arg-type]
    assert [a.email for a in got] == [
        "omar.haddad@northwind.example",
        "victoria.hale@northwind.example",
    ]
    ledger = Ledger()
    ledger.add("breach/x", "email:a@b", dt.datetime(2027, 1, 1, tzinfo=dt.UTC))
    again = Ledger.parse(ledger.render())
    assert again.has("breach/x", "email:a@b") and not again.has("breach/x", "webhook:chat")
