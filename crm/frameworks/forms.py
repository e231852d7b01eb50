"""Forms of the frameworks area. They only carry values: every rule is in services."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField
from sqlalchemy import func, select
from wtforms import (
    BooleanField,
    Form,
    SearchField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import Optional

from crm.auth.models import User
from crm.codes import AmendmentKind, FrameworkStatus, Instrument, PartnerType
from crm.extensions import db
from crm.forms import CrmForm, LocalDateField, LocalIntegerField, VersionedForm
from crm.frameworks.services import FRAMEWORK_FIELDS
from crm.i18n import current_language
from crm.partners.models import Partner
from crm.partners.services import can_see_confidential
from crm.security import ROLE_PERMISSIONS, Permission

EMPTY_CHOICE = ("", "—")
DATE_HELP = _l("YYYY-MM-DD")
# The counterpart list offers at most this many partners; a framework page links
# from a partner ("new framework with this partner") for anything beyond.
MAX_PARTNER_CHOICES = 5000


def _int_or_none(value: Any) -> int | None:
    if value in (None, "", "None"):
        return None
    return int(value)


def partner_choices(actor: Any, selected: list[int]) -> list[tuple[int, str]]:
    """Partners the actor may see, names in the reader's language first."""
    language = current_language()
    first, second = (
        (Partner.name_ar, Partner.name_en)
        if language == "ar"
        else (Partner.name_en, Partner.name_ar)
    )
    name = func.coalesce(first, second, Partner.ref)
    stmt = select(Partner.id, name, Partner.ref).where(Partner.archived_at.is_(None))
    if not can_see_confidential(actor):
        stmt = stmt.where(Partner.confidential.is_(False))
    stmt = stmt.order_by(func.lower(name), Partner.id).limit(MAX_PARTNER_CHOICES)
    rows = [(pid, f"{label} ({ref})") for pid, label, ref in db.session.execute(stmt)]
    known = {pid for pid, _ in rows}
    missing = [i for i in selected if i not in known]
    if missing:
        for partner in db.session.execute(select(Partner).where(Partner.id.in_(missing))).scalars():
            if partner.can_view(actor):
                rows.append((partner.id, f"{partner.name_for(language)} ({partner.ref})"))
    return rows


def responsible_choices(selected: int | None) -> list[tuple[Any, str]]:
    roles = [
        role
        for role, permissions in ROLE_PERMISSIONS.items()
        if Permission.FRAMEWORKS_EDIT in permissions
    ]
    stmt = (
        select(User.id, User.name)
        .where(User.active.is_(True), User.role.in_(roles))
        .order_by(User.name)
    )
    rows = [(uid, name) for uid, name in db.session.execute(stmt)]
    if selected and selected not in {uid for uid, _ in rows}:
        user = db.session.get(User, selected)
        if user is not None:
            rows.append((user.id, user.name))
    return [("", "—"), *rows]


class FrameworkForm(VersionedForm):
    title_ar = StringField(FRAMEWORK_FIELDS["title_ar"])
    title_en = StringField(FRAMEWORK_FIELDS["title_en"])
    ref = StringField(
        FRAMEWORK_FIELDS["ref"],
        description=_l("Leave empty to get the next free reference, such as F-2025-0001."),
    )
    instrument = SelectField(FRAMEWORK_FIELDS["instrument"], validators=[Optional()])
    status = SelectField(
        FRAMEWORK_FIELDS["status"],
        validators=[Optional()],
        description=_l(
            "In force, suspended, expired and terminated frameworks are concluded: they "
            "need their date of signature, and count in the figures."
        ),
    )
    partner_ids = SelectMultipleField(
        FRAMEWORK_FIELDS["partner_ids"],
        coerce=int,
        validators=[Optional()],
        description=_l(
            "One or more partners; a protocol signed by many organisations is one framework."
        ),
    )
    purposes = TextAreaField(FRAMEWORK_FIELDS["purposes"])
    signed_on = LocalDateField(
        FRAMEWORK_FIELDS["signed_on"], validators=[Optional()], description=DATE_HELP
    )
    in_force_from = LocalDateField(
        FRAMEWORK_FIELDS["in_force_from"], validators=[Optional()], description=DATE_HELP
    )
    expires_on = LocalDateField(
        FRAMEWORK_FIELDS["expires_on"], validators=[Optional()], description=DATE_HELP
    )
    terminated_on = LocalDateField(
        FRAMEWORK_FIELDS["terminated_on"], validators=[Optional()], description=DATE_HELP
    )
    next_review_on = LocalDateField(
        FRAMEWORK_FIELDS["next_review_on"], validators=[Optional()], description=DATE_HELP
    )
    responsible_id = SelectField(
        FRAMEWORK_FIELDS["responsible_id"],
        coerce=_int_or_none,
        validators=[Optional()],
        description=_l("Receives the follow-ups before expiry and review."),
    )
    confidential = BooleanField(
        FRAMEWORK_FIELDS["confidential"],
        description=_l(
            "Confidential frameworks are hidden from viewers, in lists, counts and search."
        ),
    )
    notes = TextAreaField(FRAMEWORK_FIELDS["notes"])

    FIELDS = tuple(name for name in FRAMEWORK_FIELDS if name not in ("amends_id", "amendment_kind"))

    def __init__(self, *args: Any, actor: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.instrument.choices = [EMPTY_CHOICE, *Instrument.choices()]
        self.instrument.flags.required = True
        self.status.choices = [EMPTY_CHOICE, *FrameworkStatus.choices()]
        self.status.flags.required = True
        self.partner_ids.choices = partner_choices(actor, list(self.partner_ids.data or []))
        self.partner_ids.flags.required = True
        self.responsible_id.choices = responsible_choices(self.responsible_id.data)
        if not can_see_confidential(actor):
            del self.confidential

    def values(self) -> dict[str, Any]:
        return {name: self[name].data for name in self.FIELDS if name in self}


class AmendmentForm(CrmForm):
    """An amendment, addendum, renewal or extension, recorded on the framework."""

    amendment_kind = SelectField(FRAMEWORK_FIELDS["amendment_kind"], validators=[Optional()])
    title_ar = StringField(FRAMEWORK_FIELDS["title_ar"])
    title_en = StringField(FRAMEWORK_FIELDS["title_en"])
    ref = StringField(FRAMEWORK_FIELDS["ref"], description=FrameworkForm.ref.kwargs["description"])
    status = SelectField(FRAMEWORK_FIELDS["status"], validators=[Optional()])
    signed_on = LocalDateField(
        FRAMEWORK_FIELDS["signed_on"], validators=[Optional()], description=DATE_HELP
    )
    in_force_from = LocalDateField(
        FRAMEWORK_FIELDS["in_force_from"], validators=[Optional()], description=DATE_HELP
    )
    expires_on = LocalDateField(
        FRAMEWORK_FIELDS["expires_on"], validators=[Optional()], description=DATE_HELP
    )
    purposes = TextAreaField(_l("What it changes"))
    notes = TextAreaField(FRAMEWORK_FIELDS["notes"])

    FIELDS = (
        "amendment_kind",
        "title_ar",
        "title_en",
        "ref",
        "status",
        "signed_on",
        "in_force_from",
        "expires_on",
        "purposes",
        "notes",
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.amendment_kind.choices = [EMPTY_CHOICE, *AmendmentKind.choices()]
        self.amendment_kind.flags.required = True
        self.status.choices = [EMPTY_CHOICE, *FrameworkStatus.choices()]
        self.status.flags.required = True

    def values(self) -> dict[str, Any]:
        return {name: self[name].data for name in self.FIELDS}


class DocumentForm(CrmForm):
    document = FileField(
        _l("Signed document"),
        description=_l(
            "PDF, Word (DOCX), PNG or JPEG. Images lose their metadata (such as GPS position)."
        ),
    )


class ConfirmForm(VersionedForm):
    """A bare POST (archive, restore, remove, raise alerts) with CSRF and version."""


class FrameworkFilterForm(Form):
    q = SearchField(_l("Search"))
    status = SelectField(FRAMEWORK_FIELDS["status"], validators=[Optional()])
    instrument = SelectField(FRAMEWORK_FIELDS["instrument"], validators=[Optional()])
    partner_type = SelectField(_l("Counterpart type"), validators=[Optional()])
    signed_year = LocalIntegerField(_l("Year of signature"), validators=[Optional()])
    confidential = SelectField(FRAMEWORK_FIELDS["confidential"], validators=[Optional()])
    amendments = SelectField(_l("Amendments"), validators=[Optional()])

    def __init__(self, formdata: Any, *, confidential: bool) -> None:
        super().__init__(formdata)
        any_choice = ("", _l("Any"))
        self.status.choices = [any_choice, *FrameworkStatus.choices()]
        self.instrument.choices = [any_choice, *Instrument.choices()]
        self.partner_type.choices = [any_choice, *PartnerType.choices()]
        self.confidential.choices = [any_choice, ("yes", _l("Yes")), ("no", _l("No"))]
        self.amendments.choices = [
            ("", _l("Frameworks only")),
            ("include", _l("Frameworks and amendments")),
            ("only", _l("Amendments only")),
        ]
        if not confidential:
            del self.confidential
