"""A Backstage Software Template that proposes a service as ``spo new service`` does.

Its skeleton is rendered from the same templates ``spo new service`` uses (the package's
``templates/new/service/``, or the catalog repository's own overrides), with Backstage's
``${{ values.x }}`` in place of each value, so both write the same three files: the ServiceModel,
the PortfolioEntry in stage ``proposed`` and the draft SLA. The template's steps fetch the
skeleton and open a pull request on ``proposal/NAME``, as ``spo new service --branch`` names it.
"""

from __future__ import annotations

from pathlib import PurePosixPath
from typing import Any

import yaml

from spo_gitops.config import Project
from spo_gitops.review.proposals import OUTPUTS
from spo_gitops.templating import environment

API_VERSION = "scaffolder.backstage.io/v1beta3"
NAME_PATTERN = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"
TEMPLATE_FILE = "template.yaml"


def value(name: str) -> str:
    return "${{ values." + name + " }}"


# what spo new service's templates are given, as Backstage expressions over the form's values
PLACEHOLDERS = {
    "name": value("name"),
    "title": value("title"),
    "owner": value("owner"),
    "customer": value("customer"),
    "sla": f"{value('name')}-{value('customer')}",
    "start": value("start"),
    "end": value("end"),
}


def skeleton(project: Project, prefix: str = "", template: str = "service") -> dict[str, str]:
    """Skeleton path (relative to the repository root) -> content."""
    local = project.root / "templates" / "new" / template
    env = environment(f"new/{template}", folders=[local])
    base = PurePosixPath(prefix or ".", project.config.catalog.paths[0])
    out = {}
    for tpl, (_kind, folder, pattern) in OUTPUTS.items():
        entity = pattern.format(name=value("name"), customer=value("customer"))
        path = (base / folder / f"{entity}.yaml").as_posix()
        out[path.removeprefix("./")] = env.get_template(tpl).render(**PLACEHOLDERS)
    return out


def software_template(
    project: Project, *, teams: list[str], customers: list[str], prefix: str = ""
) -> dict[str, str]:
    """``template.yaml`` and its ``skeleton/`` files."""
    files = {f"skeleton/{path}": text for path, text in skeleton(project, prefix).items()}
    owner_field: dict[str, Any] = {"title": "Owner", "type": "string", "description": "A team"}
    if teams:
        owner_field["enum"] = teams
    customer_field: dict[str, Any] = {
        "title": "Customer",
        "type": "string",
        "description": "The customer the draft SLA is agreed with",
    }
    if customers:
        customer_field["enum"] = customers
    params = ("name", "title", "owner", "customer", "start", "end")
    entity = {
        "apiVersion": API_VERSION,
        "kind": "Template",
        "metadata": {
            "name": "spo-new-service",
            "title": "Propose a service",
            "description": (
                "A proposal for the service catalog: a ServiceModel, a PortfolioEntry in stage "
                "proposed and a draft SLA, as spo new service writes them, in a pull request."
            ),
            "tags": ["spo-gitops", "service-catalog"],
        },
        "spec": {
            "type": "service",
            "parameters": [
                {
                    "title": "The service",
                    "required": ["name", "title", "owner", "customer"],
                    "properties": {
                        "name": {
                            "title": "Name",
                            "type": "string",
                            "description": "A lowercase DNS label, e.g. instant-payments",
                            "pattern": NAME_PATTERN,
                            "maxLength": 63,
                        },
                        "title": {
                            "title": "Title",
                            "type": "string",
                            "description": "e.g. Instant Payments",
                        },
                        "owner": owner_field,
                        "customer": customer_field,
                    },
                },
                {
                    "title": "The draft SLA",
                    "required": ["start", "end"],
                    "properties": {
                        "start": {"title": "Valid from", "type": "string", "format": "date"},
                        "end": {"title": "Valid until", "type": "string", "format": "date"},
                    },
                },
                {
                    "title": "The catalog repository",
                    "required": ["repoUrl"],
                    "properties": {
                        "repoUrl": {
                            "title": "Repository",
                            "type": "string",
                            "ui:field": "RepoUrlPicker",
                            "ui:options": {"allowedHosts": ["github.com"]},
                        }
                    },
                },
            ],
            "steps": [
                {
                    "id": "fetch",
                    "name": "Write the proposal",
                    "action": "fetch:template",
                    "input": {
                        "url": "./skeleton",
                        "values": {p: "${{ parameters." + p + " }}" for p in params},
                    },
                },
                {
                    "id": "pull-request",
                    "name": "Open the pull request",
                    "action": "publish:github:pull-request",
                    "input": {
                        "repoUrl": "${{ parameters.repoUrl }}",
                        "branchName": "proposal/${{ parameters.name }}",
                        "title": "Propose service ${{ parameters.name }}",
                        "description": (
                            "A new service proposal (stage proposed) with a draft SLA for "
                            "${{ parameters.customer }}. Run `spo codeowners` on the branch "
                            "to add its files to CODEOWNERS."
                        ),
                    },
                },
            ],
            "output": {
                "links": [
                    {
                        "title": "The pull request",
                        "url": "${{ steps['pull-request'].output.remoteUrl }}",
                    }
                ]
            },
        },
    }
    files[TEMPLATE_FILE] = yaml.safe_dump(entity, sort_keys=False, allow_unicode=True)
    return files
