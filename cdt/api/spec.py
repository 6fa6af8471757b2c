"""The API's endpoints declared once, in code; /api/v1/openapi.json is generated from here.

Each endpoint is registered with `operation(...)`, which adds the Flask route and records its
parameters and response schema. `document()` builds the OpenAPI 3.1 document from those records,
so the document cannot list a route that does not exist, nor miss one (tests/test_api.py checks
both against app.url_map and validates every answer against the document).

Why not flask-smorest or spectree: both would bring marshmallow or pydantic models for a handful of
read-only endpoints whose answers are plain dicts; a declaration next to each route is as precise
and keeps the dependency list unchanged.
"""
from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from flask import Blueprint

VERSION = "1.0.0"


@dataclass
class Param:
    name: str
    schema: dict
    description: str
    location: str = "query"
    required: bool = False

    def openapi(self) -> dict:
        return {"name": self.name, "in": self.location, "required": self.required or self.location == "path",
                "description": self.description, "schema": self.schema}


@dataclass
class Operation:
    rule: str  # Flask rule, e.g. /api/v1/teams/<int:team_id>
    endpoint: str
    summary: str
    description: str
    params: list[Param]
    response: dict
    public: bool = False
    conditional: bool = True
    tags: list[str] = field(default_factory=list)

    @property
    def path(self) -> str:
        return re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", self.rule)


OPERATIONS: list[Operation] = []


def ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def operation(bp: Blueprint, rule: str, *, summary: str, description: str = "", params: list[Param] = (),
              response: dict, public: bool = False, conditional: bool = True, tag: str = "registry"
              ) -> Callable:
    """Register a GET route on `bp` (rule relative to its url_prefix) and declare it."""
    def decorator(view: Callable) -> Callable:
        endpoint = f"{bp.name}.{view.__name__}"
        OPERATIONS.append(Operation((bp.url_prefix or "") + rule, endpoint, summary,
                                    description or (view.__doc__ or "").strip(), list(params), response,
                                    public, conditional, [tag]))
        bp.get(rule)(view)
        return view
    return decorator


# --------------------------------------------------------------------------- shared parameters

DATE = {"type": "string", "format": "date"}
DATETIME = {"type": "string", "format": "date-time"}
CODE = {"type": "string", "maxLength": 32}


def nullable(schema: dict) -> dict:
    if "$ref" in schema:
        return {"oneOf": [schema, {"type": "null"}]}
    kind = schema["type"]
    return {**schema, "type": [*(kind if isinstance(kind, list) else [kind]), "null"]}


ISO_INSTANT = (r"^[0-9]{4}-[0-9]{2}-[0-9]{2}"
               r"(T[0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]{1,6})?)?(Z|[+-][0-9]{2}:[0-9]{2})?)?$")
MONTH = r"^[0-9]{4}-(0[1-9]|1[0-2])$"


def fields_param(schema_name: str) -> Param:
    names = "|".join(sorted(SCHEMAS[schema_name]["properties"]))
    return Param("fields", {"type": "string", "maxLength": 500, "pattern": f"^({names})(,({names}))*$"},
                 "Comma-separated fields to return for each item (default: all), e.g. `id,name`.")


def paging(schema_name: str, *, updated: bool = True) -> list[Param]:
    """The list parameters of every paged endpoint (DHIS2's conventions)."""
    params = [
        Param("page", {"type": "integer", "minimum": 1, "maximum": 10**7, "default": 1}, "Page number (1 = first)."),
        Param("pageSize", {"type": "integer", "minimum": 1, "maximum": 1000, "default": 50},
              "Items per page (1 to 1000)."),
        Param("after", {"type": "integer", "minimum": 0, "maximum": 2**31 - 1},
              "Keyset cursor: only items with an id greater than this (the `pager.nextPage` link sets it; "
              "paging by `after` costs the same on the last page as on the first)."),
        Param("totalPages", {"type": "boolean", "default": True},
              "false: skip counting (`pager.total` and `pager.pageCount` are left out)."),
        fields_param(schema_name),
    ]
    if updated:
        params.append(Param("lastUpdated", {"type": "string", "pattern": ISO_INSTANT},
                            "Only items changed at or after this ISO 8601 date or date-time (incremental sync; a "
                            "time without an offset is read in the registry's zone, Asia/Ho_Chi_Minh)."))
    return params


UNIT_FILTER = Param("unit", CODE, "GSO code of a unit inside your area (read on today's map): only items inside it.")


# --------------------------------------------------------------------------- schemas

def _obj(properties: dict, required: list[str] | None = None) -> dict:
    return {"type": "object", "properties": properties,
            "required": list(properties) if required is None else required, "additionalProperties": False}


def _page_of(item: str) -> dict:
    return _obj({"pager": ref("Pager"), "items": {"type": "array", "items": ref(item)}})


SUCCESSION = _obj({"code": {"type": "string"}, "name": {"type": "string"}, "kind": {"enum": ["whole", "part", "kept"]},
                   "on": DATE})
COVERAGE_ROW = _obj({
    "level": {"type": "string"}, "code": {"type": "string"}, "name": {"type": "string"},
    "parent_code": nullable({"type": "string"}), "villages": {"type": "integer"}, "teams": {"type": "integer"},
    "coverage_pct": nullable({"type": "number"}), "members": {"type": "integer"},
    "memberships": {"type": "integer"}, "youth_union_members": {"type": "integer"},
    "trained_members": {"type": "integer"}, "trained_pct": nullable({"type": "number"}),
    "sessions_held": {"type": "integer"},
})
OUTPUT_ROW = _obj({
    "level": {"type": "string"}, "code": {"type": "string"}, "name": {"type": "string"},
    "parent_code": nullable({"type": "string"}), "period_from": {"type": "string"}, "period_to": {"type": "string"},
    "indicator": {"type": "string"}, "expected": {"type": "integer"}, "reported": {"type": "integer"},
    "reporting_rate_pct": nullable({"type": "number"}), "value": {"type": "integer"},
    "target": nullable({"type": "integer"}), "achieved_pct": nullable({"type": "number"}),
})

SCHEMAS: dict[str, dict] = {
    "Error": {**_obj({"httpStatusCode": {"type": "integer"}, "httpStatus": {"type": "string"},
                      "status": {"enum": ["ERROR"]}, "code": {"type": "string"}, "message": {"type": "string"},
                      "errors": {"type": "object", "additionalProperties": {"type": "array",
                                                                           "items": {"type": "string"}}}},
                     ["httpStatusCode", "httpStatus", "status", "code", "message"])},
    "Pager": _obj({"page": {"type": "integer", "minimum": 1}, "pageSize": {"type": "integer", "minimum": 1},
                   "total": {"type": "integer", "minimum": 0}, "pageCount": {"type": "integer", "minimum": 0},
                   "nextPage": {"type": "string"}}, ["page", "pageSize"]),
    "Unit": _obj({"id": {"type": "integer"}, "code": {"type": "string"}, "name": {"type": "string"},
                  "level": {"enum": ["province", "district", "commune", "village"]}, "kind": {"type": "string"},
                  "parent": nullable({"type": "string"}), "validFrom": nullable(DATE), "validTo": nullable(DATE),
                  "predecessors": {"type": "array", "items": SUCCESSION},
                  "successors": {"type": "array", "items": SUCCESSION}}, []),
    "Team": _obj({"id": {"type": "integer"}, "name": {"type": "string"}, "status": {"enum": ["active", "dissolved"]},
                  "village": {"type": "string"}, "villageName": {"type": "string"}, "commune": {"type": "string"},
                  "establishedOn": nullable(DATE), "dissolvedOn": nullable(DATE),
                  "decisionNumber": nullable({"type": "string"}), "members": {"type": "integer"},
                  "created": DATETIME, "lastUpdated": DATETIME}, []),
    "Member": _obj({"id": {"type": "integer"}, "fullName": {"type": "string"}, "gender": {"enum": ["male", "female"]},
                    "birthDate": nullable(DATE), "ethnicity": {"type": "string"},
                    "citizenId": nullable({"type": "string"}), "phone": nullable({"type": "string"}),
                    "youthUnion": {"type": "boolean"}, "position": nullable({"type": "string"}),
                    "firstTrainedOn": nullable(DATE), "commune": {"type": "string"},
                    "teams": {"type": "array", "items": _obj({"team": {"type": "integer"},
                                                              "role": {"enum": ["leader", "deputy", "member"]}})},
                    "created": DATETIME, "lastUpdated": DATETIME}, []),
    "TrainingSession": _obj({"id": {"type": "integer"}, "title": {"type": "string"}, "topic": {"type": "string"},
                             "mode": {"type": "string"}, "status": {"type": "string"}, "startsAt": DATETIME,
                             "endsAt": DATETIME, "hours": {"type": "number"}, "area": {"type": "string"},
                             "venue": nullable({"type": "string"}), "capacity": nullable({"type": "integer"}),
                             "invited": {"type": "integer"}, "attended": {"type": "integer"},
                             "created": DATETIME, "lastUpdated": DATETIME}, []),
    "CoverageRow": COVERAGE_ROW,
    "Coverage": _obj({"unit": nullable({"type": "string"}), "by": {"type": "string"}, "as_of": DATE,
                      "map": nullable(DATE), "from": nullable(DATE), "to": nullable(DATE),
                      "rows": {"type": "array", "items": ref("CoverageRow")}}),
    "OutputRow": OUTPUT_ROW,
    "Outputs": _obj({"unit": nullable({"type": "string"}), "by": {"type": "string"}, "from": {"type": "string"},
                     "to": {"type": "string"}, "indicators": {"type": "array", "items": _obj(
                         {"code": {"type": "string"}, "name": {"type": "string"}, "measure": {"type": "string"}})},
                     "rows": {"type": "array", "items": ref("OutputRow")}}),
    "DataValueSet": _obj({
        "dataElementIdScheme": {"type": "string"}, "orgUnitIdScheme": {"type": "string"},
        "dataSet": {"type": "string"}, "period": {"type": "string", "pattern": "^[0-9]{6}$"},
        "dataValues": {"type": "array", "items": _obj({
            "dataElement": {"type": "string"}, "period": {"type": "string", "pattern": "^[0-9]{6}$"},
            "orgUnit": {"type": "string"}, "value": {"type": "string"}, "comment": {"type": "string"}},
            ["dataElement", "period", "orgUnit", "value"])}}, ["dataValues"]),
}


def document(server_url: str = "/") -> dict:
    """The OpenAPI 3.1 document of every declared operation."""
    paths: dict[str, dict] = {}
    for op in sorted(OPERATIONS, key=lambda o: o.path):
        responses: dict[str, Any] = {"200": {"description": "OK", "content": {"application/json": {"schema": op.response}}}}
        if op.conditional:
            responses["304"] = {"description": "Not modified (the ETag sent in If-None-Match still matches)."}
        statuses = (400, 404, 429) if op.public else (400, 401, 403, 404, 429)
        for status in statuses:
            responses[str(status)] = {"description": _STATUS_TEXT[status], "content": {"application/json": {
                "schema": ref("Error")}}}
        item = {"operationId": op.endpoint.replace(".", "_"), "summary": op.summary, "description": op.description,
                "tags": op.tags, "parameters": [p.openapi() for p in op.params], "responses": responses}
        if op.public:
            item["security"] = []
        paths.setdefault(op.path, {})["get"] = item
    return {
        "openapi": "3.1.0",
        "info": {"title": "CDT registry API", "version": VERSION,
                 "description": "Read-only access to the community digital technology teams registry: units, "
                                "teams, members, training sessions, coverage, outputs and a DHIS2 export. "
                                "Every answer is limited to the area of the token's owner."},
        "servers": [{"url": server_url.rstrip("/") or "/"}],
        "security": [{"bearerAuth": []}],
        "paths": paths,
        "components": {"schemas": SCHEMAS, "securitySchemes": {
            "bearerAuth": {"type": "http", "scheme": "bearer",
                           "description": "A personal API token made on /account/tokens."}}},
    }


_STATUS_TEXT = {400: "Bad parameters", 401: "No valid token", 403: "Not allowed for the token's role",
                404: "Not found, or outside the token owner's area", 429: "Rate limit reached (see Retry-After)"}
