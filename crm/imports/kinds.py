"""What the importer (and the exports) know of each kind of record: its columns,
how a row becomes the mapping its area's services take, how a record reads back
as column values, and which services create and update it.

The column -> field mapping lives here: ``partner_refs`` become ``partner_ids``
(frameworks) or stay refs (engagements, whose service resolves them),
``amends_ref`` becomes ``amends_id``. Every rule stays in the areas' services.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from crm.codes import AmendmentKind
from crm.engagements.models import Engagement
from crm.extensions import db
from crm.frameworks.models import Framework
from crm.imports.columns import (
    ENGAGEMENT_COLUMNS,
    FRAMEWORK_COLUMNS,
    PARTNER_COLUMNS,
    CellError,
    Column,
)
from crm.partners.models import Partner
from crm.security import Permission

# Service fields whose errors belong to another column of the file.
FIELD_TO_COLUMN = {
    "partner_ids": "partner_refs",
    "amends_id": "amends_ref",
    "amendment_kind": "amends_ref",
}


@dataclass
class Kind:
    name: str
    label: Any
    model: type
    columns: tuple[Column, ...]
    permission: Permission  # to create and update records of this kind
    sheet_names: tuple[str, ...]
    to_data: Callable[[Mapping[str, Any], Any], dict[str, Any]]
    current: Callable[[Any, Any], dict[str, Any]]
    create: Callable[..., Any]
    update: Callable[..., Any]
    # A row's values as the file means them, given the record it matches (or None):
    # what an empty cell stands for, before the row is compared and applied.
    normalise: Callable[[dict[str, Any], Any], dict[str, Any]] | None = None

    def column(self, name: str) -> Column:
        return next(c for c in self.columns if c.name == name)

    def find(self, ref: str) -> Any:
        return db.session.execute(
            select(self.model).where(self.model.ref == ref)  # type: ignore[attr-defined]
        ).scalar_one_or_none()


def _refs_to_ids(model: Any, refs: Sequence[str], what: Any) -> list[int]:
    """Ids of the records with these references, in order; unknown ones raise a
    :class:`CellError` naming them."""
    if not refs:
        return []
    found = dict(
        db.session.execute(select(model.ref, model.id).where(model.ref.in_(list(refs)))).all()
    )
    missing = [r for r in refs if r not in found]
    if missing:
        raise CellError(
            _l(
                "No %(what)s has the reference %(refs)s.",
                what=what,
                refs=", ".join(missing[:5]),
            )
        )
    return [found[r] for r in refs]


def _visible(records: Sequence[Any], actor: Any) -> list[Any]:
    return [r for r in records if actor is None or r.can_view(actor)]


# --- partners ----------------------------------------------------------------------


def _partner_data(values: Mapping[str, Any], _actor: Any) -> dict[str, Any]:
    return dict(values)


def _partner_current(partner: Partner, _actor: Any) -> dict[str, Any]:
    return {
        "ref": partner.ref,
        "name_en": partner.name_en,
        "name_ar": partner.name_ar,
        "acronym": partner.acronym,
        "type": partner.type,
        "country": partner.country,
        "city": partner.city,
        "women_led": bool(partner.women_led),
        "victim_groups": sorted((g.code for g in partner.victim_groups), key=str),
        "email": partner.email,
        "phone": partner.phone,
        "confidential": bool(partner.confidential),
        "notes": partner.notes,
    }


def _create_partner(data: Mapping[str, Any], *, actor: Any) -> Any:
    from crm.partners.services import create_partner

    return create_partner(data, actor=actor)


def _update_partner(obj: Any, data: Mapping[str, Any], *, actor: Any) -> Any:
    from crm.partners.services import update_partner

    return update_partner(obj, data, actor=actor, version=None)


# --- frameworks --------------------------------------------------------------------


def _framework_data(values: Mapping[str, Any], _actor: Any) -> dict[str, Any]:
    data = dict(values)
    errors: dict[str, Any] = {}
    if "partner_refs" in data:
        try:
            data["partner_ids"] = _refs_to_ids(Partner, data.pop("partner_refs"), _l("partner"))
        except CellError as exc:
            errors["partner_refs"] = exc.message
    if "amends_ref" in data:
        ref = data.pop("amends_ref")
        if ref:
            try:
                data["amends_id"] = _refs_to_ids(Framework, [ref], _l("framework"))[0]
            except CellError:
                errors["amends_ref"] = _l(
                    "No framework has the reference %(ref)s (it must exist already or come "
                    "earlier in the file).",
                    ref=ref,
                )
            if not data.get("amendment_kind"):
                data["amendment_kind"] = AmendmentKind.AMENDMENT
        else:
            data["amends_id"] = None
            data.setdefault("amendment_kind", None)
    if errors:
        raise RowCellErrors(errors)
    return data


def _framework_normalise(values: dict[str, Any], record: Any) -> dict[str, Any]:
    """An empty ``amendment_kind`` means ``amendment`` for a row that amends a framework
    (interfaces.md), on creation and on update alike, so a file that imported once
    imports again without change."""
    if "amendment_kind" in values and not values["amendment_kind"]:
        amends = values.get("amends_ref", record.amends_id if record is not None else None)
        if amends:
            return {**values, "amendment_kind": AmendmentKind.AMENDMENT}
    return values


def _framework_current(framework: Framework, actor: Any) -> dict[str, Any]:
    return {
        "ref": framework.ref,
        "title_en": framework.title_en,
        "title_ar": framework.title_ar,
        "instrument": framework.instrument,
        "partner_refs": [p.ref for p in _visible(framework.partners, actor)],
        "purposes": framework.purposes,
        "status": framework.status,
        "signed_on": framework.signed_on,
        "in_force_from": framework.in_force_from,
        "expires_on": framework.expires_on,
        "terminated_on": framework.terminated_on,
        "amends_ref": framework.amends.ref if framework.amends is not None else None,
        "amendment_kind": framework.amendment_kind,
        "confidential": bool(framework.confidential),
        "notes": framework.notes,
    }


def _create_framework(data: Mapping[str, Any], *, actor: Any) -> Any:
    from crm.frameworks.services import create_framework

    return create_framework(data, actor=actor)


def _update_framework(obj: Any, data: Mapping[str, Any], *, actor: Any) -> Any:
    from crm.frameworks.services import update_framework

    return update_framework(obj, data, actor=actor, version=None)


# --- engagements -------------------------------------------------------------------


def _engagement_data(values: Mapping[str, Any], _actor: Any) -> dict[str, Any]:
    # The engagements service resolves partner_refs itself (and keeps the links
    # to partners the actor cannot see).
    return dict(values)


def _engagement_current(engagement: Engagement, actor: Any) -> dict[str, Any]:
    return {
        "ref": engagement.ref,
        "title_en": engagement.title_en,
        "title_ar": engagement.title_ar,
        "category": engagement.category,
        "type": engagement.type,
        "format": engagement.format,
        "status": engagement.status,
        "start_date": engagement.start_date,
        "end_date": engagement.end_date,
        "organiser": engagement.organiser,
        "country": engagement.country,
        "city": engagement.city,
        "languages": list(engagement.languages or []),
        "victim_groups": sorted((v.code for v in engagement.victim_groups), key=str),
        "strategies": sorted((s.code for s in engagement.strategies), key=str),
        "partner_refs": [p.ref for p in _visible(engagement.partners, actor)],
        "women": engagement.women,
        "men": engagement.men,
        "unspecified": engagement.unspecified,
        "under_18": engagement.under_18,
        "summary_en": engagement.summary_en,
        "summary_ar": engagement.summary_ar,
    }


def _create_engagement(data: Mapping[str, Any], *, actor: Any) -> Any:
    from crm.engagements.services import create_engagement

    return create_engagement(data, actor=actor)


def _update_engagement(obj: Any, data: Mapping[str, Any], *, actor: Any) -> Any:
    from crm.engagements.services import update_engagement

    return update_engagement(obj, data, actor=actor, version=None)


class RowCellErrors(Exception):
    """Several cells of one row could not be mapped to the service's fields."""

    def __init__(self, errors: Mapping[str, Any]):
        self.errors = dict(errors)
        super().__init__(", ".join(self.errors))


KINDS: dict[str, Kind] = {
    "partners": Kind(
        name="partners",
        label=_l("Partners"),
        model=Partner,
        columns=PARTNER_COLUMNS,
        permission=Permission.PARTNERS_EDIT,
        sheet_names=("partners", "الشركاء"),
        to_data=_partner_data,
        current=_partner_current,
        create=_create_partner,
        update=_update_partner,
    ),
    "frameworks": Kind(
        name="frameworks",
        label=_l("Cooperation frameworks"),
        model=Framework,
        columns=FRAMEWORK_COLUMNS,
        permission=Permission.FRAMEWORKS_EDIT,
        sheet_names=("frameworks", "أطر التعاون"),
        to_data=_framework_data,
        current=_framework_current,
        create=_create_framework,
        update=_update_framework,
        normalise=_framework_normalise,
    ),
    "engagements": Kind(
        name="engagements",
        label=_l("Engagements"),
        model=Engagement,
        columns=ENGAGEMENT_COLUMNS,
        permission=Permission.ENGAGEMENTS_EDIT,
        sheet_names=("engagements", "أنشطة التواصل"),
        to_data=_engagement_data,
        current=_engagement_current,
        create=_create_engagement,
        update=_update_engagement,
    ),
}
