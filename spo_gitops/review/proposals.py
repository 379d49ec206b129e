"""``spo new service``: a proposal scaffolded from templates — a ServiceModel, a PortfolioEntry in
stage ``proposed`` and a draft SLA.

Templates come from the package (``spo_gitops/templates/new/<template>/``); a catalog repository
overrides any of them with a file of the same name in its own ``templates/new/<template>/``.
"""

from __future__ import annotations

import datetime as dt
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path

import jinja2

from spo_gitops.config import Project
from spo_gitops.errors import SpoError, UsageError
from spo_gitops.git import Repository
from spo_gitops.models.common import NAME_PATTERN
from spo_gitops.review.diff import read_working_tree
from spo_gitops.templating import environment

# template file -> (kind, folder under the first catalog path, name of the entity)
OUTPUTS = {
    "service.yaml.j2": ("ServiceModel", "services", "{name}"),
    "portfolio.yaml.j2": ("PortfolioEntry", "portfolio", "{name}"),
    "sla.yaml.j2": ("ServiceLevelAgreement", "slas", "{name}-{customer}"),
}


@dataclass
class Proposal:
    name: str
    files: list[Path]  # absolute paths written


def _title(name: str) -> str:
    return " ".join(part.capitalize() for part in name.split("-"))


def new_service(
    project: Project,
    name: str,
    *,
    owner: str,
    customer: str | None = None,
    template: str = "service",
) -> Proposal:
    """Write the proposal's files; refuses bad names, unknown parties and existing entities."""
    if not re.match(NAME_PATTERN, name) or len(name) > 63:
        raise UsageError(
            f"service name {name!r} is not a lowercase DNS label",
            hint="use a-z, 0-9 and '-', e.g. instant-payments",
        )
    snapshot = read_working_tree(project)
    parties = {
        d.name: (d.data.get("spec") or {}).get("type")
        for d in snapshot.documents
        if d.kind == "Party" and isinstance(d.data.get("spec"), dict)
    }
    if parties.get(owner) != "team":
        raise SpoError(f"owner {owner!r} is not a Party of type team", hint="name an existing team")
    if customer is None:
        customers = sorted(n for n, t in parties.items() if t == "customer")
        if not customers:
            raise SpoError("no customer Party to draft the SLA for", hint="pass --customer")
        customer = customers[0]
    elif parties.get(customer) is None:
        raise SpoError(f"customer {customer!r} is not a Party")
    local = project.root / "templates" / "new" / template
    env = environment(f"new/{template}", folders=[local])
    today = dt.date.today()
    context = {
        "name": name,
        "title": _title(name),
        "owner": owner,
        "customer": customer,
        "sla": f"{name}-{customer}",
        "start": today.isoformat(),
        "end": today.replace(year=today.year + 1).isoformat(),
    }
    base = project.root / project.config.catalog.paths[0]
    planned: list[tuple[Path, str]] = []
    for tpl, (kind, folder, pattern) in OUTPUTS.items():
        entity = pattern.format(name=name, customer=customer)
        if snapshot.index.get(kind, entity) is not None:
            raise SpoError(f"{kind} {entity!r} already exists")
        path = base / folder / f"{entity}.yaml"
        if path.exists():
            raise SpoError(f"{project.display(path)} already exists")
        try:
            planned.append((path, env.get_template(tpl).render(**context)))
        except jinja2.TemplateNotFound as e:
            raise UsageError(f"template set {template!r} has no {tpl}") from e
    for path, text in planned:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return Proposal(name, [p for p, _ in planned])


def owners_on_branch(project: Project, repo: Repository, files: list[Path]) -> str:
    """CODEOWNERS as the proposal's branch holds it: the project's files at HEAD plus the
    proposal's ``files``, read into a scratch folder and validated there, so that whatever else
    is uncommitted in the working tree (not on the branch) does not show in it."""
    from spo_gitops.catalog.validate import validate
    from spo_gitops.config import load_project
    from spo_gitops.review.codeowners import render

    prefix = repo.relative(project.root)
    with tempfile.TemporaryDirectory(prefix="spo-proposal-") as tmp:
        scratch = Path(tmp)
        for path in repo.files("HEAD", [prefix] if prefix else []):
            data = repo.read("HEAD", path)
            if data is None:
                continue
            out = scratch / (path[len(prefix) + 1 :] if prefix else path)
            out.parent.mkdir(parents=True, exist_ok=True)
            out.write_bytes(data)
        for file in files:
            out = scratch / file.relative_to(project.root)
            out.parent.mkdir(parents=True, exist_ok=True)
            out.write_bytes(file.read_bytes())
        result = validate(load_project(scratch))
        return render(result.documents, result.index, result.files).text
