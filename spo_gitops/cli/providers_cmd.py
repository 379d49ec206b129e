"""``spo providers``: the installed provider plugins and the JSON Schemas of their types."""

from __future__ import annotations

from typing import Any

import click

from spo_gitops import jsonio
from spo_gitops.errors import MissingExtraError
from spo_gitops.providers import registry
from spo_gitops.providers.base import Provider, ProviderError, settings_keys


def _summary(cls: type[Provider]) -> str:
    doc = (cls.__doc__ or "").strip()
    return doc.splitlines()[0] if doc else ""


def _describe(name: str) -> dict[str, Any]:
    ep = registry.available()[name]
    try:
        cls = registry.provider_class(name)
    except (ProviderError, MissingExtraError) as e:
        return {
            "name": name,
            "module": ep.value,
            "types": [],
            "description": "",
            "error": f"{e.message} ({e.hint})" if e.hint else e.message,
        }
    return {
        "name": name,
        "module": ep.value,
        "types": sorted(cls.types),
        "description": _summary(cls),
        "settings": settings_keys(cls.settings_model),
    }


def _provider(name: str) -> type[Provider]:
    try:
        return registry.provider_class(name)
    except ProviderError as e:
        raise click.BadParameter(e.message, param_hint="NAME") from None


@click.group()
def providers() -> None:
    """Provider plugins (entry-point group spo_gitops.providers) and their resource types."""


@providers.command("list")
@click.option(
    "--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True
)
def list_(fmt: str) -> None:
    """Installed providers: name, module, resource types, settings and description."""
    rows = [_describe(name) for name in registry.available()]
    if fmt == "json":
        click.echo(jsonio.dumps({"format_version": 1, "providers": rows}, indent=2))
        return
    if not rows:
        click.echo(f"no providers installed (entry-point group {registry.GROUP})")
        return
    width = max(len(r["name"]) for r in rows)
    for r in rows:
        click.echo(f"{r['name']:<{width}}  {r['module']}")
        if "error" in r:
            click.echo(f"{'':<{width}}  error: {r['error']}")
            continue
        click.echo(f"{'':<{width}}  {r['description']}")
        click.echo(f"{'':<{width}}  types: {', '.join(r['types']) or '-'}")
        click.echo(f"{'':<{width}}  settings: {', '.join(r['settings']) or '-'}")


@providers.command("schema")
@click.argument("name")
@click.argument("type_", metavar="[TYPE]", required=False)
@click.option("--settings", is_flag=True, help="The JSON Schema of the provider's settings.")
def schema(name: str, type_: str | None, settings: bool) -> None:
    """JSON Schema of one resource type of provider NAME, or of all its types by name."""
    cls = _provider(name)
    if settings:
        if type_ is not None:
            raise click.UsageError("give either TYPE or --settings, not both")
        out: Any = cls.settings_model.model_json_schema()
    elif type_ is None:
        out = {t: dict(cls.types[t].schema) for t in sorted(cls.types)}
    else:
        try:
            out = dict(registry.resource_type(name, type_).schema)
        except ProviderError as e:
            raise click.BadParameter(e.message, param_hint="TYPE") from None
    click.echo(jsonio.dumps(out, indent=2))
