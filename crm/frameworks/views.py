"""Framework pages: list, record page, forms, amendments, documents and alerts."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from typing import Any

from flask import abort, current_app, flash, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_login import current_user
from sqlalchemy import func

from crm import clock
from crm.codes import CONCLUDED_STATUSES, AmendmentKind, FrameworkStatus, Instrument, PartnerType
from crm.errors import ConflictError, NotFound, ValidationError
from crm.frameworks import bp
from crm.frameworks import services as svc
from crm.frameworks.forms import (
    AmendmentForm,
    ConfirmForm,
    DocumentForm,
    FrameworkFilterForm,
    FrameworkForm,
)
from crm.frameworks.models import Framework
from crm.i18n import current_language, format_date, format_number
from crm.listing import (
    ListSpec,
    SortOption,
    bool_filter,
    choice_filter,
    int_filter,
    set_filter,
    text_filter,
)
from crm.main.views import dashboard_panel
from crm.partners.records import conflict_rows, history
from crm.partners.services import can_see_confidential
from crm.reports import counting, restatements
from crm.security import Permission, require


def _title_order() -> Any:
    first, second = (
        (Framework.title_ar, Framework.title_en)
        if current_language() == "ar"
        else (Framework.title_en, Framework.title_ar)
    )
    return func.lower(func.coalesce(first, second, Framework.ref))


def _partner_label(partner_id: int) -> str:
    from crm.partners.services import get_partner

    try:
        return get_partner(partner_id, actor=current_user).name_for(current_language())
    except NotFound:
        return format_number(partner_id)


def _amendment_choices() -> dict[str, Any]:
    return {"include": _l("frameworks and amendments"), "only": _l("amendments only")}


def _missing_choices() -> dict[str, Any]:
    return {
        "ar": _l("Arabic missing"),
        "en": _l("English missing"),
        "any": _l("Arabic or English missing"),
    }


def _alert_choices() -> dict[str, Any]:
    return {
        "expiry": _l("expiring soon"),
        "review": _l("review due"),
        "expired_in_force": _l("expired but in force"),
    }


FRAMEWORK_LIST = ListSpec(
    endpoint="frameworks.index",
    filters=[
        text_filter("q", _l("Search")),
        choice_filter("status", _l("Status"), FrameworkStatus, multiple=True),
        choice_filter("instrument", _l("Instrument"), Instrument, multiple=True),
        choice_filter("partner_type", _l("Counterpart type"), PartnerType, multiple=True),
        replace(
            int_filter("signed_year", _l("Year of signature"), minimum=1900, maximum=2200),
            display=lambda year: format_date(date(year, 1, 1), "y"),
        ),
        bool_filter("confidential", _l("Confidential")),
        replace(
            int_filter("partner", _l("Partner"), minimum=1), display=lambda pid: _partner_label(pid)
        ),
        set_filter("amendments", _l("Showing"), _amendment_choices),
        set_filter("missing", _l("Translation"), _missing_choices),
        set_filter("alert", _l("Alert"), _alert_choices),
        bool_filter("archived", _l("Archived")),
    ],
    sorts={
        "signed": SortOption(
            _l("Signed on"), func.coalesce(Framework.signed_on, date(1, 1, 1)), descending=True
        ),
        "title": SortOption(_l("Title"), _title_order),
        "ref": SortOption(_l("Reference"), Framework.ref),
        "status": SortOption(_l("Status"), Framework.status),
        "expires": SortOption(
            _l("Expires on"),
            lambda: func.coalesce(counting.effective_expiry(clock.today()), date(9999, 12, 31)),
        ),
        "updated": SortOption(_l("Last changed"), Framework.updated_at, descending=True),
    },
    default_sort="signed",
)


def _list_state() -> Any:
    state = FRAMEWORK_LIST.from_request(request.args)
    if not can_see_confidential(current_user):
        state.filters.pop("confidential", None)
    if not current_user.can(Permission.RECORDS_RESTORE):
        state.filters.pop("archived", None)
    return state


@bp.get("/")
@require(Permission.FRAMEWORKS_VIEW)
def index() -> Any:
    state = _list_state()
    page = state.paginate(svc.framework_query(state.filters, actor=current_user), Framework.id)
    filter_form = FrameworkFilterForm(request.args, confidential=can_see_confidential(current_user))
    partner = None
    if state.filters.get("partner"):
        from crm.partners.services import get_partner

        try:
            partner = get_partner(state.filters["partner"], actor=current_user)
        except NotFound:
            partner = None
    return render_template(
        "frameworks/index.html",
        state=state,
        page=page,
        filter_form=filter_form,
        partner=partner,
        expiries=svc.effective_expiries(list(page.items), clock.today()),
    )


def _framework(framework_id: int) -> Framework:
    try:
        return svc.get_framework(framework_id, actor=current_user)
    except NotFound:
        abort(404)


def _editable(framework_id: int) -> Framework:
    framework = _framework(framework_id)
    if not framework.can_edit(current_user) or framework.is_archived:
        abort(404)
    return framework


@bp.route("/new", methods=["GET", "POST"])
@require(Permission.FRAMEWORKS_EDIT)
def new() -> Any:
    initial: dict[str, Any] = {"responsible_id": current_user.id}
    partner_id = request.args.get("partner", type=int)
    if partner_id:
        initial["partner_ids"] = [partner_id]
    form = (
        FrameworkForm(data=initial, actor=current_user)
        if request.method == "GET"
        else FrameworkForm(actor=current_user)
    )
    if not _going_back() and form.validate_on_submit():
        values = form.values()
        try:
            step = restatements.confirm_step(
                changes=[],
                apply=lambda: svc.create_framework(values, actor=current_user),
                actor=current_user,
                title=_("New framework"),
                record_label=_("New framework"),
                cancel_url=url_for("frameworks.index"),
            )
        except ValidationError as exc:
            exc.apply_to_form(form)
        else:
            if step.page is not None:
                return step.page
            framework = step.saved
            flash(_saved_message(framework), "success")
            return redirect(url_for("frameworks.view", framework_id=framework.id))
    return render_template("frameworks/form.html", form=form, framework=None)


def _going_back() -> bool:
    """The confirmation step's "Back to the form": show the form as it was sent."""
    return request.method == "POST" and bool(request.form.get("_back"))


def _saved_message(framework: Framework) -> str:
    """Saved, with the dates in words, so a swapped day and month shows at once."""
    dates = [
        _("%(field)s: %(date)s", field=svc.FRAMEWORK_FIELDS[name], date=format_date(day, "long"))
        for name in ("signed_on", "in_force_from", "expires_on", "terminated_on")
        if (day := getattr(framework, name)) is not None
    ]
    message = _("The framework %(ref)s is saved.", ref=framework.ref)
    return " ".join([message, *(f"{d}." for d in dates)]) if dates else message


@bp.get("/<int:framework_id>")
@require(Permission.FRAMEWORKS_VIEW)
def view(framework_id: int) -> Any:
    framework = _framework(framework_id)
    amendments = [a for a in framework.amendments if a.can_view(current_user)]
    today = clock.today()
    counted = counting.framework_counts(framework.id)
    expiry = counting.framework_expiry(framework.id, today) if framework.amends_id is None else None
    expiry_set_by = (
        next((a for a in framework.amendments if a.id == expiry.set_by_id), None)
        if expiry is not None and expiry.set_by_id is not None
        else None
    )
    follow_ups = svc.open_follow_ups(
        framework_ids=[framework.id, *(a.id for a in amendments)], actor=current_user
    )
    return render_template(
        "frameworks/view.html",
        framework=framework,
        counterparts=svc.visible_counterparts(framework, actor=current_user),
        hidden_counterparts=svc.hidden_counterparts(framework, actor=current_user),
        amendments=amendments,
        documents=svc.active_documents(framework),
        follow_ups=follow_ups,
        history=history([("frameworks", [framework.id])], svc.FRAMEWORK_FIELDS),
        document_form=DocumentForm(),
        confirm_form=ConfirmForm(data={"version": framework.version}),
        can_amend=counted and framework.can_edit(current_user),
        counted=counted,
        expiry=expiry,
        expiry_set_by=expiry_set_by,
        max_upload_mb=current_app.config["MAX_UPLOAD_MB"],
        today=today,
    )


def _initial(framework: Framework) -> dict[str, Any]:
    data = {
        name: getattr(framework, name) for name in FrameworkForm.FIELDS if name != "partner_ids"
    }
    data["partner_ids"] = [p.id for p in framework.partners]
    data["instrument"] = framework.instrument.value
    data["status"] = framework.status.value
    data["version"] = framework.version
    return data


def display_long(name: str, value: Any) -> str:
    """A value for the confirmation step: dates in words (12 March 2024)."""
    if isinstance(value, date):
        return format_date(value, "long")
    return str(display(name, value))


def display(name: str, value: Any) -> Any:
    """A field value as a person reads it, for the conflict page."""
    from crm.auth.models import User
    from crm.extensions import db
    from crm.partners.models import Partner

    if value is None or value == "" or value == []:
        return ""
    if isinstance(value, bool):
        return _("Yes") if value else _("No")
    if name == "instrument":
        return Instrument(value).label
    if name == "status":
        return FrameworkStatus(value).label
    if name == "amendment_kind":
        return AmendmentKind(value).label
    if name == "partner_ids":
        names = []
        for pid in value:
            partner = db.session.get(Partner, int(pid))
            if partner is not None and partner.can_view(current_user):
                names.append(partner.name_for(current_language()))
        return ", ".join(names)
    if name == "responsible_id":
        user = db.session.get(User, int(value))
        return user.name if user else ""
    if isinstance(value, date):
        return format_date(value)
    return value


@bp.route("/<int:framework_id>/edit", methods=["GET", "POST"])
@require(Permission.FRAMEWORKS_EDIT)
def edit(framework_id: int) -> Any:
    framework = _editable(framework_id)
    if request.method == "GET":
        form = FrameworkForm(data=_initial(framework), actor=current_user)
    else:
        form = FrameworkForm(actor=current_user)
    if not _going_back() and form.validate_on_submit():
        values, version = form.values(), form.version.data
        try:
            step = restatements.confirm_step(
                changes=svc.figure_changes(framework, values, show=display_long),
                apply=lambda: svc.update_framework(
                    framework, values, actor=current_user, version=version
                ),
                actor=current_user,
                title=framework.title_for(current_language()),
                record_label=framework.ref,
                cancel_url=url_for("frameworks.view", framework_id=framework.id),
            )
        except ValidationError as exc:
            exc.apply_to_form(form)
        except ConflictError:
            return _conflict(framework, form)
        else:
            if step.page is not None:
                return step.page
            flash(_saved_message(framework), "success")
            return redirect(url_for("frameworks.view", framework_id=framework.id))
    return render_template("frameworks/form.html", form=form, framework=framework)


def _conflict(framework: Framework, form: FrameworkForm) -> Any:
    saved = _initial(framework)
    yours = form.values()
    labels = {name: svc.FRAMEWORK_FIELDS[name] for name in FrameworkForm.FIELDS if name in form}
    rows = conflict_rows(
        labels,
        {k: display(k, val) for k, val in yours.items()},
        {k: display(k, saved.get(k)) for k in labels},
    )
    form.version.data = framework.version
    form.version.raw_data = None
    return render_template(
        "frameworks/conflict.html", form=form, framework=framework, rows=rows
    ), 409


@bp.post("/<int:framework_id>/archive")
@require(Permission.FRAMEWORKS_EDIT)
def archive(framework_id: int) -> Any:
    framework = _editable(framework_id)
    form = ConfirmForm()
    if form.validate_on_submit():
        version = form.version.data
        try:
            step = restatements.confirm_step(
                changes=[],
                apply=lambda: svc.archive_framework(framework, actor=current_user, version=version),
                actor=current_user,
                title=framework.title_for(current_language()),
                record_label=framework.ref,
                cancel_url=url_for("frameworks.view", framework_id=framework.id),
            )
            if step.page is not None:
                return step.page
        except ConflictError:
            flash(
                _("Someone changed this framework meanwhile; look at it again before archiving."),
                "warning",
            )
            return redirect(url_for("frameworks.view", framework_id=framework.id))
        flash(_("The framework %(ref)s is archived.", ref=framework.ref), "success")
    return redirect(url_for("frameworks.index"))


@bp.post("/<int:framework_id>/restore")
@require(Permission.RECORDS_RESTORE)
def restore(framework_id: int) -> Any:
    framework = _framework(framework_id)
    if ConfirmForm().validate_on_submit():
        step = restatements.confirm_step(
            changes=[],
            apply=lambda: svc.restore_framework(framework, actor=current_user),
            actor=current_user,
            title=framework.title_for(current_language()),
            record_label=framework.ref,
            cancel_url=url_for("frameworks.view", framework_id=framework.id),
        )
        if step.page is not None:
            return step.page
        flash(_("The framework %(ref)s is restored.", ref=framework.ref), "success")
    return redirect(url_for("frameworks.view", framework_id=framework.id))


@bp.route("/<int:framework_id>/amend", methods=["GET", "POST"])
@require(Permission.FRAMEWORKS_EDIT)
def amend(framework_id: int) -> Any:
    """Record an amendment, addendum, renewal or extension on this framework."""
    framework = _editable(framework_id)
    if not counting.framework_counts(framework.id):
        abort(404)
    form = (
        AmendmentForm(data={"status": framework.status.value})
        if request.method == "GET"
        else AmendmentForm()
    )
    if not _going_back() and form.validate_on_submit():
        values = form.values()
        try:
            step = restatements.confirm_step(
                changes=[],
                apply=lambda: svc.create_amendment(framework, values, actor=current_user),
                actor=current_user,
                title=framework.title_for(current_language()),
                record_label=framework.ref,
                cancel_url=url_for("frameworks.view", framework_id=framework.id),
            )
        except ValidationError as exc:
            exc.apply_to_form(form)
        else:
            if step.page is not None:
                return step.page
            amendment = step.saved
            flash(
                _(
                    "%(kind)s %(ref)s is recorded on this framework.",
                    kind=amendment.amendment_kind.label,
                    ref=amendment.ref,
                ),
                "success",
            )
            return redirect(
                url_for("frameworks.view", framework_id=framework.id, _anchor="amendments")
            )
    return render_template("frameworks/amend.html", form=form, framework=framework)


# --- documents -------------------------------------------------------------------


@bp.post("/<int:framework_id>/documents")
@require(Permission.FRAMEWORKS_EDIT)
def document_upload(framework_id: int) -> Any:
    framework = _editable(framework_id)
    form = DocumentForm()
    if form.validate_on_submit():
        try:
            svc.add_document(framework, form.document.data, actor=current_user)
        except ValidationError as exc:
            for messages in exc.errors.values():
                for message in messages:
                    flash(message, "error")
            return redirect(
                url_for("frameworks.view", framework_id=framework.id, _anchor="documents")
            )
        flash(_("The document is attached."), "success")
    return redirect(url_for("frameworks.view", framework_id=framework.id, _anchor="documents"))


@bp.get("/<int:framework_id>/documents/<int:document_id>")
@require(Permission.FRAMEWORKS_VIEW)
def document_download(framework_id: int, document_id: int) -> Any:
    """Only through this view: as an attachment, with a clean name, never inline."""
    framework = _framework(framework_id)
    try:
        document = svc.get_document(framework, document_id, actor=current_user)
    except NotFound:
        abort(404)
    path = svc.document_path(document)
    if not path.is_file():
        abort(404)
    response = send_file(
        path,
        mimetype=document.content_type,
        as_attachment=True,
        download_name=document.original_name,
        conditional=False,
        etag=False,
        max_age=0,
    )
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


@bp.post("/<int:framework_id>/documents/<int:document_id>/remove")
@require(Permission.FRAMEWORKS_EDIT)
def document_remove(framework_id: int, document_id: int) -> Any:
    framework = _editable(framework_id)
    try:
        document = svc.get_document(framework, document_id, actor=current_user)
    except NotFound:
        abort(404)
    if ConfirmForm().validate_on_submit():
        svc.remove_document(document, actor=current_user)
        flash(_("The document is removed from the framework."), "success")
    return redirect(url_for("frameworks.view", framework_id=framework.id, _anchor="documents"))


# --- alerts ----------------------------------------------------------------------


@bp.get("/alerts")
@require(Permission.FRAMEWORKS_VIEW)
def alerts() -> Any:
    """Frameworks expiring or due for review within the window, and those expired
    whose status still says in force."""
    found = svc.framework_alerts(actor=current_user)
    return render_template("frameworks/alerts.html", alerts=found, confirm_form=ConfirmForm())


@bp.post("/alerts/raise")
@require(Permission.FRAMEWORKS_EDIT)
def alerts_raise() -> Any:
    """Raise the follow-ups now (a daily `crm frameworks alerts` does it too)."""
    if ConfirmForm().validate_on_submit():
        created = svc.raise_framework_alerts(clock.today())
        flash(
            ngettext(
                "%(count)s follow-up raised.",
                "%(count)s follow-ups raised.",
                len(created),
                count=format_number(len(created)),
            ),
            "success",
        )
    return redirect(url_for("frameworks.alerts"))


@dashboard_panel
def alerts_panel() -> tuple[str, dict[str, Any]] | None:
    if not current_user.can(Permission.FRAMEWORKS_VIEW):
        return None
    return "frameworks/_dashboard_panel.html", {
        "alerts": svc.framework_alerts(actor=current_user, limit=10)
    }


# --- template helpers ------------------------------------------------------------


@bp.app_template_global()
def status_kind(status: FrameworkStatus | None) -> str:
    """The badge colour of a framework status (the badge's words carry the meaning)."""
    if status == FrameworkStatus.IN_FORCE:
        return "success"
    if status in (FrameworkStatus.SUSPENDED, FrameworkStatus.NEGOTIATION):
        return "warning"
    if status == FrameworkStatus.VOID:
        return "danger"
    if status in CONCLUDED_STATUSES:
        return "neutral"
    return "info"
