"""The generic list engine of the back office (§14.1(4) search and sort, §14.1(5) history).

A list is declared once, as a ``ListSpec``: its rows come from a FROM clause aliased ``t`` that exposes
every column by name, and each ``Column`` says its type and whether it filters and sorts. The engine
then gives every list the same abilities, with no code of its own:

- filters on any filterable column: ``eq``, ``ne``, ``in``, ``contains`` (text), ``gt``/``gte``/``lt``/
  ``lte`` (numbers, money, dates, times), ``is_null``;
- a time range (``from``/``to``) on the list's ``time_column``;
- sort by any sortable column, ascending or descending, ties broken by the ``key`` column (unique);
- keyset pages (``cursor`` = the ``next_cursor`` of the previous page; never OFFSET);
- ``as_of``: when the spec has an ``as_of_source`` (the same columns, rebuilt at the bound parameter
  ``:as_of`` from change tables and the ledger), the list shows the rows as they were at that time.

Bad requests are refused with coded ``FieldProblem``s naming the field (messages in kk/ru/en).

Registering a list (in a module named ``oson_operator/service/<anything>_lists.py``; the engine imports
every such module the first time a list is looked up, so nothing else needs editing)::

    from oson_operator.service.listing import Column, ColumnType as T, ListSpec, Sort, register

    register(ListSpec(
        name="incidents",
        title={"kk": "Оқиғалар", "ru": "Инциденты", "en": "Incidents"},
        source="(SELECT i.id, i.category, i.opened_at, i.summary FROM oson.incident i) t",
        columns=(
            Column("id", T.UUID),
            Column("category", T.ENUM, choices=("1", "2", "3", "4", "5", "6")),
            Column("opened_at", T.TIMESTAMP),
            Column("summary", T.TEXT, sortable=False),
        ),
        key="id",
        default_sort=Sort("opened_at", "desc"),
        time_column="opened_at",
    ))

and run it (the search router does exactly this for ``POST /api/search/{list}``)::

    spec = get_list("incidents")
    query = parse_query(spec, {"filters": [{"field": "category", "op": "in", "value": ["1", "2"]}],
                               "sort": {"field": "opened_at", "direction": "desc"}, "limit": 50})
    page = run_list(connection, spec, query)   # page.rows: list of dicts; page.next_cursor: str | None

Add an index on ``(sort column, key)`` for each sort that must stay fast on millions of rows.
"""

from __future__ import annotations

import base64
import importlib
import json
import pkgutil
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any, Literal
from uuid import UUID

from sqlalchemy import Connection, text

from oson_operator.domain.access import Role
from oson_operator.domain.errors import DomainError, FieldProblem
from oson_operator.domain.money import MAX_AMOUNT_TIYN, TIYN_PER_TENGE, format_amount

MAX_LIMIT = 500
DEFAULT_LIMIT = 50
STAFF_READERS = frozenset({Role.ADMIN, Role.OPERATOR, Role.AUDITOR})

Direction = Literal["asc", "desc"]


class ColumnType(StrEnum):
    TEXT = "text"
    ENUM = "enum"  # text with a fixed set of ``choices``
    UUID = "uuid"  # uuid in SQL (so its indexes serve), text in JSON
    INTEGER = "integer"
    MONEY = "money"  # stored in tiyn (bigint), shown and filtered as tenge strings "1500.00"
    DATE = "date"
    TIMESTAMP = "timestamp"  # timestamptz; filter values without an offset are UTC
    BOOLEAN = "boolean"
    JSON = "json"  # shown, never filtered or sorted


_ORDERED = ("eq", "ne", "in", "gt", "gte", "lt", "lte", "is_null")
OPERATORS: Mapping[ColumnType, tuple[str, ...]] = {
    ColumnType.TEXT: ("eq", "ne", "in", "contains", "is_null"),
    ColumnType.ENUM: ("eq", "ne", "in", "is_null"),
    ColumnType.UUID: ("eq", "ne", "in", "is_null"),  # keep it uuid in SQL so its indexes serve
    ColumnType.INTEGER: _ORDERED,
    ColumnType.MONEY: _ORDERED,
    ColumnType.DATE: _ORDERED,
    ColumnType.TIMESTAMP: _ORDERED,
    ColumnType.BOOLEAN: ("eq", "is_null"),
    ColumnType.JSON: (),
}
_SQL_OPERATORS = {"eq": "=", "ne": "<>", "gt": ">", "gte": ">=", "lt": "<", "lte": "<="}


@dataclass(frozen=True)
class Column:
    """One column of a list. ``name`` is also the column's name in the source ``t``."""

    name: str
    type: ColumnType
    filterable: bool = True
    sortable: bool = True
    nullable: bool = False  # nullable columns sort NULLS LAST and page with a slower predicate
    choices: tuple[str, ...] = ()
    label: Mapping[str, str] = field(default_factory=dict)  # {"kk", "ru", "en"}; default: the name

    def __post_init__(self) -> None:
        if self.type is ColumnType.JSON and (self.filterable or self.sortable):
            object.__setattr__(self, "filterable", False)
            object.__setattr__(self, "sortable", False)

    @property
    def sql(self) -> str:
        return f"t.{self.name}"

    def describe(self) -> dict[str, Any]:
        return {"name": self.name, "type": self.type.value, "filterable": self.filterable,
                "sortable": self.sortable, "nullable": self.nullable, "choices": list(self.choices),
                "operators": list(OPERATORS[self.type]) if self.filterable else [],
                "label": dict(self.label) or {lang: self.name for lang in ("kk", "ru", "en")}}


@dataclass(frozen=True)
class Sort:
    field: str
    direction: Direction = "asc"


@dataclass(frozen=True)
class ListSpec:
    """A list: where its rows come from and what its columns are.

    ``source`` is a FROM clause producing a relation aliased ``t`` with one column per ``Column``.
    ``as_of_source`` (optional) is the same relation rebuilt at the bound parameter ``:as_of``
    (timestamptz). ``key`` names a unique, non-null column: the tie-break of every sort.
    """

    name: str
    source: str
    columns: tuple[Column, ...]
    key: str
    default_sort: Sort
    time_column: str | None = None
    as_of_source: str | None = None
    title: Mapping[str, str] = field(default_factory=dict)
    roles: frozenset[Role] = STAFF_READERS

    def __post_init__(self) -> None:
        names = [c.name for c in self.columns]
        if len(set(names)) != len(names):
            raise ValueError(f"list {self.name}: column names repeat")
        for needed in (self.key, self.default_sort.field, self.time_column):
            if needed is not None and needed not in names:
                raise ValueError(f"list {self.name}: {needed} is not one of its columns")
        if self.column(self.key).nullable:
            raise ValueError(f"list {self.name}: the key column cannot be nullable")

    def column(self, name: str) -> Column:
        for column in self.columns:
            if column.name == name:
                return column
        raise KeyError(name)

    def has(self, name: str) -> bool:
        return any(c.name == name for c in self.columns)

    def describe(self) -> dict[str, Any]:
        return {"name": self.name, "title": dict(self.title) or {lang: self.name for lang in ("kk", "ru", "en")},
                "key": self.key, "time_column": self.time_column, "as_of": self.as_of_source is not None,
                "default_sort": {"field": self.default_sort.field, "direction": self.default_sort.direction},
                "roles": sorted(role.value for role in self.roles),
                "columns": [c.describe() for c in self.columns]}


# --- The registry ---------------------------------------------------------------------------------

_REGISTRY: dict[str, ListSpec] = {}
_DISCOVERED = False
_LOCK = threading.Lock()


def register(spec: ListSpec) -> ListSpec:
    """Add a list; registering the same name twice is a programming error (unless it is the same spec)."""
    existing = _REGISTRY.get(spec.name)
    if existing is not None and existing != spec:
        raise ValueError(f"list {spec.name} is registered twice")
    _REGISTRY[spec.name] = spec
    return spec


def _discover() -> None:
    """Import every ``oson_operator.service.*_lists`` module once (they call ``register``)."""
    global _DISCOVERED
    if _DISCOVERED:
        return
    with _LOCK:
        if _DISCOVERED:
            return
        import oson_operator.service as package

        for module in sorted(pkgutil.iter_modules(package.__path__), key=lambda m: m.name):
            if module.name.endswith("_lists"):
                importlib.import_module(f"{package.__name__}.{module.name}")
        _DISCOVERED = True


def all_lists() -> list[ListSpec]:
    _discover()
    return [_REGISTRY[name] for name in sorted(_REGISTRY)]


def get_list(name: str) -> ListSpec:
    """The list called ``name``; ``DomainError`` 404 ``LIST_UNKNOWN`` when there is none."""
    _discover()
    spec = _REGISTRY.get(name)
    if spec is None:
        raise DomainError("LIST_UNKNOWN", status=404, params={"list": name,
                                                             "lists": ", ".join(sorted(_REGISTRY))})
    return spec


# --- Queries --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Filter:
    field: str
    op: str
    value: Any  # already converted to the column's Python type (a list for ``in``, a bool for is_null)


@dataclass(frozen=True)
class ListQuery:
    filters: tuple[Filter, ...] = ()
    sort: Sort | None = None
    time_from: datetime | None = None
    time_to: datetime | None = None
    as_of: datetime | None = None
    cursor: str | None = None
    limit: int = DEFAULT_LIMIT


@dataclass(frozen=True)
class Page:
    rows: list[dict[str, Any]]
    next_cursor: str | None
    sort: Sort
    as_of: datetime | None


class _Problems:
    def __init__(self) -> None:
        self.found: list[FieldProblem] = []

    def add(self, field_name: str, code: str, **params: object) -> None:
        self.found.append(FieldProblem(field_name, code, params))

    def raise_if_any(self) -> None:
        if self.found:
            raise DomainError("LIST_QUERY_INVALID", status=422, problems=tuple(self.found))


def _aware(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value


def parse_value(column: Column, raw: object) -> Any:
    """A JSON value -> the column's Python value; ``ValueError`` with the reason."""
    kind = column.type
    if raw is None:
        raise ValueError("must not be null; use the is_null operator")
    if kind in (ColumnType.TEXT, ColumnType.ENUM, ColumnType.UUID):
        if not isinstance(raw, str):
            raise ValueError("must be text")
        if kind is ColumnType.ENUM and column.choices and raw not in column.choices:
            raise ValueError(f"must be one of {', '.join(column.choices)}")
        if kind is ColumnType.UUID:
            try:
                return UUID(raw)
            except ValueError:
                raise ValueError("must be a UUID") from None
        if len(raw) > 500:
            raise ValueError("is longer than 500 characters")
        return raw
    if kind is ColumnType.INTEGER:
        if isinstance(raw, bool) or not isinstance(raw, int | str):
            raise ValueError("must be a whole number")
        try:
            return int(raw)
        except ValueError:
            raise ValueError("must be a whole number") from None
    if kind is ColumnType.MONEY:
        return _signed_tiyn(raw)
    if kind is ColumnType.DATE:
        if not isinstance(raw, str):
            raise ValueError("must be a date, e.g. 2026-01-31")
        try:
            return date.fromisoformat(raw)
        except ValueError:
            raise ValueError("must be a date, e.g. 2026-01-31") from None
    if kind is ColumnType.TIMESTAMP:
        if not isinstance(raw, str):
            raise ValueError("must be a time, e.g. 2026-01-31T10:00:00+05:00")
        try:
            return _aware(datetime.fromisoformat(raw))
        except ValueError:
            raise ValueError("must be a time, e.g. 2026-01-31T10:00:00+05:00") from None
    if kind is ColumnType.BOOLEAN:
        if not isinstance(raw, bool):
            raise ValueError("must be true or false")
        return raw
    raise ValueError("cannot be filtered")


def _signed_tiyn(raw: object) -> int:
    """Tenge (signed, zero allowed: ledger entries are signed) -> tiyn."""
    if isinstance(raw, bool) or not isinstance(raw, str | int | float):
        raise ValueError("must be an amount in tenge, e.g. \"1500.00\"")
    try:
        amount = Decimal(str(raw))
    except ArithmeticError:
        raise ValueError("must be an amount in tenge, e.g. \"1500.00\"") from None
    if not amount.is_finite() or amount != amount.quantize(Decimal("0.01")):
        raise ValueError("must be an amount in tenge with at most two decimals, e.g. \"1500.00\"")
    tiyn = int(amount * TIYN_PER_TENGE)
    if abs(tiyn) > MAX_AMOUNT_TIYN:
        raise ValueError("is larger than any amount the system accepts")
    return tiyn


def _time(problems: _Problems, name: str, raw: object) -> datetime | None:
    if raw is None:
        return None
    if isinstance(raw, str):
        try:
            return _aware(datetime.fromisoformat(raw))
        except ValueError:
            pass
    problems.add(name, "LIST_VALUE_INVALID", reason="must be a time, e.g. 2026-01-31T10:00:00+05:00")
    return None


_QUERY_KEYS = {"filters", "sort", "from", "to", "as_of", "cursor", "limit"}


def parse_query(spec: ListSpec, body: Mapping[str, Any]) -> ListQuery:
    """Check a query (the JSON body of ``POST /api/search/{list}``) against the spec."""
    problems = _Problems()
    for unknown in sorted(set(body) - _QUERY_KEYS):
        problems.add(unknown, "FIELD_UNKNOWN")
    filters: list[Filter] = []
    raw_filters = body.get("filters") or []
    if not isinstance(raw_filters, list):
        problems.add("filters", "LIST_VALUE_INVALID", reason="must be a list of {field, op, value}")
        raw_filters = []
    for index, item in enumerate(raw_filters):
        where = f"filters.{index}"
        if not isinstance(item, Mapping) or not isinstance(item.get("field"), str):
            problems.add(where, "LIST_VALUE_INVALID", reason="must be {field, op, value}")
            continue
        name, op = item["field"], item.get("op", "eq")
        if not spec.has(name):
            problems.add(f"{where}.field", "LIST_FIELD_UNKNOWN", name=name, list=spec.name)
            continue
        column = spec.column(name)
        if not column.filterable:
            problems.add(f"{where}.field", "LIST_FIELD_NOT_FILTERABLE", name=name)
            continue
        if op not in OPERATORS[column.type]:
            problems.add(f"{where}.op", "LIST_OPERATOR_INVALID", name=name, op=str(op),
                         operators=", ".join(OPERATORS[column.type]))
            continue
        raw = item.get("value")
        try:
            if op == "is_null":
                if not isinstance(raw, bool):
                    raise ValueError("must be true or false")
                value: Any = raw
            elif op == "in":
                if not isinstance(raw, list) or not raw or len(raw) > 1000:
                    raise ValueError("must be a list of 1 to 1000 values")
                value = [parse_value(column, v) for v in raw]
            elif op == "contains":
                if not isinstance(raw, str) or not raw:
                    raise ValueError("must be non-empty text")
                value = raw
            else:
                value = parse_value(column, raw)
        except ValueError as exc:
            problems.add(f"{where}.value", "LIST_VALUE_INVALID", name=name, reason=str(exc))
            continue
        filters.append(Filter(name, op, value))
    sort: Sort | None = None
    raw_sort = body.get("sort")
    if raw_sort is not None:
        if not isinstance(raw_sort, Mapping) or not isinstance(raw_sort.get("field"), str):
            problems.add("sort", "LIST_VALUE_INVALID", reason="must be {field, direction}")
        elif not spec.has(raw_sort["field"]):
            problems.add("sort.field", "LIST_FIELD_UNKNOWN", name=raw_sort["field"], list=spec.name)
        elif not spec.column(raw_sort["field"]).sortable:
            problems.add("sort.field", "LIST_FIELD_NOT_SORTABLE", name=raw_sort["field"])
        elif raw_sort.get("direction", "asc") not in ("asc", "desc"):
            problems.add("sort.direction", "LIST_VALUE_INVALID", reason="must be asc or desc")
        else:
            sort = Sort(raw_sort["field"], raw_sort.get("direction", "asc"))
    time_from, time_to = _time(problems, "from", body.get("from")), _time(problems, "to", body.get("to"))
    if (time_from or time_to) and spec.time_column is None:
        problems.add("from", "LIST_NO_TIME_RANGE", list=spec.name)
    if time_from and time_to and time_from >= time_to:
        problems.add("from", "LIST_RANGE_INVALID")
    as_of = _time(problems, "as_of", body.get("as_of"))
    if as_of is not None and spec.as_of_source is None:
        problems.add("as_of", "LIST_AS_OF_UNSUPPORTED", list=spec.name)
    cursor = body.get("cursor")
    if cursor is not None and (not isinstance(cursor, str) or len(cursor) > 2000):
        problems.add("cursor", "LIST_CURSOR_INVALID")
        cursor = None
    limit = body.get("limit", DEFAULT_LIMIT)
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= MAX_LIMIT:
        problems.add("limit", "LIST_VALUE_INVALID", reason=f"must be a whole number from 1 to {MAX_LIMIT}")
        limit = DEFAULT_LIMIT
    problems.raise_if_any()
    return ListQuery(tuple(filters), sort, time_from, time_to, as_of, cursor, limit)


# --- Cursors ----------------------------------------------------------------------------------------


def _encode_value(value: Any) -> Any:
    if isinstance(value, UUID):
        return str(value)
    if isinstance(value, datetime):
        return {"ts": value.isoformat()}
    if isinstance(value, date):
        return {"d": value.isoformat()}
    return value


def _decode_value(column: Column, value: Any) -> Any:
    if value is None:
        return None
    if isinstance(value, dict):
        if "ts" in value:
            return datetime.fromisoformat(value["ts"])
        if "d" in value:
            return date.fromisoformat(value["d"])
        raise ValueError("bad cursor value")
    if column.type in (ColumnType.INTEGER, ColumnType.MONEY) and not isinstance(value, int):
        raise ValueError("bad cursor value")
    if column.type is ColumnType.UUID:
        return UUID(value)
    return value


def encode_cursor(sort: Sort, value: Any, key: Any) -> str:
    raw = json.dumps([sort.field, sort.direction, _encode_value(value), _encode_value(key)], separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(spec: ListSpec, sort: Sort, cursor: str) -> tuple[Any, Any]:
    """(last sort value, last key); ``DomainError`` when the cursor is not of this list and sort."""
    try:
        raw = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        field_name, direction, value, key = raw
        if field_name != sort.field or direction != sort.direction:
            raise ValueError("cursor of another sort")
        return _decode_value(spec.column(sort.field), value), _decode_value(spec.column(spec.key), key)
    except (ValueError, TypeError, KeyError):
        raise DomainError("LIST_QUERY_INVALID", status=422,
                          problems=(FieldProblem("cursor", "LIST_CURSOR_INVALID"),)) from None


# --- SQL --------------------------------------------------------------------------------------------


def _escape_like(value: str) -> str:
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def build_sql(spec: ListSpec, query: ListQuery) -> tuple[str, dict[str, Any], Sort]:
    """The SELECT of one page, its parameters, and the sort used."""
    sort = query.sort or spec.default_sort
    params: dict[str, Any] = {"limit": query.limit + 1}
    clauses: list[str] = []
    for index, item in enumerate(query.filters):
        column = spec.column(item.field)
        name = f"f{index}"
        if item.op == "is_null":
            clauses.append(f"{column.sql} IS {'' if item.value else 'NOT '}NULL")
        elif item.op == "in":
            clauses.append(f"{column.sql} = ANY(:{name})")
            params[name] = list(item.value)
        elif item.op == "contains":
            clauses.append(f"{column.sql} ILIKE :{name} ESCAPE '\\'")
            params[name] = f"%{_escape_like(item.value)}%"
        else:
            clauses.append(f"{column.sql} {_SQL_OPERATORS[item.op]} :{name}")
            params[name] = item.value
    if spec.time_column is not None:
        time_sql = spec.column(spec.time_column).sql
        if query.time_from is not None:
            clauses.append(f"{time_sql} >= :time_from")
            params["time_from"] = query.time_from
        if query.time_to is not None:
            clauses.append(f"{time_sql} < :time_to")
            params["time_to"] = query.time_to
    sort_column = spec.column(sort.field)
    key_column = spec.column(spec.key)
    later = ">" if sort.direction == "asc" else "<"
    if query.cursor is not None:
        value, key = decode_cursor(spec, sort, query.cursor)
        params["cursor_value"], params["cursor_key"] = value, key
        if sort_column.name == key_column.name:
            clauses.append(f"{key_column.sql} {later} :cursor_key")
        elif not sort_column.nullable:
            # A row comparison: one index range scan on (sort column, key).
            clauses.append(f"({sort_column.sql}, {key_column.sql}) {later} (:cursor_value, :cursor_key)")
        elif value is None:  # NULLs come last: only more NULLs follow
            clauses.append(f"({sort_column.sql} IS NULL AND {key_column.sql} {later} :cursor_key)")
        else:
            clauses.append(f"(({sort_column.sql}, {key_column.sql}) {later} (:cursor_value, :cursor_key) "
                           f"OR {sort_column.sql} IS NULL)")
    direction = "ASC" if sort.direction == "asc" else "DESC"
    order = f"{sort_column.sql} {direction}"
    if sort_column.nullable:
        order += " NULLS LAST"
    if sort_column.name != key_column.name:
        order += f", {key_column.sql} {direction}"
    source = spec.as_of_source if query.as_of is not None else spec.source
    if query.as_of is not None:
        params["as_of"] = query.as_of
    assert source is not None
    select = ", ".join(c.sql for c in spec.columns)
    where = " AND ".join(clauses) or "TRUE"
    return f"SELECT {select} FROM {source} WHERE {where} ORDER BY {order} LIMIT :limit", params, sort


def _out(column: Column, value: Any) -> Any:
    if value is None:
        return None
    if column.type is ColumnType.MONEY:
        return format_amount(int(value))
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal | UUID):
        return str(value)
    return value


def run_list(connection: Connection, spec: ListSpec, query: ListQuery) -> Page:
    """One page of the list."""
    sql, params, sort = build_sql(spec, query)
    rows = connection.execute(text(sql), params).all()
    more = len(rows) > query.limit
    rows = rows[: query.limit]
    names = [c.name for c in spec.columns]
    sort_index, key_index = names.index(sort.field), names.index(spec.key)
    next_cursor = None
    if more and rows:
        last = rows[-1]
        next_cursor = encode_cursor(sort, last[sort_index], last[key_index])
    out = [{c.name: _out(c, row[i]) for i, c in enumerate(spec.columns)} for row in rows]
    return Page(out, next_cursor, sort, query.as_of)


def page_view(spec: ListSpec, page: Page) -> dict[str, Any]:
    return {"list": spec.name, "rows": page.rows, "next_cursor": page.next_cursor,
            "sort": {"field": page.sort.field, "direction": page.sort.direction},
            "as_of": page.as_of.isoformat() if page.as_of else None}


def columns_of(spec: ListSpec, names: Sequence[str]) -> list[Column]:
    return [spec.column(n) for n in names]
