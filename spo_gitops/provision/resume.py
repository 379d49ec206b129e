"""How far a plan got: resuming it after any number of interrupted runs.

Every run of a plan is journaled under the plan's digest. A plan whose state moved on since it
was made may still be applied when the only writes since were its own interrupted runs:

- the whole state (no partition): the latest applies in the journal are this plan's unfinished
  runs, back to the one that started at the plan's serial, each one starting at the serial the
  one before it left;
- a partition: the partition's resources changed only through this plan's unfinished runs (no
  other apply acted on them since the first of those runs).

Then what any of those runs finished is skipped, and the rest is carried out. A plan whose latest
run finished is reported as applied already, not as stale because of some other apply.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from itertools import pairwise

from spo_gitops.provision.plan import Plan
from spo_gitops.provision.verify import AlreadyApplied, StalePlan
from spo_gitops.state.base import ApplyRecord, StateBackend

RESUME_WINDOW = 1000  # runs of one plan, and applies since them, looked at
UNFINISHED = ("running", "interrupted")


@dataclass
class Progress:
    """The unfinished runs of the plan this apply continues, and what they finished."""

    runs: list[ApplyRecord] = field(default_factory=list)  # newest first
    done: set[str] = field(default_factory=set)

    @property
    def resumed(self) -> bool:
        return bool(self.runs)

    def close(self, state: StateBackend) -> None:
        """Mark the runs taken over as interrupted (a run killed leaves them 'running')."""
        for run in self.runs:
            if run.outcome == "running":
                state.journal_end(run.id, "interrupted")


def _unfinished(runs: list[ApplyRecord]) -> list[ApplyRecord]:
    out = []
    for run in runs:
        if run.outcome not in UNFINISHED:
            break
        out.append(run)
    return out


def _refuse_finished(runs: list[ApplyRecord]) -> None:
    if runs and runs[0].outcome not in UNFINISHED:
        last = runs[0]
        how = "with failures" if last.outcome == "failed" else "successfully"
        raise AlreadyApplied(
            f"this plan was applied already: apply {last.id} finished {how} at {last.finished}",
            hint="plan again to see what is left to change"
            + (" (and retry what failed)" if last.outcome == "failed" else ""),
        )


def untouched(state: StateBackend, plan: Plan) -> Progress:
    """The state is where the plan was made: a run killed before it wrote anything is taken
    over (its finished actions changed nothing, or the serial would have moved)."""
    runs = _unfinished(state.applies_of(plan.digest, limit=RESUME_WINDOW))
    return Progress(runs, {a.address for r in runs for a in r.actions if a.phase == "succeeded"})


def whole_state(state: StateBackend, plan: Plan, serial: int) -> Progress:
    """The progress of ``plan`` when the state's serial moved from the plan's to ``serial``;
    StalePlan when anything else wrote to the state in between."""
    runs = state.applies_of(plan.digest, limit=RESUME_WINDOW)
    _refuse_finished(runs)
    chain: list[ApplyRecord] = []
    for run in _unfinished(runs):
        chain.append(run)
        if run.serial_before == plan.serial:
            break
    else:
        chain = []
    contiguous = bool(chain) and all(
        older.serial_after is None or older.serial_after == newer.serial_before
        for newer, older in pairwise(chain)
    )
    latest = [r.id for r in state.history(limit=len(chain))] if chain else []
    if not contiguous or latest != [r.id for r in chain]:
        raise StalePlan(
            f"the state changed since the plan was made (serial {plan.serial} -> {serial})",
            hint="plan again: another apply ran in between",
        )
    return Progress(chain, _finished(chain))


def partition_state(state: StateBackend, plan: Plan, addresses: Collection[str]) -> Progress:
    """The progress of a partition's ``plan`` whose resources in state changed since it was
    made; StalePlan when an apply other than its own runs acted on ``addresses``."""
    runs = state.applies_of(plan.digest, limit=RESUME_WINDOW)
    _refuse_finished(runs)
    chain = _unfinished(runs)
    if not chain or _touched_since(state, chain[-1].id, set(addresses), {r.id for r in chain}):
        raise StalePlan(
            f"the resources of partition {plan.partition} changed in state since the plan was made",
            hint="plan this partition again: another runner wrote to it",
        )
    return Progress(chain, _finished(chain))


def _finished(runs: list[ApplyRecord]) -> set[str]:
    return {a.address for r in runs for a in r.actions if a.phase == "succeeded"}


def _touched_since(state: StateBackend, apply_id: int, addresses: set[str], own: set[int]) -> bool:
    """Whether an apply after ``apply_id`` (other than ``own``) acted on any of ``addresses``
    (also when ``apply_id`` is too far back to tell)."""
    for record in state.history(limit=RESUME_WINDOW):
        if record.id == apply_id:
            return False
        if record.id not in own and any(a.address in addresses for a in record.actions):
            return True
    return True
