"""Routes: search, sort and saved queries over every list (§14.1(4), §14.1(5)).

``GET /api/search/lists`` describes every list (columns, types, operators) so a form can be built.
``POST /api/search/{list}`` runs a query (body: ``filters``, ``sort``, ``from``/``to``, ``as_of``,
``cursor``, ``limit``); page on with ``cursor`` = the ``next_cursor`` of the previous page. Saved
queries belong to the staff user who saved them: ``POST/GET /api/search/saved``,
``GET/DELETE /api/search/saved/{id}``, ``GET /api/search/saved/{id}/run?cursor=``.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Body, Depends, Query, Request

from oson_operator.api.security import audit_for, mark_recorded, require_roles
from oson_operator.domain.access import Principal, Role
from oson_operator.domain.errors import DomainError, FieldProblem, Forbidden, NotFound
from oson_operator.service.listing import ListSpec, all_lists, get_list, page_view, parse_query, run_list
from oson_operator.storage import records as store
from oson_operator.storage.events import append_event

router = APIRouter(prefix="/api/search", tags=["search"])

_readers = require_roles(Role.ADMIN, Role.OPERATOR, Role.AUDITOR)


def _spec_for(name: str, principal: Principal) -> ListSpec:
    spec = get_list(name)
    if principal.role not in spec.roles:
        raise Forbidden("LIST_FORBIDDEN", params={"list": name})
    return spec


def _run(request: Request, spec: ListSpec, body: dict[str, Any]) -> dict[str, Any]:
    query = parse_query(spec, body)
    with request.app.state.engine.connect() as connection:
        page = run_list(connection, spec, query)
    return page_view(spec, page)


@router.get("/lists", summary="The lists this caller may search, with their columns, types and operators")
def lists(principal: Principal = Depends(_readers)) -> dict[str, Any]:
    return {"lists": [spec.describe() for spec in all_lists() if principal.role in spec.roles]}


@router.get("/saved", summary="The caller's saved queries")
def saved_queries(request: Request, principal: Principal = Depends(_readers)) -> dict[str, Any]:
    with request.app.state.engine.connect() as connection:
        found = store.list_saved_queries(connection, principal.actor)
    return {"saved": [saved.view() for saved in found]}


@router.post("/saved", status_code=201, summary="Keep a query under a name (each user sees only their own)")
def save_query(request: Request, body: dict[str, Any] = Body(default_factory=dict),
               principal: Principal = Depends(_readers)) -> dict[str, Any]:
    problems: list[FieldProblem] = []
    name, list_name, query = body.get("name"), body.get("list"), body.get("query", {})
    if not isinstance(name, str) or not 1 <= len(name.strip()) <= 200:
        problems.append(FieldProblem("name", "FIELD_REQUIRED"))
    if not isinstance(list_name, str) or not list_name:
        problems.append(FieldProblem("list", "FIELD_REQUIRED"))
    if not isinstance(query, dict):
        problems.append(FieldProblem("query", "LIST_VALUE_INVALID", {"reason": "must be an object"}))
    for unknown in sorted(set(body) - {"name", "list", "query"}):
        problems.append(FieldProblem(unknown, "FIELD_UNKNOWN"))
    if problems:
        raise DomainError("REQUEST_INVALID", status=422, problems=tuple(problems))
    assert isinstance(name, str) and isinstance(list_name, str) and isinstance(query, dict)
    spec = _spec_for(list_name, principal)
    kept = {k: v for k, v in query.items() if k != "cursor"}  # a saved query starts at the first page
    parse_query(spec, kept)  # refuse a query that could never run
    state = request.app.state
    with state.engine.begin() as connection:
        saved = store.insert_saved_query(connection, owner=principal.actor, name=name.strip(), list_name=spec.name,
                                         query=kept, now=state.clock.now())
        append_event(connection, audit_for(request, principal.actor).event(
            "search.save", record_type="saved_query", record_id=saved.id,
            details={"name": saved.name, "list": saved.list_name}))
    mark_recorded(request)
    return {"saved": saved.view()}


@router.get("/saved/{query_id}", summary="One of the caller's saved queries")
def saved_query(query_id: str, request: Request, principal: Principal = Depends(_readers)) -> dict[str, Any]:
    with request.app.state.engine.connect() as connection:
        saved = store.get_saved_query(connection, principal.actor, query_id)
    if saved is None:
        raise NotFound("SAVED_QUERY_NOT_FOUND")
    return {"saved": saved.view()}


@router.delete("/saved/{query_id}", summary="Forget one of the caller's saved queries")
def delete_saved_query(query_id: str, request: Request, principal: Principal = Depends(_readers)) -> dict[str, Any]:
    with request.app.state.engine.begin() as connection:
        if not store.delete_saved_query(connection, principal.actor, query_id):
            raise NotFound("SAVED_QUERY_NOT_FOUND")
        append_event(connection, audit_for(request, principal.actor).event(
            "search.delete_saved", record_type="saved_query", record_id=query_id))
    mark_recorded(request)
    return {"deleted": query_id}


@router.get("/saved/{query_id}/run", summary="Run a saved query again (page on with cursor)")
def run_saved_query(
    query_id: str, request: Request,
    cursor: str | None = Query(None, max_length=2000, description="next_cursor of the previous page"),
    principal: Principal = Depends(_readers),
) -> dict[str, Any]:
    with request.app.state.engine.connect() as connection:
        saved = store.get_saved_query(connection, principal.actor, query_id)
    if saved is None:
        raise NotFound("SAVED_QUERY_NOT_FOUND")
    spec = _spec_for(saved.list_name, principal)
    body = dict(saved.query)
    if cursor is not None:
        body["cursor"] = cursor
    result = _run(request, spec, body)
    result["saved"] = saved.view()
    return result


@router.post("/{list_name}", summary="Search a list: filters, sort, time range, as_of, keyset pages")
def search(list_name: str, request: Request, body: dict[str, Any] = Body(default_factory=dict),
           principal: Principal = Depends(_readers)) -> dict[str, Any]:
    return _run(request, _spec_for(list_name, principal), body)
