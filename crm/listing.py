"""Lists people like to use: filters in the address, whitelisted sorting, keyset pages.

Every list screen (partners, frameworks, engagements, people…) is the same four
steps, so they all behave alike and stay fast at a million rows:

1. a :class:`ListSpec` says which filters and sort keys the list accepts;
2. :meth:`ListSpec.from_request` reads ``request.args`` into a :class:`ListState`:
   typed filter values (unknown or malformed values are ignored, never an error),
   the sort key (only a whitelisted name, never a raw column), the direction and
   the page cursor;
3. the area's service turns the typed filters into a ``Select`` (the same function
   the exports and the API use, so they all see the same records);
4. :meth:`ListState.paginate` orders that ``Select`` by the sort expression plus
   the id as tie-breaker, applies the keyset cursor, fetches one page and counts
   the total with a ``COUNT`` over the same filtered ``Select``.

Example (a view)::

    from crm.listing import ListSpec, SortOption, bool_filter, choice_filter, text_filter

    PARTNER_LIST = ListSpec(
        endpoint="partners.index",
        filters=[
            text_filter("q", _l("Search")),
            choice_filter("type", _l("Type"), PartnerType, multiple=True),
            bool_filter("women_led", _l("Women-led")),
        ],
        sorts={
            "name": SortOption(_l("Name"), func.lower(func.coalesce(Partner.name_en, ""))),
            "created": SortOption(_l("Created"), Partner.created_at, descending=True),
        },
        default_sort="name",
    )

    @bp.get("/")
    @require(Permission.PARTNERS_VIEW)
    def index():
        state = PARTNER_LIST.from_request(request.args)
        page = state.paginate(partner_query(state.filters, actor=current_user), Partner.id)
        return render_template("partners/index.html", state=state, page=page)

and in the template::

    {% import "_macros/ui.html" as ui %}
    {{ ui.filter_chips(state.chips(), clear_url=state.clear_url()) }}
    {% set s = state.sort_link("name") %}{{ ui.sort_header(s.label, s.url, s.active, s.direction) }}
    {% for partner in page.items %}…{% endfor %}
    {{ ui.pagination(page.prev_url, page.next_url, page.count_text()) }}
    <a href="{{ page.first_url }}">…</a>

Query-string names: the filters' own names, ``sort``, ``dir`` (``asc``/``desc``),
``after`` and ``before`` (opaque, signed page cursors). A cursor is only valid for
the sort it was made with; a foreign or tampered cursor shows the first page.

Rules for the ``Select`` handed to :meth:`ListState.paginate`:

- it selects one entity (``select(Partner).where(...)``);
- it yields each row once: filter on many-to-many links with ``EXISTS``
  (``Partner.id.in_(select(...))``), not with a join plus ``DISTINCT``;
- sort expressions never yield NULL (wrap nullable columns in ``coalesce``),
  because keyset comparisons with NULL are never true.
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from enum import Enum
from typing import Any

from flask import current_app, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import Select, and_, func, or_, select
from sqlalchemy.sql.elements import ClauseElement, ColumnElement

from crm.extensions import db
from crm.i18n import format_number, normalize_digits

RESERVED_ARGS = frozenset({"sort", "dir", "after", "before"})
_TRUE = {"1", "yes", "true", "on", "y", "نعم"}
_FALSE = {"0", "no", "false", "off", "n", "لا"}


# --- filters ---------------------------------------------------------------------


@dataclass(frozen=True)
class FilterSpec:
    """One filter of a list.

    ``parse`` turns one query-string value into a typed value and raises
    ``ValueError`` (or ``KeyError``) for a value it does not accept, which is then
    ignored. ``to_arg`` turns a typed value back into its query-string form;
    ``display`` gives the text a chip shows for it.
    """

    name: str
    label: Any
    parse: Callable[[str], Any]
    multiple: bool = False
    to_arg: Callable[[Any], str] = str
    display: Callable[[Any], Any] = str

    def read(self, values: Sequence[str]) -> Any:
        parsed: list[Any] = []
        for raw in values:
            raw = (raw or "").strip()
            if not raw:
                continue
            try:
                value = self.parse(raw)
            except (ValueError, KeyError, TypeError):
                continue
            if value is not None and value not in parsed:
                parsed.append(value)
        if self.multiple:
            return parsed or None
        return parsed[0] if parsed else None


def text_filter(name: str, label: Any, *, max_length: int = 200) -> FilterSpec:
    """Free text (a search box): trimmed, cut at ``max_length``."""
    return FilterSpec(name, label, parse=lambda raw: raw[:max_length])


def choice_filter(
    name: str, label: Any, codes: type[Enum], *, multiple: bool = False
) -> FilterSpec:
    """One (or several) values of a code list; unknown codes are ignored."""
    return FilterSpec(
        name,
        label,
        parse=codes,
        multiple=multiple,
        to_arg=lambda value: str(value.value),
        display=lambda value: getattr(value, "label", value.value),
    )


def _parse_bool(raw: str) -> bool:
    lowered = raw.casefold()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise ValueError(raw)


def bool_filter(name: str, label: Any) -> FilterSpec:
    """Yes or no (``yes``/``no``, ``1``/``0``, ``true``/``false``)."""
    return FilterSpec(
        name,
        label,
        parse=_parse_bool,
        to_arg=lambda value: "yes" if value else "no",
        display=lambda value: _l("Yes") if value else _l("No"),
    )


def int_filter(
    name: str,
    label: Any,
    *,
    minimum: int | None = None,
    maximum: int | None = None,
    multiple: bool = False,
) -> FilterSpec:
    """A whole number (Arabic-Indic digits accepted), optionally within bounds."""

    def parse(raw: str) -> int:
        value = int(normalize_digits(raw))
        if (minimum is not None and value < minimum) or (maximum is not None and value > maximum):
            raise ValueError(raw)
        return value

    return FilterSpec(name, label, parse=parse, multiple=multiple, display=format_number)


def date_filter(name: str, label: Any) -> FilterSpec:
    """An ISO date (YYYY-MM-DD)."""
    from crm.i18n import format_date

    return FilterSpec(
        name,
        label,
        parse=lambda raw: date.fromisoformat(normalize_digits(raw)),
        to_arg=lambda value: value.isoformat(),
        display=format_date,
    )


def set_filter(
    name: str,
    label: Any,
    allowed: Callable[[], Mapping[str, Any]],
    *,
    multiple: bool = False,
    normalise: Callable[[str], str] = str,
) -> FilterSpec:
    """A value out of a set known at request time, e.g. country codes.

    ``allowed()`` maps each accepted value to the label its chip shows.
    """

    def parse(raw: str) -> str:
        value = normalise(raw)
        if value not in allowed():
            raise ValueError(raw)
        return value

    return FilterSpec(
        name,
        label,
        parse=parse,
        multiple=multiple,
        display=lambda value: allowed().get(value, value),
    )


# --- sorting ---------------------------------------------------------------------


@dataclass(frozen=True)
class SortOption:
    """A sort key users may choose: its label, the SQL expression (never NULL) and
    whether it starts descending (dates usually do).

    ``expression`` may also be a function without arguments returning the
    expression, for an order that depends on the request (e.g. names in the
    reader's language first).
    """

    label: Any
    expression: Any
    descending: bool = False

    def sql(self) -> Any:
        expression = self.expression
        if hasattr(expression, "__clause_element__") or isinstance(expression, ClauseElement):
            return expression
        return expression() if callable(expression) else expression


# --- the list and its state ------------------------------------------------------


@dataclass(frozen=True)
class Chip:
    """An active filter value: what it says, and the address without it."""

    name: str
    label: str
    remove_url: str


@dataclass(frozen=True)
class SortLink:
    key: str
    label: Any
    url: str
    active: bool
    direction: str


@dataclass(frozen=True)
class ListSpec:
    endpoint: str
    filters: Sequence[FilterSpec]
    sorts: Mapping[str, SortOption]
    default_sort: str
    page_size: int | None = None  # None: the PAGE_SIZE setting

    def __post_init__(self) -> None:
        names = [f.name for f in self.filters]
        clash = (set(names) & RESERVED_ARGS) or len(names) != len(set(names))
        if clash or self.default_sort not in self.sorts:
            raise ValueError(f"bad list spec for {self.endpoint}")

    def filter_spec(self, name: str) -> FilterSpec:
        return next(f for f in self.filters if f.name == name)

    def parse_filters(self, args: Any) -> dict[str, Any]:
        """The typed filters found in ``args`` (a MultiDict or a plain mapping)."""
        found: dict[str, Any] = {}
        for spec in self.filters:
            if hasattr(args, "getlist"):
                raw = args.getlist(spec.name)
            else:
                value = args.get(spec.name)
                raw = list(value) if isinstance(value, list | tuple) else [value] if value else []
            value = spec.read([str(v) for v in raw])
            if value is not None:
                found[spec.name] = value
        return found

    def from_request(self, args: Any, **view_args: Any) -> ListState:
        """The state of the list as the address describes it.

        ``view_args`` are the endpoint's own URL arguments (``partner_id=…``), kept
        in every link the state builds.
        """
        sort = args.get("sort")
        if sort not in self.sorts:
            sort = self.default_sort
        direction = args.get("dir")
        if direction not in ("asc", "desc"):
            direction = "desc" if self.sorts[sort].descending else "asc"
        return ListState(
            spec=self,
            filters=self.parse_filters(args),
            sort=sort,
            descending=direction == "desc",
            after=args.get("after") or None,
            before=None if args.get("after") else (args.get("before") or None),
            view_args=dict(view_args),
        )


@dataclass(frozen=True)
class ListState:
    """What a list shows: typed filters, sort, direction and the page cursor."""

    spec: ListSpec
    filters: dict[str, Any]
    sort: str
    descending: bool
    after: str | None = None
    before: str | None = None
    view_args: dict[str, Any] = field(default_factory=dict)

    # -- addresses --

    @property
    def direction(self) -> str:
        return "desc" if self.descending else "asc"

    def query_args(self, *, with_sort: bool = True) -> dict[str, Any]:
        """The filters (and sort) as query-string arguments, without a cursor."""
        args: dict[str, Any] = {}
        for spec in self.spec.filters:
            value = self.filters.get(spec.name)
            if value is None:
                continue
            if spec.multiple:
                args[spec.name] = [spec.to_arg(v) for v in value]
            else:
                args[spec.name] = spec.to_arg(value)
        if with_sort:
            default = self.spec.sorts[self.spec.default_sort]
            if self.sort != self.spec.default_sort or self.descending != default.descending:
                args["sort"] = self.sort
                args["dir"] = self.direction
        return args

    def url(self, *, endpoint: str | None = None, **extra: Any) -> str:
        """This list's address with its filters and sort; ``extra`` adds or
        replaces arguments (``None`` removes one)."""
        args = {**self.view_args, **self.query_args()}
        for key, value in extra.items():
            if value is None:
                args.pop(key, None)
            else:
                args[key] = value
        return url_for(endpoint or self.spec.endpoint, **args)

    def with_filters(self, **changes: Any) -> ListState:
        """A copy with some filters set (or removed with ``None``), on its first page."""
        filters = dict(self.filters)
        for name, value in changes.items():
            if value is None or value == []:
                filters.pop(name, None)
            else:
                filters[name] = value
        return replace(self, filters=filters, after=None, before=None)

    def chips(self) -> list[Chip]:
        """One chip per active filter value, each linking to the list without it."""
        chips = []
        for spec in self.spec.filters:
            value = self.filters.get(spec.name)
            if value is None:
                continue
            values = value if spec.multiple else [value]
            for item in values:
                rest = [v for v in values if v != item] if spec.multiple else None
                label = _("%(filter)s: %(value)s", filter=spec.label, value=spec.display(item))
                chips.append(Chip(spec.name, label, self.with_filters(**{spec.name: rest}).url()))
        return chips

    def clear_url(self) -> str | None:
        """The list without any filter (keeping the sort), or None when unfiltered."""
        if not self.filters:
            return None
        return replace(self, filters={}, after=None, before=None).url()

    def sort_link(self, key: str) -> SortLink:
        """The column header link for sort key ``key``: activates it or flips it."""
        option = self.spec.sorts[key]
        active = key == self.sort
        descending = not self.descending if active else option.descending
        target = replace(self, sort=key, descending=descending, after=None, before=None)
        return SortLink(key, option.label, target.url(), active, self.direction if active else "")

    # -- cursors --

    def _serializer(self) -> URLSafeSerializer:
        return URLSafeSerializer(
            current_app.config["SECRET_KEY"], salt=f"crm.listing:{self.spec.endpoint}"
        )

    def make_cursor(self, sort_value: Any, row_id: int) -> str:
        return self._serializer().dumps([self.sort, self.direction, _encode(sort_value), row_id])

    def read_cursor(self, token: str | None) -> tuple[Any, int] | None:
        if not token:
            return None
        try:
            sort, direction, value, row_id = self._serializer().loads(token)
        except (BadSignature, ValueError, TypeError):
            return None
        if sort != self.sort or direction != self.direction or not isinstance(row_id, int):
            return None
        try:
            return _decode(value), row_id
        except (ValueError, TypeError, KeyError):
            return None

    # -- the page --

    def count(self, stmt: Select[Any]) -> int:
        return count_rows(stmt)

    def paginate(self, stmt: Select[Any], id_column: Any, *, page_size: int | None = None) -> Page:
        """One page of ``stmt`` in this state's order, with its links and total."""
        size = page_size or self.spec.page_size or int(current_app.config["PAGE_SIZE"])
        total = self.count(stmt)
        expression = self.spec.sorts[self.sort].sql()
        after = self.read_cursor(self.after)
        before = None if after else self.read_cursor(self.before)
        # Walking backwards ("before") reads in the opposite order, then flips.
        backwards = before is not None
        descending = self.descending != backwards
        keyed = stmt.add_columns(expression.label("_crm_sort_key"))
        cursor = after or before
        if cursor is not None:
            keyed = keyed.where(_beyond(expression, id_column, cursor, descending))
        order = (
            (expression.desc(), id_column.desc())
            if descending
            else (expression.asc(), id_column.asc())
        )
        rows = db.session.execute(keyed.order_by(*order).limit(size + 1)).all()
        more = len(rows) > size
        rows = rows[:size]
        if backwards:
            rows.reverse()
        items = [row[0] for row in rows]
        keys = [(row[-1], getattr(row[0], id_column.key)) for row in rows]
        if backwards:
            has_next, has_prev = bool(rows), more
        else:
            has_next, has_prev = more, cursor is not None
        next_url = (
            self.url(after=self.make_cursor(*keys[-1]), before=None) if has_next and keys else None
        )
        prev_url = None
        if has_prev and keys:
            prev_url = self.url(before=self.make_cursor(*keys[0]), after=None)
        first_url = self.url(after=None, before=None)
        return Page(
            items=items,
            total=total,
            page_size=size,
            next_url=next_url,
            prev_url=prev_url,
            first_url=first_url,
            is_first=not has_prev,
        )


def count_rows(stmt: Select[Any]) -> int:
    """How many rows a filtered ``Select`` holds (same filters, no order, no page)."""
    counted = select(func.count()).select_from(stmt.order_by(None).subquery())
    return int(db.session.execute(counted).scalar_one())


def _beyond(
    expression: Any, id_column: Any, cursor: tuple[Any, int], descending: bool
) -> ColumnElement[bool]:
    """Rows strictly after ``cursor`` in (expression, id) order."""
    value, row_id = cursor
    if descending:
        return or_(expression < value, and_(expression == value, id_column < row_id))
    return or_(expression > value, and_(expression == value, id_column > row_id))


def _encode(value: Any) -> Any:
    if isinstance(value, datetime):
        return {"t": value.isoformat()}
    if isinstance(value, date):
        return {"d": value.isoformat()}
    if isinstance(value, bytes):
        return {"b": base64.urlsafe_b64encode(value).decode()}
    if isinstance(value, Enum):
        return value.value
    return value


def _decode(value: Any) -> Any:
    if isinstance(value, dict):
        if "t" in value:
            return datetime.fromisoformat(value["t"])
        if "d" in value:
            return date.fromisoformat(value["d"])
        if "b" in value:
            return base64.urlsafe_b64decode(value["b"])
        raise ValueError("unknown cursor value")
    return value


@dataclass(frozen=True)
class Page:
    """One page of a list: its rows, the total and the links around it."""

    items: list[Any]
    total: int
    page_size: int
    next_url: str | None
    prev_url: str | None
    first_url: str
    is_first: bool

    def count_text(self) -> str:
        """ "12 records" / "١٢ سجلاً": the total, in the reader's language."""
        return ngettext(
            "%(count)s record", "%(count)s records", self.total, count=format_number(self.total)
        )

    def __iter__(self) -> Iterator[Any]:
        return iter(self.items)

    def __len__(self) -> int:
        return len(self.items)
