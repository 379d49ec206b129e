"""``http``: a generic REST provider (collections of JSON records), with a ServiceNow profile.

Each resource type is a collection at ``base_url + path``: list it (GET, paginated), read one
record (GET path/id; 404 is "does not exist"), create (POST path), update (PATCH or PUT path/id),
delete (DELETE path/id; 404 is fine). ``create`` is idempotent by name: it looks the name up first
(``lookup`` query) and adopts (updates) a record it finds; only when none exists does it POST.

Retries: every call is retried inside the provider (tenacity, ``retries`` attempts in all,
exponential backoff from ``backoff`` seconds) on connection errors, timeouts, 408, 429 and 5xx;
a 429's or 503's ``Retry-After`` is honoured (capped at ``max_retry_after``). We retry here,
not only in the apply executor, because plan's refresh calls ``read_many`` outside the executor.
When the attempts are used up the provider raises :class:`TransientProviderError`, so that apply
retries the whole action again later. A POST is never retried blindly: the lookup-then-POST step
is retried as a whole, so a POST whose answer was lost is found by name, never repeated.

The auth token is read from the environment variable named by ``token_env`` when the provider is
configured; it goes into the Authorization header only and is scrubbed from every message.
Answers that are not JSON, or not the shape expected, are a :class:`ProviderError` naming the
method and path: the state is never written from a guess.
"""

from __future__ import annotations

import builtins
import os
import threading
import urllib.parse
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar, Literal

import requests
from pydantic import Field
from tenacity import Retrying, retry_if_exception_type, stop_after_attempt, stop_after_delay
from tenacity.wait import wait_base

from spo_gitops.providers.base import (
    Observed,
    Provider,
    ProviderContext,
    ProviderError,
    ProviderSettings,
    ResourceType,
    TransientProviderError,
)
from spo_gitops.providers.http_profiles import PERMISSIVE, PROFILES

Pagination = Literal["none", "page", "link", "offset"]
_TRANSIENT_STATUS = frozenset({408, 425, 429, 500, 502, 503, 504})


class HttpTypeSettings(ProviderSettings):
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


class _Transient(TransientProviderError):
    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class _WaitRetryAfter(wait_base):
    """Exponential backoff, or the server's Retry-After when it sent one (capped)."""

    def __init__(self, initial: float, cap: float) -> None:
        self.initial = initial
        self.cap = cap

    def __call__(self, retry_state: Any) -> float:
        exc = retry_state.outcome.exception() if retry_state.outcome else None
        if isinstance(exc, _Transient) and exc.retry_after is not None:
            return min(max(exc.retry_after, 0.0), self.cap)
        return float(min(self.initial * 2 ** (retry_state.attempt_number - 1), self.cap or 30.0))


def _retry_after(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return float(value)
    except ValueError:
        pass
    try:
        import datetime as dt
        from email.utils import parsedate_to_datetime

        when = parsedate_to_datetime(value)
        return max(0.0, (when - dt.datetime.now(dt.UTC)).total_seconds())
    except (TypeError, ValueError):
        return None


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
        self._local = threading.local()
        self._sessions: list[requests.Session] = []
        self._lock = threading.Lock()

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

    def _session(self) -> requests.Session:
        session: requests.Session | None = getattr(self._local, "session", None)
        if session is None:
            session = requests.Session()
            session.headers["Accept"] = "application/json"
            if self._token:
                session.headers["Authorization"] = f"{self.cfg.auth_scheme} {self._token}"
            session.verify = self.cfg.verify_tls
            self._local.session = session
            with self._lock:
                self._sessions.append(session)
        return session

    def _scrub(self, text: str) -> str:
        if self._token:
            text = text.replace(self._token, "***")
        return text

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

    def _url(self, path: str) -> str:
        return self.base + "/" + path.lstrip("/")

    def _retrying(self) -> Retrying:
        return Retrying(
            stop=stop_after_attempt(self.cfg.retries) | stop_after_delay(self.cfg.max_elapsed),
            wait=_WaitRetryAfter(self.cfg.backoff, self.cfg.max_retry_after),
            retry=retry_if_exception_type(_Transient),
            reraise=True,
        )

    def _once(
        self, method: str, url: str, *, params: Mapping[str, Any] | None = None, body: Any = None
    ) -> requests.Response:
        """One request; transient failures raise _Transient, others ProviderError."""
        shown = f"{method} {urllib.parse.urlsplit(url).path}"
        try:
            resp = self._session().request(
                method, url, params=params, json=body, timeout=self.cfg.timeout
            )
        except requests.Timeout:
            raise _Transient(f"http: {shown}: no answer within {self.cfg.timeout:g} s") from None
        except requests.ConnectionError as e:
            why = type(e.__context__ or e).__name__
            raise _Transient(f"http: {shown}: connection failed ({why})") from None
        except requests.RequestException as e:
            raise ProviderError(self._scrub(f"http: {shown}: {type(e).__name__}: {e}")) from None
        if resp.status_code in _TRANSIENT_STATUS:
            wait = _retry_after(resp.headers.get("Retry-After"))
            raise _Transient(f"http: {shown}: HTTP {resp.status_code}", retry_after=wait)
        if resp.status_code in (401, 403):
            where = f" (token from ${self.cfg.token_env})" if self.cfg.token_env else ""
            raise ProviderError(f"http: {shown}: HTTP {resp.status_code}: access refused{where}")
        return resp

    def _request(
        self, method: str, url: str, *, params: Mapping[str, Any] | None = None, body: Any = None
    ) -> requests.Response:
        try:
            return self._retrying()(lambda: self._once(method, url, params=params, body=body))
        except _Transient as e:
            raise TransientProviderError(
                f"{e.message} (gave up after {self.cfg.retries} attempts)"
            ) from None

    def _json(self, resp: requests.Response, shown: str) -> Any:
        if resp.status_code >= 400:
            excerpt = self._scrub(resp.text[:200].strip())
            raise ProviderError(f"http: {shown}: HTTP {resp.status_code}: {excerpt}")
        try:
            return resp.json()
        except ValueError:
            raise ProviderError(
                f"http: {shown}: the answer is not valid JSON (HTTP {resp.status_code}, "
                f"{len(resp.content)} bytes)"
            ) from None

    def _unwrap(self, coll: Collection, data: Any, shown: str) -> Any:
        if coll.envelope:
            if not isinstance(data, dict) or coll.envelope not in data:
                raise ProviderError(
                    f"http: {shown}: unexpected answer: no {coll.envelope!r} envelope"
                )
            return data[coll.envelope]
        return data

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
        url = self._url(f"{coll.path}/{urllib.parse.quote(id_, safe='')}")
        shown = f"GET {coll.path}/{id_}"
        resp = self._request("GET", url)
        if resp.status_code == 404:
            return None
        return self._record(coll, self._unwrap(coll, self._json(resp, shown), shown), shown)

    def _find(self, coll: Collection, name: str) -> builtins.list[Observed]:
        template = coll.lookup or {coll.name_field: "{name}"}
        params = {k: v.replace("{name}", name) for k, v in template.items()}
        found = [o for o in self._pages(coll, params) if o.name == name]
        return found

    def create(self, type_: str, name: str, properties: Mapping[str, Any]) -> Observed:
        coll = self._collection(type_)
        body = self._body(coll, name, properties)
        shown = f"POST {coll.path}"

        def attempt() -> Observed:
            found = self._find(coll, name)
            if len(found) > 1:
                ids = ", ".join(o.id for o in found)
                raise ProviderError(
                    f"http.{type_}.{name}: {len(found)} records have that name ({ids}); "
                    "cannot tell which one to adopt"
                )
            if found:
                return self._write(coll, found[0].id, name, body)
            resp = self._once("POST", self._url(coll.path), body=body)
            return self._record(coll, self._unwrap(coll, self._json(resp, shown), shown), shown)

        try:
            return self._retrying()(attempt)
        except _Transient as e:
            raise TransientProviderError(
                f"{e.message} (gave up after {self.cfg.retries} attempts)"
            ) from None

    def _write(self, coll: Collection, id_: str, name: str, body: Mapping[str, Any]) -> Observed:
        url = self._url(f"{coll.path}/{urllib.parse.quote(id_, safe='')}")
        shown = f"{coll.update_method} {coll.path}/{id_}"
        resp = self._request(coll.update_method, url, body=dict(body))
        if resp.status_code == 404:
            raise ProviderError(f"http.{coll.rtype.name}.{name}: not found (id {id_})")
        return self._record(coll, self._unwrap(coll, self._json(resp, shown), shown), shown)

    def update(self, type_: str, id_: str, name: str, properties: Mapping[str, Any]) -> Observed:
        coll = self._collection(type_)
        return self._write(coll, id_, name, self._body(coll, name, properties))

    def delete(self, type_: str, id_: str) -> None:
        coll = self._collection(type_)
        url = self._url(f"{coll.path}/{urllib.parse.quote(id_, safe='')}")
        resp = self._request("DELETE", url)
        if resp.status_code >= 400 and resp.status_code != 404:
            self._json(resp, f"DELETE {coll.path}/{id_}")  # raises with the status

    def list(self, type_: str) -> list[Observed]:
        coll = self._collection(type_)
        return sorted(self._pages(coll, {}), key=lambda o: o.name)

    def _pages(self, coll: Collection, query: Mapping[str, str]) -> builtins.list[Observed]:
        out: builtins.list[Observed] = []
        size = self.cfg.page_size
        url: str | None = self._url(coll.path)
        for number in range(self.cfg.max_pages):
            assert url is not None
            params: dict[str, Any] = dict(query)
            if coll.pagination == "page":
                params.update({coll.page_param: number + 1, coll.limit_param: size})
            elif coll.pagination == "offset":
                params.update({coll.offset_param: number * size, coll.limit_param: size})
            elif coll.pagination == "link" and number == 0:
                params[coll.limit_param] = size
            elif coll.pagination == "link":
                params = {}  # the next link carries its own query
            shown = f"GET {coll.path}"
            resp = self._request("GET", url, params=params or None)
            items = self._unwrap(coll, self._json(resp, shown), shown)
            if not isinstance(items, list):
                raise ProviderError(f"http: {shown}: unexpected answer: expected a list")
            out.extend(self._record(coll, item, shown) for item in items)
            if coll.pagination == "none":
                return out
            if coll.pagination == "link":
                nxt = resp.links.get("next", {}).get("url")
                if not nxt:
                    return out
                url = urllib.parse.urljoin(url, nxt)
                if not url.startswith(self.base + "/"):
                    raise ProviderError(
                        f"http: {shown}: the next-page link leaves {self.base}; refusing to "
                        "send the token there"
                    )
            elif len(items) < size:
                return out
        raise ProviderError(
            f"http: GET {coll.path}: more than {self.cfg.max_pages} pages (max_pages)"
        )

    def close(self) -> None:
        with self._lock:
            sessions, self._sessions = self._sessions, []
        for session in sessions:
            session.close()
        self._local = threading.local()


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
