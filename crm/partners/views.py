"""Partner pages: the list, the record page, the forms, contacts and translations."""

from __future__ import annotations

from typing import Any

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import func, select

from crm import clock
from crm.codes import PartnerType, VictimGroup
from crm.errors import ConflictError, NotFound, ValidationError
from crm.extensions import db
from crm.i18n import current_language, format_date
from crm.listing import (
    ListSpec,
    SortOption,
    bool_filter,
    choice_filter,
    count_rows,
    set_filter,
    text_filter,
)
from crm.partners import bp
from crm.partners import services as svc
from crm.partners import values as v
from crm.partners.forms import ConfirmForm, ContactForm, PartnerFilterForm, PartnerForm
from crm.partners.models import Partner
from crm.partners.records import conflict_rows, history
from crm.security import Permission, require


def _name_order() -> Any:
    first, second = (
        (Partner.name_ar, Partner.name_en)
        if current_language() == "ar"
        else (Partner.name_en, Partner.name_ar)
    )
    return func.lower(func.coalesce(first, second, Partner.ref))


def missing_choices() -> dict[str, Any]:
    return {
        "ar": _l("Arabic missing"),
        "en": _l("English missing"),
        "any": _l("Arabic or English missing"),
    }


PARTNER_LIST = ListSpec(
    endpoint="partners.index",
    filters=[
        text_filter("q", _l("Search")),
        choice_filter("type", _l("Type"), PartnerType, multiple=True),
        set_filter("country", _l("Country"), v.country_names, multiple=True, normalise=str.upper),
        choice_filter("victim_group", _l("Victim group"), VictimGroup, multiple=True),
        bool_filter("women_led", _l("Women-led")),
        bool_filter("confidential", _l("Confidential")),
        set_filter("missing", _l("Translation"), missing_choices),
        bool_filter("archived", _l("Archived")),
    ],
    sorts={
        "name": SortOption(_l("Name"), _name_order),
        "ref": SortOption(_l("Reference"), Partner.ref),
        "type": SortOption(_l("Type"), Partner.type),
        "country": SortOption(_l("Country"), func.coalesce(Partner.country, "")),
        "updated": SortOption(_l("Last changed"), Partner.updated_at, descending=True),
    },
    default_sort="name",
)


def _list_state() -> Any:
    state = PARTNER_LIST.from_request(request.args)
    # Filters a role may not use are dropped, so no chip pretends to apply them.
    if not svc.can_see_confidential(current_user):
        state.filters.pop("confidential", None)
    if not current_user.can(Permission.RECORDS_RESTORE):
        state.filters.pop("archived", None)
    return state


@bp.get("/")
@require(Permission.PARTNERS_VIEW)
def index() -> Any:
    state = _list_state()
    page = state.paginate(svc.partner_query(state.filters, actor=current_user), Partner.id)
    filter_form = PartnerFilterForm(
        request.args, confidential=svc.can_see_confidential(current_user)
    )
    return render_template("partners/index.html", state=state, page=page, filter_form=filter_form)


def _partner(partner_id: int) -> Partner:
    try:
        return svc.get_partner(partner_id, actor=current_user)
    except NotFound:
        abort(404)


def _form(**kwargs: Any) -> PartnerForm:
    return PartnerForm(confidential_fields=svc.can_see_confidential(current_user), **kwargs)


@bp.route("/new", methods=["GET", "POST"])
@require(Permission.PARTNERS_EDIT)
def new() -> Any:
    form = _form()
    if form.validate_on_submit():
        try:
            partner = svc.create_partner(form.values(), actor=current_user)
        except ValidationError as exc:
            exc.apply_to_form(form)
        else:
            flash(_("The partner %(ref)s is saved.", ref=partner.ref), "success")
            return redirect(url_for("partners.view", partner_id=partner.id))
    return render_template("partners/form.html", form=form, partner=None)


@bp.get("/<int:partner_id>")
@require(Permission.PARTNERS_VIEW)
def view(partner_id: int) -> Any:
    from crm.engagements.models import Engagement, EngagementPartner
    from crm.frameworks import services as frameworks

    partner = _partner(partner_id)
    engagements: list[Any] = []
    engagement_count = 0
    if current_user.can(Permission.ENGAGEMENTS_VIEW):
        linked = (
            select(Engagement)
            .join(EngagementPartner, EngagementPartner.engagement_id == Engagement.id)
            .where(EngagementPartner.partner_id == partner.id, Engagement.archived_at.is_(None))
        )
        engagement_count = db.session.execute(
            select(func.count()).select_from(linked.subquery())
        ).scalar_one()
        engagements = list(
            db.session.execute(
                linked.order_by(Engagement.start_date.desc(), Engagement.id.desc()).limit(20)
            ).scalars()
        )
    contacts = svc.contacts_of(partner, actor=current_user)
    linked_frameworks = frameworks.frameworks_of_partner(partner, actor=current_user)
    return render_template(
        "partners/view.html",
        partner=partner,
        security_note=svc.security_note(partner, actor=current_user),
        frameworks=linked_frameworks,
        framework_expiries=frameworks.effective_expiries(linked_frameworks, clock.today()),
        engagements=engagements,
        engagement_count=engagement_count,
        contacts=contacts,
        show_contacts=svc.can_see_contacts(current_user),
        follow_ups=frameworks.open_follow_ups(partner_id=partner.id, actor=current_user),
        history=history(
            [("partners", [partner.id]), ("contacts", [c.id for c in partner.contacts])],
            {**svc.PARTNER_FIELDS, **svc.CONTACT_FIELDS},
        ),
        confirm_form=ConfirmForm(data={"version": partner.version}),
    )


def _initial(partner: Partner) -> dict[str, Any]:
    data = {name: getattr(partner, name) for name in svc.PARTNER_FIELDS if hasattr(partner, name)}
    data["type"] = partner.type.value
    data["victim_groups"] = [g.code.value for g in partner.victim_groups]
    data["languages"] = list(partner.languages or [])
    data["security_note"] = svc.security_note(partner, actor=current_user)
    data["version"] = partner.version
    return data


def display(name: str, value: Any) -> Any:
    """A field value as a person reads it, for the conflict page."""
    if value is None or value == "" or value == []:
        return ""
    if isinstance(value, bool):
        return _("Yes") if value else _("No")
    if name == "type":
        return PartnerType(value).label
    if name == "country":
        return v.country_name(value)
    if name == "victim_groups":
        return ", ".join(str(VictimGroup(g).label) for g in value)
    if name == "languages":
        return ", ".join(v.language_name(code) for code in value)
    if hasattr(value, "isoformat"):
        return format_date(value)
    return value


@bp.route("/<int:partner_id>/edit", methods=["GET", "POST"])
@require(Permission.PARTNERS_EDIT)
def edit(partner_id: int) -> Any:
    partner = _partner(partner_id)
    if not partner.can_edit(current_user) or partner.is_archived:
        abort(404)
    form = _form(data=_initial(partner)) if request.method == "GET" else _form()
    if form.validate_on_submit():
        try:
            svc.update_partner(
                partner, form.values(), actor=current_user, version=form.version.data
            )
        except ValidationError as exc:
            exc.apply_to_form(form)
        except ConflictError:
            return _conflict(partner, form)
        else:
            flash(_("The partner %(ref)s is saved.", ref=partner.ref), "success")
            return redirect(url_for("partners.view", partner_id=partner.id))
    return render_template("partners/form.html", form=form, partner=partner)


def _conflict(partner: Partner, form: PartnerForm) -> Any:
    """Someone saved meanwhile: both versions side by side, the user's input kept."""
    saved = _initial(partner)
    yours = form.values()
    labels = {name: label for name, label in svc.PARTNER_FIELDS.items() if name in form}
    rows = conflict_rows(
        labels,
        {k: display(k, val) for k, val in yours.items()},
        {k: display(k, saved.get(k)) for k in labels},
    )
    # Saving again from this page is a deliberate choice to keep the user's version.
    form.version.data = partner.version
    form.version.raw_data = None
    return (
        render_template("partners/conflict.html", form=form, partner=partner, rows=rows),
        409,
    )


@bp.post("/<int:partner_id>/archive")
@require(Permission.PARTNERS_EDIT)
def archive(partner_id: int) -> Any:
    partner = _partner(partner_id)
    form = ConfirmForm()
    if not partner.can_edit(current_user):
        abort(404)
    if form.validate_on_submit():
        try:
            svc.archive_partner(partner, actor=current_user, version=form.version.data)
        except ConflictError:
            flash(
                _("Someone changed this partner meanwhile; look at it again before archiving."),
                "warning",
            )
            return redirect(url_for("partners.view", partner_id=partner.id))
        flash(_("The partner %(ref)s is archived.", ref=partner.ref), "success")
    return redirect(url_for("partners.index"))


@bp.post("/<int:partner_id>/restore")
@require(Permission.RECORDS_RESTORE)
def restore(partner_id: int) -> Any:
    partner = _partner(partner_id)
    if ConfirmForm().validate_on_submit():
        svc.restore_partner(partner, actor=current_user)
        flash(_("The partner %(ref)s is restored.", ref=partner.ref), "success")
    return redirect(url_for("partners.view", partner_id=partner.id))


# --- contact persons -------------------------------------------------------------


def _editable_partner(partner_id: int) -> Partner:
    partner = _partner(partner_id)
    if (
        not partner.can_edit(current_user)
        or not svc.can_see_contacts(current_user)
        or partner.is_archived
    ):
        abort(404)
    return partner


@bp.route("/<int:partner_id>/contacts/new", methods=["GET", "POST"])
@require(Permission.PARTNERS_EDIT)
def contact_new(partner_id: int) -> Any:
    partner = _editable_partner(partner_id)
    form = ContactForm()
    if form.validate_on_submit():
        try:
            svc.create_contact(partner, form.values(), actor=current_user)
        except ValidationError as exc:
            exc.apply_to_form(form)
        else:
            flash(_("The contact person is saved."), "success")
            return redirect(url_for("partners.view", partner_id=partner.id, _anchor="contacts"))
    return render_template("partners/contact_form.html", form=form, partner=partner, contact=None)


@bp.route("/<int:partner_id>/contacts/<int:contact_id>/edit", methods=["GET", "POST"])
@require(Permission.PARTNERS_EDIT)
def contact_edit(partner_id: int, contact_id: int) -> Any:
    partner = _editable_partner(partner_id)
    try:
        contact = svc.get_contact(partner, contact_id, actor=current_user)
    except NotFound:
        abort(404)
    if request.method == "GET":
        initial = {name: getattr(contact, name) for name in svc.CONTACT_FIELDS}
        form = ContactForm(data={**initial, "version": contact.version})
    else:
        form = ContactForm()
    if form.validate_on_submit():
        try:
            svc.update_contact(
                contact, form.values(), actor=current_user, version=form.version.data
            )
        except ValidationError as exc:
            exc.apply_to_form(form)
        except ConflictError:
            form.version.data = contact.version
            form.version.raw_data = None
            form.form_errors.append(
                _l(
                    "Someone saved this contact person while you were editing. The form "
                    "below holds your version: check it and save again to keep it."
                )
            )
            return render_template(
                "partners/contact_form.html", form=form, partner=partner, contact=contact
            ), 409
        else:
            flash(_("The contact person is saved."), "success")
            return redirect(url_for("partners.view", partner_id=partner.id, _anchor="contacts"))
    return render_template(
        "partners/contact_form.html", form=form, partner=partner, contact=contact
    )


@bp.post("/<int:partner_id>/contacts/<int:contact_id>/archive")
@require(Permission.PARTNERS_EDIT)
def contact_archive(partner_id: int, contact_id: int) -> Any:
    partner = _editable_partner(partner_id)
    try:
        contact = svc.get_contact(partner, contact_id, actor=current_user)
    except NotFound:
        abort(404)
    if ConfirmForm().validate_on_submit():
        svc.archive_contact(contact, actor=current_user)
        flash(_("The contact person is removed from the partner."), "success")
    return redirect(url_for("partners.view", partner_id=partner.id, _anchor="contacts"))


# --- translations ----------------------------------------------------------------


@bp.get("/needs-translation")
@require(Permission.PARTNERS_VIEW)
def needs_translation() -> Any:
    """Partners and frameworks whose name or title is missing in one language."""
    from crm.frameworks import services as frameworks
    from crm.frameworks.models import Framework

    limit = 50
    partner_stmt = svc.partner_query({"missing": "any"}, actor=current_user)
    partners = list(
        db.session.execute(partner_stmt.order_by(Partner.id.desc()).limit(limit)).scalars()
    )
    partner_total = count_rows(partner_stmt)
    framework_items: list[Any] = []
    framework_total = 0
    if current_user.can(Permission.FRAMEWORKS_VIEW):
        framework_stmt = frameworks.framework_query(
            {"missing": "any", "amendments": "include"}, actor=current_user
        )
        framework_items = list(
            db.session.execute(framework_stmt.order_by(Framework.id.desc()).limit(limit)).scalars()
        )
        framework_total = count_rows(framework_stmt)
    return render_template(
        "partners/needs_translation.html",
        partners=partners,
        partner_total=partner_total,
        frameworks=framework_items,
        framework_total=framework_total,
    )


# --- template helpers (used by the framework pages too) ----------------------------


@bp.app_template_global("country_name")
def country_name_global(code: str | None) -> str:
    return v.country_name(code)


@bp.app_template_global("language_name")
@bp.app_template_filter("language_name")
def language_name_global(code: str | None) -> str:
    return v.language_name(code) if code else ""


@bp.app_template_global()
def has_endpoint(endpoint: str) -> bool:
    """Whether an area is installed (links to areas that may not exist yet)."""
    return endpoint in current_app.view_functions
