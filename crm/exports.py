"""Streaming CSV and XLSX files for exports: what every list's "Export" uses.

- CSV: UTF-8 with a byte order mark (Excel then reads Arabic right), produced
  by a generator a chunk at a time, so a million rows never sit in memory; the
  SHA-256 and the row count are computed as the bytes go out, and handed to a
  callback once the last byte is written (the audit row is written then).
- XLSX: openpyxl in write-only mode into a temporary file (rows are streamed to
  disk, not kept in memory), then sent in chunks and deleted. The workbook says
  who made it and when, twice: in its document properties and in an "About"
  sheet that also names the list, its filter, the purpose and the row count.
  Sheets are right to left in Arabic.
- CSV carries no such line (a comment line would not be CSV and would break
  re-import); its file name says when and by whom (the user id), and the audit
  trail holds the file's SHA-256, so any CSV can be traced to its export.

Every text cell goes through :func:`crm.imports.columns.neutralise`: a cell that
starts with ``= + - @``, a tab or a carriage return gets a leading apostrophe, so
no spreadsheet runs it as a formula.
"""

from __future__ import annotations

import csv
import hashlib
import io
import os
import re
import tempfile
import unicodedata
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy import false, func, select

from crm.codes import Code
from crm.extensions import db
from crm.imports.columns import Column, neutralise
from crm.security import Permission

CHUNK_BYTES = 64 * 1024
BOM = "\ufeff"
XLSX_MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV_MIMETYPE = "text/csv; charset=utf-8"
# XML 1.0 cannot hold these; openpyxl refuses them.
_XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f]")


def cell_value(value: Any) -> Any:
    """A value as the writers put it in a cell: text neutralised, dates kept."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int | float | date | datetime):
        return value
    return neutralise(str(value))


def _csv_text(value: Any) -> str:
    value = cell_value(value)
    if isinstance(value, datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


# --- CSV ---------------------------------------------------------------------------


def csv_chunks(
    header: Sequence[str],
    rows: Iterable[Sequence[Any]],
    *,
    on_done: Callable[[int, str], None] | None = None,
) -> Iterator[bytes]:
    """The CSV file as byte chunks: BOM, header, rows. ``on_done(rows, sha256)``
    runs after the last chunk (not when the reader stops early)."""
    digest = hashlib.sha256()
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    buffer.write(BOM)
    writer.writerow([_csv_text(h) for h in header])
    count = 0
    for row in rows:
        writer.writerow([_csv_text(v) for v in row])
        count += 1
        if buffer.tell() >= CHUNK_BYTES:
            chunk = buffer.getvalue().encode("utf-8")
            buffer.seek(0)
            buffer.truncate()
            digest.update(chunk)
            yield chunk
    chunk = buffer.getvalue().encode("utf-8")
    digest.update(chunk)
    yield chunk
    if on_done is not None:
        on_done(count, digest.hexdigest())


# --- XLSX --------------------------------------------------------------------------


def _xlsx_text(value: str) -> str:
    return _XML_ILLEGAL.sub("\ufffd", value)


def write_xlsx(
    path: str | Path,
    *,
    sheet_title: str,
    header: Sequence[str],
    rows: Iterable[Sequence[Any]],
    right_to_left: bool = False,
    about: Sequence[tuple[str, Any]] = (),
    about_title: str = "About",
    properties: dict[str, Any] | None = None,
    extra_sheets: Sequence[tuple[str, Sequence[str], Iterable[Sequence[Any]]]] = (),
    about_rows: Callable[[int], Sequence[tuple[str, Any]]] | None = None,
) -> int:
    """Write a workbook to ``path`` in write-only mode; return the number of data
    rows. ``about`` (or ``about_rows(count)``, called once the rows are written)
    fills the "About" sheet; ``properties`` sets the document properties
    (creator, title, description...)."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    workbook = Workbook(write_only=True)
    bold = Font(bold=True)

    def header_cells(sheet: Any, names: Sequence[str]) -> list[Any]:
        cells = []
        for name in names:
            cell = WriteOnlyCell(sheet, value=_xlsx_text(str(name)))
            cell.font = bold
            cells.append(cell)
        return cells

    def data_cells(sheet: Any, row: Sequence[Any]) -> list[Any]:
        out: list[Any] = []
        for value in row:
            value = cell_value(value)
            if isinstance(value, datetime | date):
                cell = WriteOnlyCell(sheet, value=value)
                cell.number_format = (
                    "yyyy-mm-dd" if not isinstance(value, datetime) else "yyyy-mm-dd hh:mm"
                )
                out.append(cell)
            elif isinstance(value, str):
                out.append(_xlsx_text(value))
            else:
                out.append(value)
        return out

    def new_sheet(title: str) -> Any:
        sheet = workbook.create_sheet(title=_sheet_title(title))
        if right_to_left:
            sheet.sheet_view.rightToLeft = True
        return sheet

    sheet = new_sheet(sheet_title)
    sheet.freeze_panes = "A2"
    sheet.append(header_cells(sheet, header))
    count = 0
    for row in rows:
        sheet.append(data_cells(sheet, row))
        count += 1
    for title, names, extra in extra_sheets:
        other = new_sheet(title)
        other.append(header_cells(other, names))
        for row in extra:
            other.append(data_cells(other, row))
    about = list(about) + list(about_rows(count) if about_rows else [])
    if about:
        info = new_sheet(about_title)
        for label, value in about:
            info.append(
                [WriteOnlyCell(info, value=_xlsx_text(str(label))), *data_cells(info, [value])]
            )
        info.column_dimensions["A"].width = 28
        info.column_dimensions["B"].width = 80
    for key, value in (properties or {}).items():
        setattr(workbook.properties, key, value)
    workbook.save(str(path))
    return count


def _sheet_title(title: str) -> str:
    """A valid sheet name: no []:*?/\\ and at most 31 characters."""
    cleaned = re.sub(r"[\[\]:*?/\\]", " ", title).strip() or "Sheet"
    return cleaned[:31]


def temporary_path(suffix: str) -> Path:
    """A new, private temporary file (mode 0600) for a workbook being written."""
    handle, name = tempfile.mkstemp(prefix="crm-export-", suffix=suffix)
    os.close(handle)
    return Path(name)


def sha256_of(path: str | Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(CHUNK_BYTES), b""):
            digest.update(block)
    return digest.hexdigest()


def file_chunks(path: str | Path, *, delete: bool = True) -> Iterator[bytes]:
    """The file's bytes in chunks; the file is deleted at the end, or when the
    reader goes away early."""
    try:
        with open(path, "rb") as handle:
            yield from iter(lambda: handle.read(CHUNK_BYTES), b"")
    finally:
        if delete:
            Path(path).unlink(missing_ok=True)


# --- file names --------------------------------------------------------------------


def safe_filename(name: str) -> str:
    """A download name without paths, controls or direction characters, in ASCII
    letters, digits, dots, dashes and underscores."""
    name = unicodedata.normalize("NFKD", name)
    name = "".join(ch for ch in name if ch.isascii() and (ch.isalnum() or ch in "._-"))
    name = name.lstrip(".")
    return name[:150] or "export"


def content_disposition(filename: str) -> str:
    return f'attachment; filename="{safe_filename(filename)}"'


# --- what is exported --------------------------------------------------------------
#
# A list exports what it shows: its own filters, read from the address by the
# list's ListSpec, handed to the area's *_query(filters, actor=...). The columns
# are the import columns (so an export imports back), headed and coded in the
# reader's language (the importer accepts labels in either language).


class ExportPurpose(Code):
    """Why a file is taken out of the system: recorded with every export."""

    REPORTING = "reporting"
    COORDINATION = "coordination"
    ANALYSIS = "analysis"
    DATA_REQUEST = "data_request"
    RECORDS = "records"
    OTHER = "other"

    @classmethod
    def _labels(cls) -> dict[str, Any]:
        return {
            "reporting": _l("Reporting (annual report, donors)"),
            "coordination": _l("Coordination with partners"),
            "analysis": _l("Internal analysis"),
            "data_request": _l("Answer to a data request"),
            "records": _l("Records management"),
            "other": _l("Other"),
        }


@dataclass
class RecordKind:
    """How one kind of record becomes a row of a file."""

    name: str
    sheet: Any  # the sheet's title
    model: Any
    columns: Sequence[Column]
    values: Callable[[Any, Any], dict[str, Any]]  # (record, actor)
    confidential: Callable[[Any], Any]  # Select -> the same, only confidential rows
    options: Callable[[], Sequence[Any]] = tuple  # loader options (no query per row)
    public_columns: Sequence[Column] = ()
    public_values: Callable[[Any, Any, str], dict[str, Any]] | None = None
    # Select -> the same, without the records that may never be published
    publishable: Callable[[Any], Any] = lambda stmt: stmt


def _public_partner_values(partner: Any, actor: Any, language: str) -> dict[str, Any]:
    from crm.imports.kinds import KINDS
    from crm.partners.services import public_name

    values = KINDS["partners"].current(partner, actor)
    values["name"] = public_name(partner, language)
    if partner.do_not_name_publicly or partner.confidential:
        values["acronym"] = values["ref"] = values["city"] = None
    return values


def _public_names(partners: Iterable[Any], language: str) -> str:
    from crm.imports.columns import list_separator
    from crm.partners.services import public_name

    return list_separator(language).join(public_name(p, language) for p in partners)


def _record_kinds() -> dict[str, RecordKind]:
    from sqlalchemy.orm import selectinload

    from crm.engagements.models import Engagement, EngagementPartner
    from crm.frameworks.models import Framework, FrameworkPartner
    from crm.imports.columns import ENGAGEMENT_COLUMNS, FRAMEWORK_COLUMNS, PARTNER_COLUMNS
    from crm.imports.kinds import KINDS
    from crm.partners.models import Contact, Partner

    def pick(columns: Sequence[Column], names: Sequence[str], **extra: Column) -> list[Column]:
        by = {c.name: c for c in columns}
        return [extra[n] if n in extra else by[n] for n in names]

    confidential_partner = select(Partner.id).where(Partner.confidential.is_(True))
    names = Column("name", "text", _l("Name"), "")
    counterparts = Column("counterparts", "text", _l("Counterparts"), "")
    partners = Column("partners", "text", _l("Partners"), "")

    def partner_values(obj: Any, actor: Any) -> dict[str, Any]:
        return KINDS["partners"].current(obj, actor)

    def framework_values(obj: Any, actor: Any) -> dict[str, Any]:
        return KINDS["frameworks"].current(obj, actor)

    def framework_public(obj: Any, actor: Any, language: str) -> dict[str, Any]:
        return {
            **framework_values(obj, actor),
            "counterparts": _public_names(obj.partners, language),
        }

    def engagement_values(obj: Any, actor: Any) -> dict[str, Any]:
        return KINDS["engagements"].current(obj, actor)

    def engagement_public(obj: Any, actor: Any, language: str) -> dict[str, Any]:
        return {**engagement_values(obj, actor), "partners": _public_names(obj.partners, language)}

    def contact_values(contact: Any, _actor: Any) -> dict[str, Any]:
        return {
            "partner_ref": contact.partner.ref,
            "name_en": contact.name_en,
            "name_ar": contact.name_ar,
            "role": contact.role,
            "email": contact.email,
            "phone": contact.phone,
            "preferred_language": contact.preferred_language,
            "agreed_to_contact": bool(contact.agreed_to_contact),
        }

    return {
        "partners": RecordKind(
            name="partners",
            sheet=_l("Partners"),
            model=Partner,
            columns=PARTNER_COLUMNS,
            values=partner_values,
            confidential=lambda stmt: stmt.where(Partner.confidential.is_(True)),
            options=lambda: (selectinload(Partner.victim_groups),),
            public_columns=pick(
                PARTNER_COLUMNS,
                ["ref", "name", "type", "country", "city", "women_led", "victim_groups"],
                name=names,
            ),
            public_values=_public_partner_values,
            publishable=lambda stmt: stmt.where(Partner.confidential.is_(False)),
        ),
        "frameworks": RecordKind(
            name="frameworks",
            sheet=_l("Cooperation frameworks"),
            model=Framework,
            columns=FRAMEWORK_COLUMNS,
            values=framework_values,
            confidential=lambda stmt: stmt.where(
                Framework.confidential.is_(True)
                | Framework.id.in_(
                    select(FrameworkPartner.framework_id).where(
                        FrameworkPartner.partner_id.in_(confidential_partner)
                    )
                )
            ),
            options=lambda: (selectinload(Framework.partners), selectinload(Framework.amends)),
            public_columns=pick(
                FRAMEWORK_COLUMNS,
                [
                    "title_en",
                    "title_ar",
                    "instrument",
                    "counterparts",
                    "status",
                    "signed_on",
                    "in_force_from",
                    "expires_on",
                    "terminated_on",
                ],
                counterparts=counterparts,
            ),
            public_values=framework_public,
            publishable=lambda stmt: stmt.where(Framework.confidential.is_(False)),
        ),
        "engagements": RecordKind(
            name="engagements",
            sheet=_l("Engagements"),
            model=Engagement,
            columns=ENGAGEMENT_COLUMNS,
            values=engagement_values,
            confidential=lambda stmt: stmt.where(
                Engagement.id.in_(
                    select(EngagementPartner.engagement_id).where(
                        EngagementPartner.partner_id.in_(confidential_partner)
                    )
                )
            ),
            options=lambda: (
                selectinload(Engagement.partners),
                selectinload(Engagement.victim_groups),
                selectinload(Engagement.strategies),
            ),
            public_columns=pick(
                ENGAGEMENT_COLUMNS,
                [
                    "title_en",
                    "title_ar",
                    "category",
                    "type",
                    "format",
                    "status",
                    "start_date",
                    "end_date",
                    "country",
                    "city",
                    "languages",
                    "victim_groups",
                    "strategies",
                    "partners",
                    "women",
                    "men",
                    "unspecified",
                    "under_18",
                ],
                partners=partners,
            ),
            public_values=engagement_public,
        ),
        "contacts": RecordKind(
            name="contacts",
            sheet=_l("Contact persons"),
            model=Contact,
            columns=CONTACT_COLUMNS,
            values=contact_values,
            confidential=lambda stmt: stmt.where(Contact.partner_id.in_(confidential_partner)),
            options=lambda: (selectinload(Contact.partner),),
        ),
    }


CONTACT_COLUMNS: tuple[Column, ...] = (
    Column("partner_ref", "ref", _l("Partner reference"), ""),
    Column("name_en", "text", _l("Name (Latin script)"), ""),
    Column("name_ar", "text", _l("Name (Arabic)"), ""),
    Column("role", "text", _l("Role"), ""),
    Column("email", "text", _l("E-mail address"), ""),
    Column("phone", "text", _l("Phone"), ""),
    Column("preferred_language", "text", _l("Preferred language"), ""),
    Column("agreed_to_contact", "bool", _l("Agreed to be contacted"), ""),
)


class NotExportable(LookupError):
    """The address names no list that can be exported (answered with a 404)."""


@dataclass
class ListExport:
    """An exportable list: which records (and kind) its address stands for."""

    name: str
    label: Any
    permissions: tuple[Permission, ...]
    list_endpoint: str
    resolve: Callable[[Any, Any], tuple[str, Any, dict[str, Any]]]
    personal: bool = False
    public_allowed: bool = True


def _partners_list(args: Any, actor: Any) -> tuple[str, Any, dict[str, Any]]:
    from crm.partners.services import partner_query
    from crm.partners.views import PARTNER_LIST

    filters = PARTNER_LIST.parse_filters(args)
    return "partners", partner_query(filters, actor=actor), filters


def _frameworks_list(args: Any, actor: Any) -> tuple[str, Any, dict[str, Any]]:
    from crm.frameworks.services import framework_query
    from crm.frameworks.views import FRAMEWORK_LIST

    filters = FRAMEWORK_LIST.parse_filters(args)
    return "frameworks", framework_query(filters, actor=actor), filters


def _engagements_list(args: Any, actor: Any) -> tuple[str, Any, dict[str, Any]]:
    from crm.engagements.services import engagement_query
    from crm.engagements.views import ENGAGEMENT_LIST

    filters = ENGAGEMENT_LIST.parse_filters(args)
    if filters.pop("mine", False):  # as the list does it
        filters["created_by"] = actor.id
    return "engagements", engagement_query(filters, actor=actor), filters


def _contacts_list(args: Any, actor: Any) -> tuple[str, Any, dict[str, Any]]:
    from crm.partners.models import Contact, Partner
    from crm.partners.services import can_see_contacts, partner_query
    from crm.partners.views import PARTNER_LIST

    filters = PARTNER_LIST.parse_filters(args)
    stmt = select(Contact).where(Contact.archived_at.is_(None))
    if not can_see_contacts(actor):
        stmt = stmt.where(false())
    partners = partner_query(filters, actor=actor).with_only_columns(Partner.id)
    return "contacts", stmt.where(Contact.partner_id.in_(partners)), filters


def _report_list(args: Any, actor: Any) -> tuple[str, Any, dict[str, Any]]:
    from crm.engagements.models import Engagement
    from crm.engagements.services import engagement_query
    from crm.frameworks.models import Framework
    from crm.frameworks.services import framework_query
    from crm.reports import counting
    from crm.reports import services as report_services
    from crm.reports.forms import PeriodForm

    key = str(args.get("figure") or "")
    form = PeriodForm(formdata=args, meta={"csrf": False})
    if not key or not form.validate():
        raise NotExportable(key)
    period = form.period()
    live = str(args.get("live") or "") == "1"
    try:
        kind = counting.figure_kind(counting.canonical_key(key, period))
        # The list as the records page shows it: frozen for a locked period.
        ids, _locked = report_services.records_behind(period, key, live=live)
    except (KeyError, ValueError) as exc:
        raise NotExportable(key) from exc
    filters = {"figure": key, "from": period.start, "to": period.end, "live": live}
    if kind == "framework":
        stmt = framework_query({"amendments": "include"}, actor=actor)
        return "frameworks", stmt.where(Framework.id.in_(ids)), filters
    if kind == "engagement":
        return (
            "engagements",
            engagement_query({}, actor=actor).where(Engagement.id.in_(ids)),
            filters,
        )
    raise NotExportable(key)  # people are never exported from a figure


P = Permission
LIST_EXPORTS: dict[str, ListExport] = {
    "partners": ListExport(
        "partners", _l("Partners"), (P.PARTNERS_VIEW,), "partners.index", _partners_list
    ),
    "frameworks": ListExport(
        "frameworks",
        _l("Cooperation frameworks"),
        (P.FRAMEWORKS_VIEW,),
        "frameworks.index",
        _frameworks_list,
    ),
    "engagements": ListExport(
        "engagements",
        _l("Engagements"),
        (P.ENGAGEMENTS_VIEW,),
        "engagements.index",
        _engagements_list,
    ),
    "contacts": ListExport(
        "contacts",
        _l("Contact persons of partners"),
        (P.PARTNERS_VIEW, P.EXPORT_PERSONAL),
        "partners.index",
        _contacts_list,
        personal=True,
        public_allowed=False,
    ),
    "report": ListExport(
        "report",
        _l("Records behind a figure of the report"),
        (P.REPORTS_VIEW,),
        "reports.records",
        _report_list,
    ),
}


@dataclass
class ExportPlan:
    """What one export will write, decided before a byte is written."""

    list: ListExport
    kind: RecordKind
    stmt: Any
    filters: dict[str, Any]
    public: bool
    confidential: bool  # the file holds confidential records (or links to them)

    @property
    def personal(self) -> bool:
        return self.list.personal

    @property
    def sensitive(self) -> bool:
        """Personal data or confidential records: a purpose and a recent
        re-authentication are required."""
        return self.personal or self.confidential

    def columns(self) -> Sequence[Column]:
        return self.kind.public_columns if self.public else self.kind.columns


def plan_export(name: str, args: Any, actor: Any, *, public: bool = False) -> ExportPlan:
    """Resolve an export from the list's name and address. Raises
    :class:`NotExportable` (404) or ``PermissionDenied``."""
    from crm.errors import PermissionDenied

    spec = LIST_EXPORTS.get(name)
    if spec is None:
        raise NotExportable(name)
    if not actor.can(P.EXPORT) or not all(actor.can(p) for p in spec.permissions):
        raise PermissionDenied()
    kind_name, stmt, filters = spec.resolve(args, actor)
    kind = _record_kinds()[kind_name]
    public = public and spec.public_allowed and kind.public_values is not None
    if public:
        # Confidential records stay out of anything published; a partner that must
        # not be named is described by the kind's public_values.
        stmt = kind.publishable(stmt)
        confidential = False
    else:
        found = db.session.execute(
            kind.confidential(stmt).with_only_columns(kind.model.id).limit(1)
        )
        confidential = found.first() is not None
    if confidential and not actor.can(P.CONFIDENTIAL_VIEW):
        raise PermissionDenied()
    return ExportPlan(spec, kind, stmt, filters, public, confidential)


def count_rows(plan: ExportPlan) -> int:
    stmt = plan.stmt.order_by(None).with_only_columns(plan.kind.model.id).subquery()
    return int(db.session.execute(select(func.count()).select_from(stmt)).scalar_one())


def iter_records(
    plan: ExportPlan, chunk: int = 500, *, release_locks: bool = False
) -> Iterator[Any]:
    """The records in id order, ``chunk`` at a time (keyset on the id): memory
    holds one chunk, whatever the size of the list. ``release_locks`` ends the
    transaction after each chunk on SQLite (see below)."""
    model = plan.kind.model
    last = 0
    while True:
        stmt = (
            plan.stmt.where(model.id > last)
            .order_by(model.id)
            .limit(chunk)
            .options(*plan.kind.options())
        )
        records = db.session.execute(stmt).scalars().all()
        if not records:
            return
        yield from records
        last = records[-1].id
        del records
        if release_locks and db.session.get_bind().dialect.name == "sqlite":
            # Each chunk in a transaction of its own: a long export must not hold
            # SQLite's write lock (taken at BEGIN by a POST) from other users.
            db.session.commit()


def header_row(plan: ExportPlan, language: str) -> list[str]:
    from crm.imports.columns import header_labels

    return header_labels(plan.columns(), language)


def iter_rows(
    plan: ExportPlan, actor: Any, language: str, *, release_locks: bool = False
) -> Iterator[list[Any]]:
    """Each record as the cells of a row, in ``language``."""
    from crm.imports.columns import format_cell

    columns = plan.columns()
    with force_locale(language):
        for record in iter_records(plan, release_locks=release_locks):
            if plan.public and plan.kind.public_values is not None:
                values = plan.kind.public_values(record, actor, language)
            else:
                values = plan.kind.values(record, actor)
            yield [format_cell(c, values.get(c.name), language) for c in columns]


def audit_filters(filters: dict[str, Any]) -> dict[str, Any]:
    """The filters as the audit trail keeps them: typed values as codes, and the
    search words only as a hash (they may be a person's name)."""
    kept: dict[str, Any] = {}
    for key, value in filters.items():
        if key == "q" and value:
            kept[key] = {"sha256": hashlib.sha256(str(value).encode()).hexdigest()}
        elif isinstance(value, list | tuple | set):
            kept[key] = [getattr(v, "value", v) for v in value]
        else:
            kept[key] = getattr(value, "value", value)
    return kept


def export_filename(plan: ExportPlan, actor: Any, fmt: str, when: datetime) -> str:
    """``partners_2025-01-31_1030Z_u12.csv``: what, when (UTC) and who made it."""
    who = f"u{actor.id}" if getattr(actor, "id", None) else "system"
    public = "_public" if plan.public else ""
    return f"{plan.list.name}{public}_{when:%Y-%m-%d_%H%M%S}Z_{who}.{fmt}"
