"""Partitions of the desired resources, for several reconcilers at once (``--partition KEY``).

A key selects the resources one runner reconciles, under a state lock of its own (the lock scope
is the key):

- ``provider:NAME``: the resources of one provider (``provider:cmdb``);
- ``label:KEY=VALUE``: the resources whose source entity has that label in ``metadata.labels``
  (an entity's resources, blueprint output included, all follow the entity's labels; a resource
  in state whose entity is no longer in the catalog belongs to no label partition);
- ``shard:I/N``: a stable hash shard of the address (sha256 of ``provider.type.name`` mod N);
  shards 0..N-1 together cover every resource exactly once.

Partitions of one scheme (all shards of one N, all providers) are disjoint; runners should use
one scheme at a time. Pure: no I/O. What a partitioned runner validates, loads and compiles is
``scope.py``'s business.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from spo_gitops.errors import SpoError
from spo_gitops.state.base import ResourceState, StateSnapshot

_KEY = re.compile(
    r"^(?:provider:(?P<provider>[a-z][a-z0-9_-]*)"
    r"|label:(?P<label>[A-Za-z0-9./_-]+)=(?P<value>[A-Za-z0-9._-]*)"
    r"|shard:(?P<index>\d+)/(?P<count>\d+))$"
)

Labels = Callable[[str | None], Mapping[str, str]]  # entity "Kind:name" -> its labels


class PartitionKeyError(SpoError, ValueError):
    """A --partition key that does not parse."""


def shard_of(address: str, count: int) -> int:
    return int.from_bytes(hashlib.sha256(address.encode()).digest()[:8], "big") % count


@dataclass(frozen=True)
class Partition:
    key: str
    kind: Literal["provider", "label", "shard"]
    name: str = ""  # provider name, or label key
    value: str = ""  # label value
    index: int = 0
    count: int = 1

    def covers(self, address: str, entity: str | None, labels: Labels) -> bool:
        if self.kind == "provider":
            return address.split(".", 1)[0] == self.name
        if self.kind == "shard":
            return shard_of(address, self.count) == self.index
        return labels(entity).get(self.name) == self.value


def parse_partition(key: str) -> Partition:
    m = _KEY.match(key)
    if m is None:
        raise PartitionKeyError(
            f"not a partition key: {key!r}",
            hint="use provider:NAME, label:KEY=VALUE or shard:I/N (e.g. shard:0/4)",
        )
    if m["provider"]:
        return Partition(key, "provider", name=m["provider"])
    if m["label"]:
        return Partition(key, "label", name=m["label"], value=m["value"])
    index, count = int(m["index"]), int(m["count"])
    if not 0 <= index < count:
        raise PartitionKeyError(
            f"shard {index} of {count} does not exist: shards go from 0 to {count - 1}",
            hint="use shard:I/N with 0 <= I < N",
        )
    return Partition(key, "shard", index=index, count=count)


def entity_labels(index: Any) -> Labels:
    """Labels of an entity ("Kind:name") as the current catalog has them."""

    def labels(entity: str | None) -> Mapping[str, str]:
        if not entity or ":" not in entity:
            return {}
        kind, name = entity.split(":", 1)
        doc = index.get(kind, name)
        metadata = doc.data.get("metadata") if doc is not None else None
        found = metadata.get("labels") if isinstance(metadata, dict) else None
        return found if isinstance(found, dict) else {}

    return labels


def restrict(snapshot: StateSnapshot, partition: Partition, labels: Labels) -> StateSnapshot:
    """The snapshot with only the partition's resources (lineage and serial kept)."""
    kept = {
        addr: res
        for addr, res in snapshot.resources.items()
        if partition.covers(addr, res.entity, labels)
    }
    return StateSnapshot(snapshot.lineage, snapshot.serial, kept)


def fingerprint(resources: Iterable[ResourceState]) -> str:
    """A digest of what the state holds for these resources: what a partitioned plan's
    staleness is judged by (instead of the global serial, which other partitions move)."""
    h = hashlib.sha256()
    for r in sorted(resources, key=lambda r: r.address):
        h.update(f"{r.address}\0{r.id}\0{r.hash}\0{int(r.protected)}\0".encode())
        h.update(",".join(r.depends_on).encode() + b"\n")
    return "sha256:" + h.hexdigest()
