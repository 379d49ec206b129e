"""``http``: a generic REST provider (collections of JSON records), with a ServiceNow profile.

Each resource type is a collection at ``base_url + path``: list it (GET, paginated), read one
record (GET path/id; 404 is "does not exist"), create (POST path), update (PATCH or PUT path/id),
delete (DELETE path/id; 404 is fine).

Rules it keeps beyond the contract's:

- **One call per create where the API allows it.** Where the API refuses a second record of a
  name (``unique_names``: 409 Conflict), create POSTs at once and resolves a conflict by adopting
  the record of that name. Elsewhere it looks the name up first (``lookup`` query) and adopts
  (updates) what it finds; only when none exists does it POST.
- **A slow create is not duplicated.** A POST is repeated only where that cannot make a second
  record: with the same idempotency key (``idempotency_header``, where the API has one), where
  the API refuses duplicates, or, after an answer that was lost (a timeout, a dropped or cut-off
  answer, 500/502/504), once a lookup has found no record during ``ambiguous_wait`` seconds
  (default twice ``timeout``). A 429 or 503 means the server did nothing: POSTed again as is.
- **Answers are checked.** A create's or update's answer must be the record asked for (its name
  and, for an update, its id), a read's the id asked for; otherwise a ProviderError, and apply
  writes nothing to the state.
- **Refresh in pages.** ``read_many`` uses a batch query by ids (``batch_read``) or the
  collection's listing pages, and a GET only for ids it did not see there.

Calls, retries and the adaptive limit on calls in flight are in
:mod:`spo_gitops.providers.http_transport`. We retry there, not only in the apply executor,
because plan's refresh reads outside the executor. When the attempts are used up the provider
raises :class:`TransientProviderError`, so that apply retries the whole action again later.

The auth token is read from the environment variable named by ``token_env`` when the provider is
configured; it goes into the Authorization header only and is scrubbed from every message.
Answers that are not JSON, or not the shape expected, are a :class:`ProviderError` naming the
method and path: the state is never written from a guess.
"""

from __future__ import annotations

import builtins
import os
import threading
import time
import urllib.parse
import uuid
from collections.abc import Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, ClassVar, Literal

from pydantic import Field

from spo_gitops.providers.base import (
    Observed,
    Provider,
    ProviderContext,
    ProviderError,
    ProviderSettings,
    ResourceType,
    SettingsModel,
)
from spo_gitops.providers.http_profiles import PERMISSIVE, PROFILES
from spo_gitops.providers.http_transport import Answer, Attempts, Transient, Transport

Pagination = Literal["none", "page", "link", "offset"]


class HttpTypeSettings(SettingsModel):
    """One collection; unset fields come from the profile's defaults."""

    path: str | None = Field(default=None, description="Collection path below base_url.")
    id_field: str | None = Field(default=None, description="Remote field holding the id.")
    name_field: str | None = Field(default=None, description="Remote field holding the name.")
    fields: dict[str, str] | None = Field(
        default=None, description="Property -> remote field (unmapped properties keep their name)."
    )
    envelope: str | None = Field(
        default=None, description="Key wrapping every answer, e.g. result ('' for none)."
    )
    pagination: Pagination | None = Field(default=None, description="none|page|link|offset.")
    page_param: str | None = Field(default=None, description="Page number parameter (page).")
    limit_param: str | None = Field(default=None, description="Page size parameter.")
    offset_param: str | None = Field(default=None, description="Offset parameter (offset).")
    lookup: dict[str, str] | None = Field(
        default=None, description="Query parameters finding a record by {name}."
    )
    update_method: Literal["PATCH", "PUT"] | None = Field(default=None, description="Update verb.")
    unique_names: bool | None = Field(
        default=None,
        description="The API refuses a second record of a name with 409: create POSTs at once.",
    )
    idempotency_header: str | None = Field(
        default=None, description="Header carrying an idempotency key on POST, if the API has one."
    )
    batch_read: dict[str, str] | None = Field(
        default=None, description="Query parameters reading records by {ids} (comma-separated)."
    )
    clear_value: Any = Field(default=None, description="Value sent to clear a removed property.")
    schema_: dict[str, Any] | None = Field(
        default=None, alias="schema", description="JSON Schema of the properties."
    )
    description: str | None = Field(default=None, description="What the type is.")
    sensitive: list[str] | None = Field(default=None, description="Secret properties.")
    replace_on: list[str] | None = Field(default=None, description="Replace-only properties.")


class HttpSettings(ProviderSettings):
    base_url: str = Field(pattern=r"^https?://", description="Root URL of the REST API.")
    profile: Literal["generic", "servicenow"] = Field(
        default="generic", description="Ready defaults and types (servicenow: Table API)."
    )
    token_env: str | None = Field(
        default=None, description="Environment variable holding the API token (never logged)."
    )
    auth_scheme: str = Field(default="Bearer", description="Authorization scheme of the token.")
    timeout: float = Field(default=10.0, gt=0, le=300, description="Seconds per request.")
    retries: int = Field(default=4, ge=1, le=20, description="Attempts per call in all.")
    backoff: float = Field(default=0.5, ge=0, le=60, description="First retry delay, seconds.")
    max_retry_after: float = Field(default=30.0, ge=0, description="Cap on Retry-After, seconds.")
    max_elapsed: float = Field(default=120.0, gt=0, description="Give up a call after (s).")
    page_size: int = Field(default=100, ge=1, le=10_000, description="Records per page.")
    max_pages: int = Field(default=1000, ge=1, description="Refuse longer listings.")
    verify_tls: bool = Field(default=True, description="Check the server's TLS certificate.")
    adaptive: bool = Field(
        default=True, description="Adapt the calls in flight to 429s and latency (AIMD)."
    )
    ambiguous_wait: float | None = Field(
        default=None,
        ge=0,
        le=600,
        description="Seconds to look for a record after a POST whose answer was lost, before "
        "POSTing again (default: twice timeout).",
    )
    types: dict[str, HttpTypeSettings] = Field(
        default_factory=dict, description="Resource types: the profile's, changed or added to."
    )


@dataclass(frozen=True)
class Collection:
    """One resource type's collection, every setting resolved."""

    rtype: ResourceType
    path: str
    id_field: str = "id"
    name_field: str = "name"
    fields: Mapping[str, str] | None = None
    envelope: str = ""
    pagination: Pagination = "none"
    page_param: str = "page"
    limit_param: str = "limit"
    offset_param: str = "offset"
    lookup: Mapping[str, str] | None = None
    update_method: str = "PATCH"
    clear_value: Any = None
    unique_names: bool = False
    idempotency_header: str = ""
    batch_read: Mapping[str, str] | None = None

    def remote(self, prop: str) -> str:
        return (self.fields or {}).get(prop, prop)

    def declared(self) -> list[str] | None:
        """The properties read back: the schema's, else the mapped ones, else None (all)."""
        props = self.rtype.schema.get("properties")
        if isinstance(props, Mapping) and props:
            return list(props)
        return list(self.fields) if self.fields else None


class _OpenTypes(Mapping[str, ResourceType]):
    """The class-level types, for callers without a project's settings: every profile's, plus
    any other name with a permissive schema. With settings (``spo validate``, plan, apply),
    :meth:`HttpProvider.configured_types` gives exactly what spo.yaml configures."""

    def __init__(self, known: Mapping[str, ResourceType]) -> None:
        self._known = dict(known)

    def __getitem__(self, key: str) -> ResourceType:
        if key in self._known:
            return self._known[key]
        if isinstance(key, str) and key:
            return ResourceType(key, PERMISSIVE, "A record of a REST collection (from spo.yaml).")
        raise KeyError(key)

    def __iter__(self) -> Iterator[str]:
        return iter(self._known)

    def __len__(self) -> int:
        return len(self._known)

    def __contains__(self, key: object) -> bool:
        return key in self._known


def _profile_types() -> dict[str, ResourceType]:
    out = {"record": ResourceType("record", PERMISSIVE, "A record of a REST collection.")}
    for profile in PROFILES.values():
        for name, raw in profile["types"].items():
            out.setdefault(
                name,
                ResourceType(
                    name,
                    raw["schema"],
                    raw.get("description", ""),
                    replace_on=frozenset(raw.get("replace_on", ())),
                ),
            )
    return out


class HttpProvider(Provider):
    """A generic REST API (collections of JSON records); profile servicenow for its Table API."""

    name = "http"
    settings_model = HttpSettings
    types: ClassVar[Mapping[str, ResourceType]] = _OpenTypes(_profile_types())

    def __init__(self, settings: ProviderSettings, context: ProviderContext) -> None:
        super().__init__(settings, context)
        assert isinstance(settings, HttpSettings)
        self.cfg = settings
        self.base = settings.base_url.rstrip("/")
        self._token: str | None = None
        if settings.token_env:
            token = os.environ.get(settings.token_env)
            if not token:
                raise ProviderError(
                    f"http: the environment variable {settings.token_env} (token_env) is not set",
                    hint="export the API token in that variable; it is never written anywhere",
                )
            self._token = token
        self.collections = self._collections(settings)
        self.http = Transport(settings, self.base, self._token)
        self._reader: ThreadPoolExecutor | None = None
        self._pool_lock = threading.Lock()

    @classmethod
    def configured_types(cls, settings: ProviderSettings) -> Mapping[str, ResourceType]:
        """The profile's types and those spo.yaml adds or changes, with their schemas."""
        assert isinstance(settings, HttpSettings)
        return {name: coll.rtype for name, coll in cls._collections(settings).items()}

    @staticmethod
    def _collections(settings: HttpSettings) -> dict[str, Collection]:
        profile = PROFILES[settings.profile]
        defaults: dict[str, Any] = dict(profile["defaults"])
        raw_types: dict[str, dict[str, Any]] = {
            name: dict(raw) for name, raw in profile["types"].items()
        }
        for name, override in settings.types.items():
            # Python names, as the profiles use them (``schema_`` is the one renamed field)
            given = override.model_dump(exclude_none=True)
            if "schema_" in given:
                given["schema"] = given.pop("schema_")
            if "clear_value" not in override.model_fields_set:
                given.pop("clear_value", None)
            raw_types[name] = {**raw_types.get(name, {}), **given}
        out: dict[str, Collection] = {}
        for name, raw in raw_types.items():
            merged = {**defaults, **raw}
            if not merged.get("path"):
                raise ProviderError(f"http: type {name!r} has no path (providers.http.types)")
            rtype = ResourceType(
                name,
                merged.get("schema") or PERMISSIVE,
                merged.get("description", ""),
                sensitive=frozenset(merged.get("sensitive", ())),
                replace_on=frozenset(merged.get("replace_on", ())),
            )
            keys = set(Collection.__dataclass_fields__) - {"rtype"}
            out[name] = Collection(rtype, **{k: v for k, v in merged.items() if k in keys})
        return out

    # --- plumbing ------------------------------------------------------------------------------

    def _collection(self, type_: str) -> Collection:
        coll = self.collections.get(type_)
        if coll is None:
            raise ProviderError(
                f"http has no resource type {type_!r} configured; "
                f"its types: {', '.join(sorted(self.collections)) or 'none'}",
                hint="add it under providers.http.types in spo.yaml (path, id_field, ...)",
            )
        return coll

    def resource_type(self, type_: str) -> ResourceType:
        """The configured type (its schema from the profile or spo.yaml)."""
        return self._collection(type_).rtype

    def _item_url(self, coll: Collection, id_: str) -> str:
        return self.http.url(f"{coll.path}/{urllib.parse.quote(id_, safe='')}")

    def _unwrap(self, coll: Collection, data: Any, shown: str) -> Any:
        if coll.envelope:
            if not isinstance(data, dict) or coll.envelope not in data:
                raise ProviderError(
                    f"http: {shown}: unexpected answer: no {coll.envelope!r} envelope"
                )
            return data[coll.envelope]
        return data

    def _answer(self, coll: Collection, resp: Answer, shown: str) -> Observed:
        return self._record(coll, self._unwrap(coll, self.http.json(resp, shown), shown), shown)

    def _record(self, coll: Collection, data: Any, shown: str) -> Observed:
        if not isinstance(data, dict):
            raise ProviderError(f"http: {shown}: unexpected answer: a record must be an object")
        id_ = data.get(coll.id_field)
        name = data.get(coll.name_field)
        if not isinstance(id_, str | int) or isinstance(id_, bool) or str(id_) == "":
            raise ProviderError(f"http: {shown}: unexpected answer: no {coll.id_field!r} field")
        if not isinstance(name, str):
            raise ProviderError(f"http: {shown}: unexpected answer: no {coll.name_field!r} field")
        return Observed(str(id_), name, self._properties(coll, data))

    def _properties(self, coll: Collection, data: Mapping[str, Any]) -> dict[str, Any]:
        declared = coll.declared()
        props: dict[str, Any] = {}
        if declared is None:
            skip = {coll.id_field, coll.name_field}
            items = [(k, k) for k in data if k not in skip]
        else:
            items = [(p, coll.remote(p)) for p in declared]
        schema_props = coll.rtype.schema.get("properties") or {}
        for prop, field in items:
            value = data.get(field)
            if value is None or value == "":
                continue
            props[prop] = _coerce(value, schema_props.get(prop))
        return props

    def _body(self, coll: Collection, name: str, properties: Mapping[str, Any]) -> dict[str, Any]:
        self.check_properties(coll.rtype.name, name, properties)
        body = {coll.remote(k): v for k, v in properties.items()}
        for prop in coll.declared() or ():
            if prop not in properties:
                body[coll.remote(prop)] = coll.clear_value
        body[coll.name_field] = name
        return body

    # --- the contract ------------------------------------------------------------------------

    def read(self, type_: str, id_: str) -> Observed | None:
        coll = self._collection(type_)
        shown = f"GET {coll.path}/{id_}"
        resp = self.http.request("GET", self._item_url(coll, id_))
        if resp.status_code == 404:
            return None
        observed = self._answer(coll, resp, shown)
        if observed.id != id_:
            raise ProviderError(
                f"http: {shown}: the answer is another record (id {observed.id!r}); "
                "refusing to take it for the one asked for"
            )
        return observed

    def read_many(self, type_: str, ids: Sequence[str]) -> dict[str, Observed | None]:
        """Refresh in few calls: the collection's batch query (``batch_read``, ``page_size``
        - 1 ids a call) or its listing pages (at most one page per ten ids), then a GET, in
        parallel, for each id not seen, so that only a 404 makes a record missing."""
        coll = self._collection(type_)
        out: dict[str, Observed | None] = dict.fromkeys(ids)
        wanted = set(out)
        seen: dict[str, Observed] = {}
        if coll.batch_read and wanted:
            unique = sorted(wanted)
            step = max(1, self.cfg.page_size - 1)  # a page never full: no call for a next one
            for start in range(0, len(unique), step):
                chunk = ",".join(unique[start : start + step])
                query = {k: v.replace("{ids}", chunk) for k, v in coll.batch_read.items()}
                seen.update((o.id, o) for o in self._pages(coll, query) if o.id in wanted)
        elif len(wanted) > 2:
            budget = min(self.cfg.max_pages, max(1, len(wanted) // 10))
            for page in self._iter_pages(coll, {}, budget):
                seen.update((o.id, o) for o in page if o.id in wanted)
                if len(seen) == len(wanted):
                    break
        out.update(seen)
        rest = sorted(wanted - set(seen))
        if len(rest) == 1:
            out[rest[0]] = self.read(type_, rest[0])
        elif rest:
            reads = self._pool().map(lambda i: self.read(type_, i), rest)
            out.update(zip(rest, reads, strict=True))
        return out

    def _pool(self) -> ThreadPoolExecutor:
        with self._pool_lock:
            if self._reader is None:
                self._reader = ThreadPoolExecutor(
                    max_workers=self.cfg.parallelism or 10, thread_name_prefix="http-read"
                )
            return self._reader

    def _find(self, coll: Collection, name: str) -> Observed | None:
        """The one record of that name (lookup query); ProviderError when there are several."""
        template = coll.lookup or {coll.name_field: "{name}"}
        params = {k: v.replace("{name}", name) for k, v in template.items()}
        found = [o for o in self._pages(coll, params) if o.name == name]
        if len(found) > 1:
            ids = ", ".join(o.id for o in found)
            raise ProviderError(
                f"http.{coll.rtype.name}.{name}: {len(found)} records have that name ({ids}); "
                "cannot tell which one to adopt"
            )
        return found[0] if found else None

    def _expect(
        self, coll: Collection, shown: str, got: Observed, name: str, id_: str | None = None
    ) -> Observed:
        return self.expect(coll.rtype.name, name, got, id_=id_, what=shown)

    def create(self, type_: str, name: str, properties: Mapping[str, Any]) -> Observed:
        coll = self._collection(type_)
        body = self._body(coll, name, properties)
        if not coll.unique_names:  # the API allows duplicates: look the name up first
            found = self._find(coll, name)
            if found is not None:
                return self._write(coll, found.id, name, body)
        return self._post(coll, name, body)

    def _post(self, coll: Collection, name: str, body: Mapping[str, Any]) -> Observed:
        """POST once per attempt. Repeated only where that cannot duplicate: with the same
        idempotency key, where the API refuses a second record of the name (409 is resolved
        by adopting that record), or after a lookup that waited ``ambiguous_wait`` for a
        request that may still be running at the server."""
        shown = f"POST {coll.path}"
        key = uuid.uuid4().hex if coll.idempotency_header else None
        headers = {coll.idempotency_header: key} if key else None
        url = self.http.url(coll.path)
        budget = Attempts(self.cfg)
        while True:
            try:
                resp = self.http.once("POST", url, body=dict(body), headers=headers)
            except Transient as e:
                if e.ambiguous and key is None and not coll.unique_names:
                    found = self._settle(coll, name)
                    if found is not None:
                        return self._write(coll, found.id, name, body)
                if not budget.again(e):
                    raise self.http.gave_up(e, budget) from None
                continue
            if resp.status_code == 409 and coll.unique_names:
                found = self._find(coll, name)
                if found is None:
                    raise ProviderError(
                        f"http.{coll.rtype.name}.{name}: {shown}: HTTP 409 (conflict), but no "
                        "record of that name is found"
                    )
                return self._write(coll, found.id, name, body)
            return self._expect(coll, shown, self._answer(coll, resp, shown), name)

    def _settle(self, coll: Collection, name: str) -> Observed | None:
        """After a POST whose answer was lost: look the name up now and then until
        ``ambiguous_wait`` seconds have passed (the server may still be creating it)."""
        wait = self.cfg.ambiguous_wait
        if wait is None:
            wait = 2 * self.cfg.timeout
        deadline = time.monotonic() + wait
        for _ in range(10):
            found = self._find(coll, name)
            left = deadline - time.monotonic()
            if found is not None or left <= 0:
                return found
            time.sleep(min(left, max(wait / 8, 0.01)))
        return self._find(coll, name)

    def _write(self, coll: Collection, id_: str, name: str, body: Mapping[str, Any]) -> Observed:
        shown = f"{coll.update_method} {coll.path}/{id_}"
        resp = self.http.request(coll.update_method, self._item_url(coll, id_), body=dict(body))
        if resp.status_code == 404:
            raise ProviderError(f"http.{coll.rtype.name}.{name}: not found (id {id_})")
        return self._expect(coll, shown, self._answer(coll, resp, shown), name, id_)

    def update(self, type_: str, id_: str, name: str, properties: Mapping[str, Any]) -> Observed:
        coll = self._collection(type_)
        return self._write(coll, id_, name, self._body(coll, name, properties))

    def delete(self, type_: str, id_: str) -> None:
        coll = self._collection(type_)
        resp = self.http.request("DELETE", self._item_url(coll, id_))
        if resp.status_code >= 400 and resp.status_code != 404:
            self.http.json(resp, f"DELETE {coll.path}/{id_}")  # raises with the status

    def list(self, type_: str) -> list[Observed]:
        coll = self._collection(type_)
        return sorted(self._pages(coll, {}), key=lambda o: o.name)

    def _pages(self, coll: Collection, query: Mapping[str, str]) -> builtins.list[Observed]:
        out: builtins.list[Observed] = []
        for page in self._iter_pages(coll, query, self.cfg.max_pages):
            out.extend(page)
        return out

    def _iter_pages(
        self, coll: Collection, query: Mapping[str, str], most: int
    ) -> Iterator[builtins.list[Observed]]:
        """The listing, page by page; ProviderError past ``max_pages`` (only when ``most`` is
        ``max_pages``: a caller with a smaller budget just stops)."""
        size = self.cfg.page_size
        url = self.http.url(coll.path)
        shown = f"GET {coll.path}"
        for number in range(most):
            params: dict[str, Any] = dict(query)
            if coll.pagination == "page":
                params.update({coll.page_param: number + 1, coll.limit_param: size})
            elif coll.pagination == "offset":
                params.update({coll.offset_param: number * size, coll.limit_param: size})
            elif coll.pagination == "link" and number == 0:
                params[coll.limit_param] = size
            elif coll.pagination == "link":
                params = {}  # the next link carries its own query
            resp = self.http.request("GET", url, params=params or None)
            items = self._unwrap(coll, self.http.json(resp, shown), shown)
            if not isinstance(items, builtins.list):
                raise ProviderError(f"http: {shown}: unexpected answer: expected a list")
            yield [self._record(coll, item, shown) for item in items]
            if coll.pagination == "none":
                return
            if coll.pagination == "link":
                nxt = resp.links.get("next", {}).get("url")
                if not nxt:
                    return
                url = urllib.parse.urljoin(url, nxt)
                if not url.startswith(self.base + "/"):
                    raise ProviderError(
                        f"http: {shown}: the next-page link leaves {self.base}; refusing to "
                        "send the token there"
                    )
            elif len(items) < size:
                return
        if most == self.cfg.max_pages:
            raise ProviderError(
                f"http: GET {coll.path}: more than {self.cfg.max_pages} pages (max_pages)"
            )

    def close(self) -> None:
        with self._pool_lock:
            reader, self._reader = self._reader, None
        if reader is not None:
            reader.shutdown(wait=True)
        self.http.close()


def _coerce(value: Any, schema: Any) -> Any:
    """Remote strings back to the schema's scalar type (ServiceNow answers strings only)."""
    if not isinstance(value, str) or not isinstance(schema, Mapping):
        return value
    kind = schema.get("type")
    try:
        if kind == "integer":
            return int(value)
        if kind == "number":
            number = float(value)
            return int(number) if number.is_integer() and "." not in value else number
        if kind == "boolean" and value in ("true", "false"):
            return value == "true"
    except ValueError:
        return value
    return value
