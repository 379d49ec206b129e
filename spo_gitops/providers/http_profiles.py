"""Ready profiles for the ``http`` provider: the resource types a known REST API offers.

A profile gives the defaults of every collection (id field, envelope, pagination, name lookup)
and a set of resource types with their JSON Schemas. The class-level types of the ``http``
provider are the union of every profile's types plus ``record`` (so that ``spo validate`` and
``spo providers schema http`` know them without settings); spo.yaml may add types of its own
(see ``spo_gitops.providers.http``).
"""

from __future__ import annotations

from typing import Any

from spo_gitops.models.common import NAME_PATTERN

_2020 = "https://json-schema.org/draft/2020-12/schema"
_NAME: dict[str, Any] = {"type": "string", "pattern": NAME_PATTERN, "maxLength": 63}
_TEXT: dict[str, Any] = {"type": "string", "maxLength": 4000}

#: A type whose schema was not given: any object with any properties.
PERMISSIVE: dict[str, Any] = {
    "$schema": _2020,
    "type": "object",
    "description": "A record of a REST collection; any properties (no schema was given).",
}

SERVICENOW_SERVICE: dict[str, Any] = {
    "$schema": _2020,
    "type": "object",
    "description": "A business service (ServiceNow table cmdb_ci_service).",
    "properties": {
        "title": {**_TEXT, "description": "Human-readable name (short_description)."},
        "tier": {
            "type": "integer",
            "minimum": 1,
            "maximum": 4,
            "description": "Criticality 1 (most critical) to 4 (busines_criticality).",
        },
        "owner": {**_NAME, "description": "The owning team (owned_by); a lowercase DNS label."},
        "stage": {**_TEXT, "description": "Portfolio stage (operational_status)."},
        "domain": {**_NAME, "description": "Business domain (category); a lowercase DNS label."},
    },
    "required": ["owner", "tier"],
    "additionalProperties": False,
}

SERVICENOW_SLA: dict[str, Any] = {
    "$schema": _2020,
    "type": "object",
    "description": "A service level agreement (ServiceNow table contract_sla).",
    "properties": {
        "title": {**_TEXT, "description": "Human-readable name (short_description)."},
        "service": {**_NAME, "description": "The service covered; a lowercase DNS label."},
        "customer": {**_NAME, "description": "The customer; a lowercase DNS label."},
        "hours": {**_TEXT, "description": "Service hours, e.g. 24x7 (schedule)."},
        "availability": {
            "type": "number",
            "minimum": 0,
            "maximum": 100,
            "description": "Agreed availability in percent.",
        },
    },
    "required": ["service", "customer"],
    "additionalProperties": False,
}

#: The ServiceNow Table API: records under /api/now/table/<table>, ``sys_id`` ids, every answer
#: in a ``result`` envelope, offset pagination (sysparm_offset, sysparm_limit), lookup by name
#: with ``sysparm_query=name=<name>``, refresh by ``sysparm_query=sys_idIN<ids>``, PATCH for
#: updates, "" to clear a field.
#:
#: Creating: the Table API has no idempotency-key header and allows two records of one name, so
#: a create looks the name up before it POSTs (two calls), and a POST whose answer was lost is
#: repeated only after lookups during ``ambiguousWait`` (default twice ``timeout``) found nothing.
#: ``uniqueNames: true`` saves the lookup only where the instance answers 409 to a duplicate.
SERVICENOW: dict[str, Any] = {
    "defaults": {
        "id_field": "sys_id",
        "name_field": "name",
        "envelope": "result",
        "pagination": "offset",
        "offset_param": "sysparm_offset",
        "limit_param": "sysparm_limit",
        "lookup": {"sysparm_query": "name={name}"},
        "batch_read": {"sysparm_query": "sys_idIN{ids}"},
        "update_method": "PATCH",
        "clear_value": "",
    },
    "types": {
        "service": {
            "path": "/api/now/table/cmdb_ci_service",
            "schema": SERVICENOW_SERVICE,
            "description": "A business service (cmdb_ci_service).",
            "fields": {
                "title": "short_description",
                "tier": "busines_criticality",
                "owner": "owned_by",
                "stage": "operational_status",
                "domain": "category",
            },
        },
        "sla": {
            "path": "/api/now/table/contract_sla",
            "schema": SERVICENOW_SLA,
            "description": "A service level agreement (contract_sla).",
            "fields": {
                "title": "short_description",
                "service": "service",
                "customer": "company",
                "hours": "schedule",
                "availability": "u_availability",
            },
            "replace_on": ["service"],
        },
    },
}

#: No defaults beyond the provider's own; types come from spo.yaml. Say per type what the API
#: offers: ``idempotencyHeader`` (e.g. ``Idempotency-Key``, as Stripe-style APIs take it: a POST
#: retried with the same key is answered with the record the first one made), ``uniqueNames``
#: (the API answers 409 to a second record of a name: create is one POST), ``batchRead``.
#: Without any of them a create is a lookup and a POST, and a lost answer waits
#: ``ambiguousWait`` before it is POSTed again.
GENERIC: dict[str, Any] = {"defaults": {}, "types": {}}

PROFILES: dict[str, dict[str, Any]] = {"generic": GENERIC, "servicenow": SERVICENOW}
