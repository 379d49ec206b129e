"""``aws``: AWS Service Catalog portfolios and products, AppRegistry applications (boto3).

Types:

- ``portfolio``: a Service Catalog portfolio per business domain (DisplayName = the resource
  name; description, providerName, tags);
- ``product``: a Service Catalog product per live service (Name = the resource name; owner,
  description, distributor, supportEmail, supportUrl, portfolio). The product's portfolio (the
  association) is recorded as its ``spo:portfolio`` tag;
- ``application``: an AppRegistry application per service (description, which the blueprint
  fills with the owner, tier and SLA summary).

Every object carries the tags ``spo:managed-by = spo-gitops`` and ``spo:name``; ``create`` looks
the name up first (portfolios by DisplayName, products by name, applications by name) and adopts
what it finds, so a crash never duplicates. Products are found through the Resource Groups
Tagging API (by the ``spo:`` tags), which also reads their tags back.

What the tests' server (moto, in server mode) implements decides the model: moto has no
Update* call for these services, no AssociateProductWithPortfolio, no SearchProductsAsAdmin and,
for AppRegistry, no Get/Update/DeleteApplication and no attribute groups. Hence: every property
is replace-only (``update`` recreates the object under its name and returns the new id), the
association is a tag, and the attribute group is folded into the application's description.
Application update and delete call the real AppRegistry API (UpdateApplication,
DeleteApplication), which moto does not serve; they are not covered by the tests.

Credentials and region come from the usual AWS sources (environment, profile, instance role);
settings may set ``region``, ``profile`` and ``endpoint_url`` (a test server). Throttling, 5xx
and connection errors raise :class:`TransientProviderError` (after botocore's own retries).
Every call holds a slot of the provider's :class:`AdaptiveLimiter` (as the http provider's):
throttling cuts the calls in flight for every thread, answers in time raise them again.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any, ClassVar

from pydantic import Field

from spo_gitops.extras import guard
from spo_gitops.models.common import NAME_PATTERN
from spo_gitops.providers.base import (
    Observed,
    Provider,
    ProviderContext,
    ProviderError,
    ProviderSettings,
    ResourceType,
    TransientProviderError,
)
from spo_gitops.providers.limiter import AdaptiveLimiter

MANAGED = ("spo:managed-by", "spo-gitops")
_2020 = "https://json-schema.org/draft/2020-12/schema"
_TEXT: dict[str, Any] = {"type": "string", "maxLength": 1000}
_TAGS: dict[str, Any] = {
    "type": "object",
    "description": "Tags (keys starting with spo: are reserved).",
    "propertyNames": {"not": {"pattern": "^spo:"}, "maxLength": 128},
    "additionalProperties": {"type": "string", "maxLength": 256},
}


def _schema(description: str, props: dict[str, Any], required: list[str]) -> dict[str, Any]:
    return {
        "$schema": _2020,
        "type": "object",
        "description": description,
        "properties": props,
        "required": required,
        "additionalProperties": False,
    }


PORTFOLIO = _schema(
    "A Service Catalog portfolio (one per business domain).",
    {
        "description": {**_TEXT, "description": "What the portfolio holds."},
        "providerName": {**_TEXT, "minLength": 1, "description": "Who provides it."},
        "tags": _TAGS,
    },
    ["providerName"],
)
PRODUCT = _schema(
    "A Service Catalog product (one per live service).",
    {
        "owner": {**_TEXT, "minLength": 1, "description": "The owning team."},
        "description": {**_TEXT, "description": "What the service does."},
        "distributor": {**_TEXT, "description": "Who distributes it."},
        "supportEmail": {**_TEXT, "description": "Support contact e-mail."},
        "supportUrl": {**_TEXT, "description": "Support page."},
        "portfolio": {
            "type": "string",
            "pattern": NAME_PATTERN,
            "description": "The portfolio (name) the product belongs to (tag spo:portfolio).",
        },
    },
    ["owner"],
)
APPLICATION = _schema(
    "An AppRegistry application (one per service).",
    {"description": {**_TEXT, "description": "Owner, tier and SLA summary of the service."}},
    [],
)

TYPES: dict[str, ResourceType] = {
    "portfolio": ResourceType(
        "portfolio",
        PORTFOLIO,
        PORTFOLIO["description"],
        replace_on=frozenset(PORTFOLIO["properties"]),
    ),
    "product": ResourceType(
        "product", PRODUCT, PRODUCT["description"], replace_on=frozenset(PRODUCT["properties"])
    ),
    "application": ResourceType("application", APPLICATION, APPLICATION["description"]),
}

_PRODUCT_FIELDS = {
    "owner": "Owner",
    "description": "ShortDescription",
    "distributor": "Distributor",
    "supportEmail": "SupportEmail",
    "supportUrl": "SupportUrl",
}
_CREATE_FIELDS = {**_PRODUCT_FIELDS, "description": "Description"}
_THROTTLE_CODES = frozenset(
    {"Throttling", "ThrottlingException", "TooManyRequestsException", "RequestLimitExceeded"}
)
_TRANSIENT_CODES = frozenset(
    {
        "Throttling",
        "ThrottlingException",
        "TooManyRequestsException",
        "RequestLimitExceeded",
        "ServiceUnavailable",
        "InternalFailure",
        "InternalServerException",
        "RequestTimeout",
    }
)


class AwsSettings(ProviderSettings):
    region: str | None = Field(default=None, description="AWS region (default: AWS config).")
    profile: str | None = Field(default=None, description="AWS profile name.")
    endpoint_url: str | None = Field(
        default=None, pattern=r"^https?://", description="Endpoint for every service (tests)."
    )
    provider_name: str = Field(default="spo-gitops", description="Default portfolio provider.")
    adaptive: bool = Field(
        default=True, description="Adapt the calls in flight to throttling and latency (AIMD)."
    )


class _NotFound(ProviderError):
    """The object does not exist (AWS's ResourceNotFoundException)."""


class AwsProvider(Provider):
    """AWS Service Catalog portfolios and products, AppRegistry applications (boto3)."""

    name = "aws"
    settings_model = AwsSettings
    types: ClassVar[Mapping[str, ResourceType]] = TYPES

    def __init__(self, settings: ProviderSettings, context: ProviderContext) -> None:
        super().__init__(settings, context)
        assert isinstance(settings, AwsSettings)
        self.cfg = settings
        self._local = threading.local()
        most = settings.parallelism or 64
        self.limiter = AdaptiveLimiter(most, initial=min(most, 8), adaptive=settings.adaptive)
        with guard("the aws provider"):
            import boto3
        try:
            self._session = boto3.session.Session(
                region_name=settings.region, profile_name=settings.profile
            )
        except Exception as e:
            raise ProviderError(f"aws: cannot set up a session: {type(e).__name__}: {e}") from e

    def _client(self, service: str) -> Any:
        clients: dict[str, Any] | None = getattr(self._local, "clients", None)
        if clients is None:
            clients = self._local.clients = {}
        if service not in clients:
            # building a client makes no call: outside the limiter, whose latencies are the
            # API's (a client built in 5 ms taken for an answer kept every later answer "slow")
            with self._translated(f"connect {service}"):
                client = self._session.client(service, endpoint_url=self.cfg.endpoint_url)
            # botocore retries throttled calls itself: each of those refusals cuts the limit too
            client.meta.events.register("needs-retry", self._saw_answer)
            clients[service] = client
        return clients[service]

    def _saw_answer(self, response: Any = None, **_: Any) -> None:
        parsed = response[1] if isinstance(response, tuple) and len(response) == 2 else None
        if isinstance(parsed, dict) and parsed.get("Error", {}).get("Code") in _THROTTLE_CODES:
            self.limiter.throttled(None, 0.0)

    @contextmanager
    def _errors(self, what: str) -> Iterator[None]:
        """One AWS call: in a slot of the provider's adaptive limiter (throttling cuts the calls
        in flight for every thread), its errors translated."""
        import botocore.exceptions as bx

        with self.limiter.slot():
            start = time.monotonic()
            with self._translated(what):
                try:
                    yield
                except bx.ClientError as e:
                    if e.response.get("Error", {}).get("Code", "") in _THROTTLE_CODES:
                        self.limiter.throttled(None, time.monotonic() - start)
                    raise
            self.limiter.succeeded(time.monotonic() - start)

    @contextmanager
    def _translated(self, what: str) -> Iterator[None]:
        import botocore.exceptions as bx

        try:
            yield
        except bx.ClientError as e:
            code = e.response.get("Error", {}).get("Code", "")
            status = e.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
            message = str(e.response.get("Error", {}).get("Message", "")).strip()
            message = message.splitlines()[0][:200] if message else ""
            text = f"aws: {what}: {code or status}: {message}".rstrip(": ")
            if code == "ResourceNotFoundException":
                raise _NotFound(text) from None
            if code in _TRANSIENT_CODES or status >= 500:
                raise TransientProviderError(text) from None
            raise ProviderError(text) from None
        except (bx.EndpointConnectionError, bx.ConnectTimeoutError, bx.ReadTimeoutError) as e:
            raise TransientProviderError(f"aws: {what}: {type(e).__name__}") from None
        except bx.NoCredentialsError:
            raise ProviderError(
                f"aws: {what}: no AWS credentials",
                hint="set AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, a profile or an instance role",
            ) from None
        except bx.BotoCoreError as e:
            raise ProviderError(f"aws: {what}: {type(e).__name__}: {e}") from None

    @staticmethod
    def _tags(name: str, type_: str, extra: Mapping[str, str]) -> dict[str, str]:
        return {**extra, MANAGED[0]: MANAGED[1], "spo:name": name, "spo:type": type_}

    # --- portfolios ---------------------------------------------------------------------------

    def _portfolio(self, id_: str) -> Observed | None:
        sc = self._client("servicecatalog")
        try:
            with self._errors(f"describe portfolio {id_}"):
                out = sc.describe_portfolio(Id=id_)
        except _NotFound:
            return None
        detail = out.get("PortfolioDetail") or {}
        if not detail.get("Id"):
            return None  # moto answers an empty detail for an unknown id
        tags = {t["Key"]: t["Value"] for t in out.get("Tags") or []}
        props: dict[str, Any] = {"providerName": detail.get("ProviderName", "")}
        if detail.get("Description"):
            props["description"] = detail["Description"]
        user = {k: v for k, v in tags.items() if not k.startswith("spo:")}
        if user:
            props["tags"] = user
        return Observed(detail["Id"], detail.get("DisplayName", ""), props)

    def _portfolios(self) -> list[Observed]:
        sc = self._client("servicecatalog")
        out: list[Observed] = []
        token: str | None = None
        for _ in range(1000):
            with self._errors("list portfolios"):
                page = sc.list_portfolios(**({"PageToken": token} if token else {}))
            for detail in page.get("PortfolioDetails") or []:
                observed = self._portfolio(detail["Id"])
                if observed is not None:
                    out.append(observed)
            token = page.get("NextPageToken")
            if not token:
                break
        return out

    def _portfolio_ids(self, name: str) -> list[str]:
        """Ids of the portfolios whose DisplayName is ``name`` (listing pages only)."""
        sc = self._client("servicecatalog")
        out: list[str] = []
        token: str | None = None
        for _ in range(1000):
            with self._errors("list portfolios"):
                page = sc.list_portfolios(**({"PageToken": token} if token else {}))
            out.extend(
                d["Id"] for d in page.get("PortfolioDetails") or [] if d.get("DisplayName") == name
            )
            token = page.get("NextPageToken")
            if not token:
                break
        return out

    def _create_portfolio(self, name: str, props: Mapping[str, Any]) -> Observed:
        sc = self._client("servicecatalog")
        tags = self._tags(name, "portfolio", props.get("tags") or {})
        args: dict[str, Any] = {
            "DisplayName": name,
            "ProviderName": props.get("providerName") or self.cfg.provider_name,
            "IdempotencyToken": uuid.uuid4().hex,
            "Tags": [{"Key": k, "Value": v} for k, v in sorted(tags.items())],
        }
        if props.get("description"):
            args["Description"] = props["description"]
        with self._errors(f"create portfolio {name}"):
            out = sc.create_portfolio(**args)
        observed = self._portfolio(out["PortfolioDetail"]["Id"])
        if observed is None:
            raise ProviderError(f"aws: portfolio {name} vanished right after it was created")
        return self.expect("portfolio", name, observed, what="CreatePortfolio")

    # --- products -----------------------------------------------------------------------------

    def _product_tags(self) -> dict[str, dict[str, str]]:
        """Tags of every product this tool manages, by product id (Resource Groups Tagging)."""
        tagging = self._client("resourcegroupstaggingapi")
        out: dict[str, dict[str, str]] = {}
        token = ""
        for _ in range(1000):
            with self._errors("find products by tag"):
                page = tagging.get_resources(
                    TagFilters=[{"Key": MANAGED[0], "Values": [MANAGED[1]]}],
                    ResourceTypeFilters=["servicecatalog"],
                    PaginationToken=token,
                )
            for item in page.get("ResourceTagMappingList") or []:
                arn = item["ResourceARN"]
                if ":product/" in arn:
                    out[arn.rsplit("/", 1)[1]] = {t["Key"]: t["Value"] for t in item["Tags"]}
            token = page.get("PaginationToken") or ""
            if not token:
                break
        return out

    def _product(self, id_: str, tags: Mapping[str, str] | None) -> Observed | None:
        sc = self._client("servicecatalog")
        try:
            with self._errors(f"describe product {id_}"):
                out = sc.describe_product(Id=id_)
        except _NotFound:
            return None
        view = out.get("ProductViewSummary") or {}
        props: dict[str, Any] = {
            p: view[f] for p, f in _PRODUCT_FIELDS.items() if view.get(f) not in (None, "")
        }
        if tags and tags.get("spo:portfolio"):
            props["portfolio"] = tags["spo:portfolio"]
        return Observed(view.get("ProductId") or id_, view.get("Name", ""), props)

    def _create_product(self, name: str, props: Mapping[str, Any]) -> Observed:
        sc = self._client("servicecatalog")
        extra = {"spo:portfolio": props["portfolio"]} if props.get("portfolio") else {}
        tags = self._tags(name, "product", extra)
        args: dict[str, Any] = {
            "Name": name,
            "ProductType": "CLOUD_FORMATION_TEMPLATE",
            "IdempotencyToken": uuid.uuid4().hex,
            "Tags": [{"Key": k, "Value": v} for k, v in sorted(tags.items())],
        }
        args.update({f: props[p] for p, f in _CREATE_FIELDS.items() if props.get(p)})
        with self._errors(f"create product {name}"):
            out = sc.create_product(**args)
        id_ = out["ProductViewDetail"]["ProductViewSummary"]["ProductId"]
        observed = self._product(id_, tags)
        if observed is None:
            raise ProviderError(f"aws: product {name} vanished right after it was created")
        return self.expect("product", name, observed, what="CreateProduct")

    def _products(self) -> list[Observed]:
        out = []
        for id_, tags in self._product_tags().items():
            observed = self._product(id_, tags)
            if observed is not None:
                out.append(observed)
        return out

    # --- applications -------------------------------------------------------------------------

    def _applications(self) -> list[Observed]:
        ar = self._client("servicecatalog-appregistry")
        out: list[Observed] = []
        token: str | None = None
        for _ in range(1000):
            with self._errors("list applications"):
                page = ar.list_applications(**({"nextToken": token} if token else {}))
            for app in page.get("applications") or []:
                props = {"description": app["description"]} if app.get("description") else {}
                out.append(Observed(app["id"], app["name"], props))
            token = page.get("nextToken")
            if not token:
                break
        return out

    def _create_application(self, name: str, props: Mapping[str, Any]) -> Observed:
        ar = self._client("servicecatalog-appregistry")
        args: dict[str, Any] = {
            "name": name,
            "clientToken": uuid.uuid4().hex,
            "tags": self._tags(name, "application", {}),
        }
        if props.get("description"):
            args["description"] = props["description"]
        with self._errors(f"create application {name}"):
            app = ar.create_application(**args)["application"]
        made = Observed(str(app.get("id", "")), str(app.get("name", "")), dict(props))
        return self.expect("application", name, made, what="CreateApplication")

    # --- the contract ------------------------------------------------------------------------

    def read(self, type_: str, id_: str) -> Observed | None:
        return self.read_many(type_, [id_])[id_]

    def read_many(self, type_: str, ids: Sequence[str]) -> dict[str, Observed | None]:
        self.resource_type(type_)
        if type_ == "portfolio":
            return {id_: self._portfolio(id_) for id_ in ids}
        if type_ == "product":
            tags = self._product_tags()
            return {id_: self._product(id_, tags.get(id_)) for id_ in ids}
        apps = {o.id: o for o in self._applications()}
        return {id_: apps.get(id_) for id_ in ids}

    def list(self, type_: str) -> list[Observed]:
        self.resource_type(type_)
        if type_ == "portfolio":
            found = self._portfolios()
        elif type_ == "product":
            found = self._products()
        else:
            found = self._applications()
        return sorted(found, key=lambda o: (o.name, o.id))

    def _named(self, type_: str, name: str) -> Observed | None:
        """The object of that name, found from the listing alone (names and tags), so that a
        create costs a few listing pages rather than a describe call per object."""
        found: list[Observed]
        if type_ == "portfolio":
            found = [o for o in map(self._portfolio, self._portfolio_ids(name)) if o]
        elif type_ == "product":
            tags = self._product_tags()
            named = [i for i, t in sorted(tags.items()) if t.get("spo:name") == name]
            found = [o for o in (self._product(i, tags[i]) for i in named) if o]
        else:
            found = self._applications()
        found = [o for o in found if o.name == name]
        if len(found) > 1:
            raise ProviderError(
                f"aws.{type_}.{name}: {len(found)} objects have that name "
                f"({', '.join(o.id for o in found)}); cannot tell which one to adopt"
            )
        return found[0] if found else None

    def create(self, type_: str, name: str, properties: Mapping[str, Any]) -> Observed:
        self.check_properties(type_, name, properties)
        existing = self._named(type_, name)
        if existing is not None:
            if existing.properties == dict(properties):
                return existing
            return self.update(type_, existing.id, name, properties)
        if type_ == "portfolio":
            return self._create_portfolio(name, properties)
        if type_ == "product":
            return self._create_product(name, properties)
        return self._create_application(name, properties)

    def update(self, type_: str, id_: str, name: str, properties: Mapping[str, Any]) -> Observed:
        self.check_properties(type_, name, properties)
        current = self.read(type_, id_)
        if current is None:
            raise ProviderError(f"aws.{type_}.{name}: not found (id {id_})")
        if current.id != id_:
            raise ProviderError(
                f"aws.{type_}.{name}: reading id {id_!r} answered another object "
                f"({current.id!r}); refusing to change it"
            )
        if current.name == name and current.properties == dict(properties):
            return current
        if type_ == "application":
            ar = self._client("servicecatalog-appregistry")
            with self._errors(f"update application {name}"):
                app = ar.update_application(
                    application=id_, name=name, description=properties.get("description", "")
                )["application"]
            got = Observed(str(app.get("id", "")), str(app.get("name", "")), dict(properties))
            return self.expect(type_, name, got, id_=id_, what="UpdateApplication")
        # no Update* in moto: replace under the same name (every property is replace-only)
        self.delete(type_, id_)
        if type_ == "portfolio":
            return self._create_portfolio(name, properties)
        return self._create_product(name, properties)

    def delete(self, type_: str, id_: str) -> None:
        self.resource_type(type_)
        if type_ == "application":
            ar = self._client("servicecatalog-appregistry")
            try:
                with self._errors(f"delete application {id_}"):
                    ar.delete_application(application=id_)
            except _NotFound:
                pass  # already gone
            return
        sc = self._client("servicecatalog")
        try:
            with self._errors(f"delete {type_} {id_}"):
                if type_ == "portfolio":
                    sc.delete_portfolio(Id=id_)
                else:
                    sc.delete_product(Id=id_)
        except _NotFound:
            pass  # already gone

    def close(self) -> None:
        self._local = threading.local()
