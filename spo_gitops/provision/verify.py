"""What ``spo apply`` checks before it runs anything: the rules a saved plan must pass.

A plan file is data from outside. Its digest detects an accidental edit, and a signature (with
``SPO_PLAN_SIGNING_KEY``) a deliberate one; without a key, anyone who can write the plan can
also recompute its digest. So apply never carries out an action because the plan says so, but
only when the action is also what the approved catalog and the state say:

- every action other than a delete is exactly what a fresh compile of the catalog produces for
  its address (provider, type, name, properties hash, dependencies, protection);
- a create targets no object (no id); an update or replace targets the object the state records
  for that address (same id, provider and type);
- a delete targets a resource the catalog no longer produces, that the state manages under that
  address with the same id, provider and type, and that is not protected in state.

So an edited, re-digested plan can at worst ask for what a fresh plan would also contain, minus
some actions: it cannot reach an object the state does not record for the address, nor create
or change anything the catalog does not hold.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping

from spo_gitops.errors import SpoError
from spo_gitops.provision.plan import Action, Plan
from spo_gitops.provision.resources import DesiredResource, properties_hash
from spo_gitops.state.base import ResourceState, StateSnapshot


class StalePlan(SpoError, ValueError):
    """The plan no longer fits the state or the catalog."""


class AlreadyApplied(StalePlan):
    """The plan was applied to the end already: there is nothing of it left to resume."""


CATALOG_HINT = "the catalog changed since the plan was made: plan again"
STATE_HINT = "the plan does not match what the state manages: plan again"


def check_commit(plan: Plan, commit: str | None) -> None:
    """Refuse a plan made at another commit than the catalog's."""
    if plan.commit is not None and commit != plan.commit:
        raise StalePlan(
            f"the plan was made at commit {plan.commit[:12]}, the catalog is now at "
            f"{(commit or 'no commit')[:12]}",
            hint="plan again at the commit you want to apply",
        )


def check_actions(
    plan: Plan,
    wanted: Mapping[str, DesiredResource],
    snapshot: StateSnapshot,
    done: Collection[str] = (),
) -> None:
    """Refuse the plan when any of its actions (but those ``done`` by an interrupted run of it)
    is not what the catalog in ``wanted`` and the state in ``snapshot`` say it should be."""
    for action in plan.changes():
        if action.address in done:
            continue
        current = snapshot.resources.get(action.address)
        if action.action == "delete":
            problem, hint = _delete_problem(action, wanted.get(action.address), current)
        else:
            problem, hint = _change_problem(action, wanted.get(action.address), current)
        if problem:
            raise StalePlan(f"{action.address}: {problem}", hint=hint)


def _delete_problem(
    action: Action, res: DesiredResource | None, current: ResourceState | None
) -> tuple[str, str]:
    if res is not None:
        return "the plan deletes it, but the catalog still produces it", CATALOG_HINT
    if current is None:
        return "the plan deletes it, but the state does not manage it", STATE_HINT
    if (current.provider, current.type) != (action.provider, action.type):
        return (
            f"the plan deletes a {action.provider}.{action.type}, the state records a "
            f"{current.provider}.{current.type}",
            STATE_HINT,
        )
    if current.id != action.id:
        return (
            f"the plan deletes object {action.id!r}, the state records {current.id!r}",
            STATE_HINT,
        )
    if current.protected:
        return "the plan deletes it, but it is protected", STATE_HINT
    return "", ""


def _change_problem(
    action: Action, res: DesiredResource | None, current: ResourceState | None
) -> tuple[str, str]:
    produced = res is not None and (
        (res.provider, res.type, res.name) == (action.provider, action.type, action.name)
        and properties_hash(res.properties) == action.after_hash
        and tuple(res.depends_on) == tuple(action.depends_on)
        and res.protected == action.protected
    )
    if not produced:
        return "the catalog no longer produces what the plan says for it", CATALOG_HINT
    if action.action == "create":
        if action.id is not None:
            return f"the plan creates it but names an existing object {action.id!r}", STATE_HINT
        return "", ""
    if current is None:
        return f"the plan {action.action}s it, but the state does not manage it", STATE_HINT
    if (current.provider, current.type) != (action.provider, action.type):
        return (
            f"the plan {action.action}s a {action.provider}.{action.type}, the state records "
            f"a {current.provider}.{current.type}",
            STATE_HINT,
        )
    if current.id != action.id:
        return (
            f"the plan {action.action}s object {action.id!r}, the state records {current.id!r}",
            STATE_HINT,
        )
    return "", ""
