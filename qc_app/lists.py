"""The one mechanism behind every list page: what a list offers (search, state, material,
merchant, dates), the request's choices read and refused in words, and keyset paging.

No Flask here: a view hands in `request.args`, a service builds its list's select (merchant
isolation included) and `page` runs it. Paging is keyset on the row id (`after` / `before` the
last / first id seen) with one extra row to know whether more follow: no COUNT and no OFFSET,
so the last page of 100,000 rows costs what the first does, and rows that share a timestamp are
neither repeated nor skipped from one page to the next.

Search goes through indexes (migration 0021): a code from its first characters (a b-tree
range), a name or title by any 3 or more of its characters (SQLite: the table's FTS5 trigram
table; PostgreSQL: a pg_trgm index). Each column is searched on its own and the list keeps the
ids found, so no search reads every row of a joined list. A search of one or two characters
is too short for a trigram: it is tested row by row in page order (it stops once a page is
full, and reads the whole list only when hardly anything matches).
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta, tzinfo
from typing import Any
from urllib.parse import urlencode

from sqlalchemy import (
    ColumnElement,
    and_,
    bindparam,
    false,
    literal_column,
    or_,
    table,
    union_all,
)
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlmodel import Session, select

from qc_app.codes import normalize
from qc_app.i18n import Message, msg
from qc_app.units import local_day_start

# A list's select: sqlmodel's Select or SelectOfScalar (one entity: rows are the entity).
Selection = Any
PAGE_SIZE = 50
MAX_SEARCH = 60  # longer than any code or title a person searches for
FILTERS = ("q", "state", "material", "merchant", "from", "to")
TRIGRAM = 3  # the shortest search a trigram index answers
# SQLite's trigram tables (migration 0021): `<table>_search`, rowid the row's id, its columns.
SEARCH_TABLES = {
    "listings": ("title", "brand"),
    "merchants": ("name",),
    "users": ("display_name",),
}


@dataclass(frozen=True)
class ListSpec:
    """What one list offers, by its columns (None: the list has no such filter). `search` are
    names and titles, found by any part; `prefix` and `exact` are codes, found from their
    beginning; `exact` are those a scanner types: one row matching exactly opens, not lists."""

    key: Any  # the row id column: the order and the paging cursor
    search: Sequence[Any] = ()
    prefix: Sequence[Any] = ()
    exact: Sequence[Any] = ()
    state: Any = None
    states: Sequence[str] = ()  # the choices, in the order the dropdown shows them
    state_kind: str = ""  # their words: web.KEY_LABELS[state_kind]
    material: Any = None
    merchant: Any = None
    when: Any = None  # the timestamp the date range reads
    newest_first: bool = True  # work queues list the oldest first
    # What a page's rows need besides the list's select (a count per row), read for the
    # page's rows only: (session, rows) -> the rows as the template reads them.
    complete: Callable[[Session, list[Any]], list[Any]] | None = None


# What a list's service hands the web: the list's spec and its select, isolation included.
ListFound = tuple[ListSpec, Selection]


@dataclass(frozen=True)
class ListQuery:
    """The request's choices, checked. `values` is what the form shows again (as typed);
    `refusals` says, per filter, why its value was refused (the list is then not run)."""

    q: str = ""
    state: str = ""
    material: str = ""
    merchant: int | None = None
    start: datetime | None = None  # UTC, inclusive
    end: datetime | None = None  # UTC, exclusive
    after: int | None = None
    before: int | None = None
    values: Mapping[str, str] = field(default_factory=dict)
    refusals: Mapping[str, Message] = field(default_factory=dict)

    @property
    def filtered(self) -> bool:
        return any(self.values.get(name) for name in FILTERS)

    def url_args(self, **cursor: int) -> str:
        """The query string of this list's page at `cursor` (after= or before=) with the same
        filters; no cursor: its first page."""
        kept = {k: v for k, v in self.values.items() if k in FILTERS and v}
        return urlencode(kept | {k: str(v) for k, v in cursor.items()})


@dataclass(frozen=True)
class Page:
    """One page of a list: its rows, and the cursors of the pages before and after it."""

    rows: list[Any]
    query: ListQuery
    after: int | None = None  # the next page starts after this id
    before: int | None = None  # the previous page ends before this id

    @property
    def first_url(self) -> str | None:
        return self.query.url_args() if self.before is not None else None

    @property
    def next_url(self) -> str | None:
        return self.query.url_args(after=self.after) if self.after is not None else None

    @property
    def prev_url(self) -> str | None:
        return self.query.url_args(before=self.before) if self.before is not None else None


def parse(
    args: Mapping[str, str],
    spec: ListSpec,
    *,
    zone: tzinfo,
    materials: Collection[str] = (),
) -> ListQuery:
    """The filters of `args` that `spec` offers; a value no filter can read is refused (kept
    in `refusals` under the filter's name) rather than ignored or left to fail in SQL."""
    values = {name: str(args.get(name, "")).strip() for name in (*FILTERS, "after", "before")}
    refusals: dict[str, Message] = {}
    query = ListQuery(values=values)
    q = " ".join(values["q"].split())
    if len(q) > MAX_SEARCH:
        refusals["q"] = msg("搜索内容过长（最多 {n} 个字）", n=MAX_SEARCH)
    elif spec.search or spec.prefix or spec.exact:
        query = replace(query, q=q)
    if values["state"] and spec.state is not None:
        if values["state"] in spec.states:
            query = replace(query, state=values["state"])
        else:
            refusals["state"] = msg("没有这个状态")
    if values["material"] and spec.material is not None:
        if values["material"] in materials:
            query = replace(query, material=values["material"])
        else:
            refusals["material"] = msg("没有这个材质")
    if values["merchant"] and spec.merchant is not None:
        merchant = _whole(values["merchant"])
        if merchant is None:
            refusals["merchant"] = msg("没有这个商家")
        query = replace(query, merchant=merchant)
    if spec.when is not None:
        start, end = _day(values["from"]), _day(values["to"])
        if start is False:
            refusals["from"] = msg("日期格式应为 年-月-日，例如 2025-03-08")
        if end is False:
            refusals["to"] = msg("日期格式应为 年-月-日，例如 2025-03-08")
        if isinstance(start, date) and isinstance(end, date) and start > end:
            refusals["to"] = msg("结束日期早于开始日期")
        if isinstance(start, date):
            query = replace(query, start=local_day_start(start, zone))
        if isinstance(end, date):
            query = replace(query, end=local_day_start(end + timedelta(days=1), zone))
    after, before = _whole(values["after"]), _whole(values["before"])
    if (values["after"] and after is None) or (values["before"] and before is None):
        refusals["page"] = msg("页码链接无效，请回到第一页")
    query = replace(query, after=after, before=before)
    return replace(query, refusals=refusals)


def narrowed(query: Selection, spec: ListSpec, choices: ListQuery) -> Selection:
    """`query` narrowed by the choices (search, state, material, merchant, dates)."""
    if choices.refusals:
        return query.where(false())
    if choices.q:
        query = query.where(_found(query, spec, choices.q))
    if choices.state:
        query = query.where(spec.state == choices.state)
    if choices.material:
        query = query.where(spec.material == choices.material)
    if choices.merchant is not None:
        query = query.where(spec.merchant == choices.merchant)
    if choices.start is not None:
        query = query.where(spec.when >= choices.start)
    if choices.end is not None:
        query = query.where(spec.when < choices.end)
    return query


def _found(query: Selection, spec: ListSpec, q: str) -> ColumnElement[bool]:
    """The rows of `query` a search finds: a name or title containing `q`, a code beginning
    with it (as typed, in upper case, as our codes read it) or a scanner's exact code."""
    codes = [*spec.prefix, *(c for c in spec.exact if not any(c is p for p in spec.prefix))]
    wheres: list[ColumnElement[bool]] = [_Search(c, q) for c in spec.search]
    wheres += [_Search(c, code, prefix=True) for c in codes for code in _codes(q)]
    if len(q) < TRIGRAM:  # row by row, in page order
        return or_(*wheres)
    return _any(query, spec, wheres)


def _any(query: Selection, spec: ListSpec, wheres: Sequence[Any]) -> ColumnElement[bool]:
    """The rows of `query` one of `wheres` holds for. Each column through its own index, over
    the list's tables but not its conditions (they would tempt the database to walk the list
    instead): the list keeps the ids found among its own rows, isolation included. (An OR of
    columns of several tables is tested row by row: every row of the list read.)"""
    tables = query.get_final_froms()
    found = union_all(*(select(spec.key).select_from(*tables).where(w) for w in wheres))
    among: ColumnElement[bool] = spec.key.in_(found)
    return among


class _Search(ColumnElement[bool]):
    """`column` contains `text` (case aside) or, `prefix`, begins with it (case counts: codes
    are stored upper case); through the column's index, as each database has one."""

    inherit_cache = False

    def __init__(self, column: Any, text: str, *, prefix: bool = False) -> None:
        self.column, self.text, self.prefix = column, text, prefix


@compiles(_Search)
def _search(element: _Search, compiler: SQLCompiler, **kw: Any) -> str:
    # PostgreSQL: ILIKE '%…%' through the pg_trgm GIN index (3 characters or more), and
    # LIKE 'QC12%' through a text_pattern_ops b-tree whatever the collation.
    column, escaped = element.column, _escaped(element.text)
    if element.prefix:
        return str(compiler.process(column.like(f"{escaped}%", escape="\\"), **kw))
    return str(compiler.process(column.ilike(f"%{escaped}%", escape="\\"), **kw))


@compiles(_Search, "sqlite")
def _search_sqlite(element: _Search, compiler: SQLCompiler, **kw: Any) -> str:
    column, text = element.column.expression, element.text
    if element.prefix:
        # SQLite's LIKE ignores case and so its b-trees; a range on the (binary) index does not.
        between = and_(column >= text, column < text + "\U0010ffff")
        return str(compiler.process(between, **kw))
    name = column.table.name
    if len(text) < TRIGRAM or column.name not in SEARCH_TABLES.get(name, ()):
        return _search(element, compiler, **kw)
    # A trigram phrase matches where the text holds `text`, case folded.
    phrase = f'{column.name}:"{text.replace(chr(34), chr(34) * 2)}"'
    fts = f"{name}_search"
    matched = literal_column(fts).op("MATCH")(bindparam(None, phrase, unique=True))
    ids: Selection = select(literal_column("rowid")).select_from(table(fts)).where(matched)
    return str(compiler.process(column.table.c.id.in_(ids), **kw))


def sole(session: Session, query: Selection, spec: ListSpec, choices: ListQuery) -> Any:
    """The one row whose code is exactly what was searched (a scanner's code + Enter), or None
    when none or several are: then the list shows what matched."""
    if not choices.q or not spec.exact or choices.refusals or choices.after or choices.before:
        return None
    codes = _codes(choices.q)
    exact = _any(query, spec, [c.in_(codes) for c in spec.exact])
    found = list(session.exec(query.where(exact).limit(2)))
    return found[0] if len(found) == 1 else None


def page(
    session: Session,
    query: Selection,
    spec: ListSpec,
    choices: ListQuery,
    *,
    size: int = PAGE_SIZE,
    key_of: Callable[[Any], int] | None = None,
) -> Page:
    """One page of `query` narrowed by `choices`, at the cursor they carry."""
    key_of = key_of or _entity_id
    query = narrowed(query, spec, choices)
    forward = spec.key.desc() if spec.newest_first else spec.key.asc()
    backward = spec.key.asc() if spec.newest_first else spec.key.desc()

    def beyond(key: int, ahead: bool) -> Any:
        return spec.key < key if ahead == spec.newest_first else spec.key > key

    if choices.before is not None:
        rows = list(
            session.exec(
                query.where(beyond(choices.before, False)).order_by(backward).limit(size + 1)
            )
        )
        more_before = len(rows) > size
        rows = rows[:size][::-1]
        more_after = True
    else:
        cursor = query if choices.after is None else query.where(beyond(choices.after, True))
        rows = list(session.exec(cursor.order_by(forward).limit(size + 1)))
        more_after = len(rows) > size
        rows = rows[:size]
        more_before = choices.after is not None and _exists(
            session, query.where(beyond(choices.after, False))
        )
    if not rows:
        return Page(rows=[], query=choices)
    shown = spec.complete(session, rows) if spec.complete is not None else rows
    return Page(
        rows=shown,
        query=choices,
        after=key_of(rows[-1]) if more_after and rows else None,
        before=key_of(rows[0]) if more_before else None,
    )


def _exists(session: Session, query: Selection) -> bool:
    return bool(session.exec(select(query.limit(1).exists())).one())


def _entity_id(row: Any) -> int:
    first = row[0] if isinstance(row, tuple) or hasattr(row, "_fields") else row
    return int(first.id)


def _codes(text: str) -> list[str]:
    """A code as typed, in upper case, and as our own codes read it (Crockford: O is 0): an
    order or waybill number is the platform's and is matched as it is."""
    return sorted({text, text.upper(), normalize(text)})


def _escaped(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _whole(text: str) -> int | None:
    return int(text) if text.isdigit() and len(text) <= 18 else None


def _day(text: str) -> date | bool | None:
    """A date as typed (YYYY-MM-DD), None when empty, False when it is not one."""
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        return False
