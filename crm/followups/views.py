"""Follow-up pages: my follow-ups, a new one about a record, edit, mark done; and the
dashboard panel with what is overdue and due soon."""

from __future__ import annotations

from functools import partial
from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.routing import BuildError

from crm.codes import FollowUpStatus
from crm.engagements import services as engagements
from crm.engagements.forms import apply_service_errors, service_data, validate_together
from crm.errors import ConflictError, NotFound, ValidationError
from crm.followups import bp
from crm.followups import services as svc
from crm.followups.forms import FollowUpForm
from crm.followups.models import FollowUp
from crm.forms import CrmForm, choices
from crm.i18n import current_language
from crm.main.views import dashboard_panel
from crm.security import Permission, require, safe_next

# The query arguments that say what a new follow-up is about (the short forms too).
SUBJECT_ARGS = {
    "engagement_id": "engagement_id",
    "engagement": "engagement_id",
    "person_id": "person_id",
    "person": "person_id",
    "framework_id": "framework_id",
    "framework": "framework_id",
    "partner_id": "partner_id",
    "partner": "partner_id",
}
SUBJECT_VIEWS = {
    "engagements": ("engagements.view", "engagement_id"),
    "people": ("people.view", "person_id"),
    "frameworks": ("frameworks.view", "framework_id"),
    "partners": ("partners.view", "partner_id"),
}


def subject_url(subject: Any) -> str | None:
    if subject is None:
        return None
    endpoint, arg = SUBJECT_VIEWS[subject.__tablename__]
    try:
        return url_for(endpoint, **{arg: subject.id})
    except BuildError:  # that area is not installed
        return None


def subject_label(subject: Any) -> str:
    """How a record is named in a follow-up list: people by their code only."""
    if subject is None:
        return ""
    table = subject.__tablename__
    if table == "people":
        return subject.code
    if table == "partners":
        return subject.name_for(current_language())
    return subject.title_for(current_language())


@bp.app_context_processor
def _helpers() -> dict[str, Any]:
    return {"follow_up_subject_url": subject_url, "follow_up_subject_label": subject_label}


def _follow_up_or_404(follow_up_id: int) -> FollowUp:
    try:
        return svc.get_follow_up(follow_up_id, actor=current_user)
    except NotFound:
        abort(404)


class CompleteForm(CrmForm):
    """The "done" button: CSRF token only."""


# --- my follow-ups -----------------------------------------------------------------------


@bp.get("/")
@require(Permission.FOLLOWUPS_VIEW)
def mine() -> Any:
    """What I owe: overdue, due within 14 days, later."""
    today = engagements.today()
    return render_template(
        "followups/mine.html",
        groups=svc.my_follow_ups(current_user, today),
        counts=svc.follow_up_counts(current_user, today),
        today=today,
        soon_days=svc.DUE_SOON_DAYS,
    )


# --- forms -------------------------------------------------------------------------------


def _assignees(form: FollowUpForm, subject: Any, current: FollowUp | None = None) -> None:
    users = svc.assignable_users(subject)
    options = [(str(u.id), u.name) for u in users]
    known = {key for key, _name in options}
    if (
        current is not None
        and current.assignee is not None
        and str(current.assignee_id) not in known
    ):
        options.append((str(current.assignee_id), current.assignee.name))
    form.assignee_id.choices = choices([("", _("Nobody yet")), *options])


@bp.route("/new", methods=["GET", "POST"])
@require(Permission.FOLLOWUPS_EDIT)
def new() -> Any:
    """A new follow-up, about the record named in the address (if any)."""
    given = {
        field: request.args[arg] for arg, field in SUBJECT_ARGS.items() if request.args.get(arg)
    }
    if len(set(given)) > 1:
        abort(404)
    try:
        _field, subject = svc.resolve_subject(given, current_user)
    except (NotFound, ValidationError):
        abort(404)
    form = FollowUpForm()
    del form.status
    _assignees(form, subject)
    if not form.is_submitted():
        form.assignee_id.data = str(current_user.id)
    check = partial(svc.check_follow_up, actor=current_user, subject=subject)
    if form.is_submitted() and validate_together(form, check):
        try:
            follow_up = svc.create_follow_up({**service_data(form), **given}, actor=current_user)
        except ValidationError as exc:
            apply_service_errors(form, exc.errors)
        else:
            flash(_("The follow-up is saved."), "success")
            return redirect(subject_url(follow_up.subject) or url_for(".mine"))
    return render_template(
        "followups/form.html", form=form, follow_up=None, subject=subject, conflict=None
    )


@bp.route("/<int:follow_up_id>/edit", methods=["GET", "POST"])
@require(Permission.FOLLOWUPS_EDIT)
def edit(follow_up_id: int) -> Any:
    follow_up = _follow_up_or_404(follow_up_id)
    if not follow_up.can_edit(current_user):
        abort(404)
    form = FollowUpForm(obj=follow_up)
    if not form.is_submitted():
        form.assignee_id.data = str(follow_up.assignee_id or "")
        form.status.data = follow_up.status.value
    _assignees(form, follow_up.subject, follow_up)
    conflict = None
    check = partial(svc.check_follow_up, actor=current_user, follow_up=follow_up)
    if form.is_submitted() and validate_together(form, check):
        try:
            svc.update_follow_up(
                follow_up, service_data(form), actor=current_user, version=form.version.data
            )
        except ValidationError as exc:
            apply_service_errors(form, exc.errors)
        except ConflictError:
            conflict = _differences(form, follow_up)
            form.version.data = follow_up.version
            form.version.raw_data = None
        else:
            flash(_("The follow-up is saved."), "success")
            return redirect(subject_url(follow_up.subject) or url_for(".mine"))
    return (
        render_template(
            "followups/form.html",
            form=form,
            follow_up=follow_up,
            subject=follow_up.subject,
            conflict=conflict,
        ),
        409 if conflict is not None else 200,
    )


def _differences(form: FollowUpForm, follow_up: FollowUp) -> list[tuple[Any, str, str]]:
    """(label, the user's value, the saved value) for each field that differs."""
    names = {str(c.value): str(c.label) for c in form.assignee_id.choices}
    saved = {
        "title": follow_up.title or "",
        "description": follow_up.description or "",
        "due_on": follow_up.due_on.isoformat() if follow_up.due_on else "",
        "assignee_id": names.get(str(follow_up.assignee_id or ""), ""),
        "status": str(follow_up.status.label),
    }
    mine = {
        "title": form.title.data or "",
        "description": form.description.data or "",
        "due_on": form.due_on.data.isoformat() if form.due_on.data else "",
        "assignee_id": names.get(str(form.assignee_id.data or ""), ""),
        "status": str(FollowUpStatus(form.status.data).label) if form.status.data else "",
    }
    return [
        (getattr(form, name).label.text, mine[name], saved[name])
        for name in FollowUpForm.SERVICE_FIELDS
        if mine[name] != saved[name]
    ]


@bp.post("/<int:follow_up_id>/complete")
@require(Permission.FOLLOWUPS_EDIT)
def complete(follow_up_id: int) -> Any:
    follow_up = _follow_up_or_404(follow_up_id)
    if CompleteForm().validate_on_submit():
        svc.complete_follow_up(follow_up, actor=current_user)
        flash(_("Marked as done."), "success")
    return redirect(safe_next(request.args.get("next"), "followups.mine"))


# --- the dashboard -----------------------------------------------------------------------

DASHBOARD_ITEMS = 5


@dashboard_panel
def dashboard() -> tuple[str, dict[str, Any]] | None:
    """Overdue and due-soon follow-ups, and the records this user still has to
    complete."""
    if not current_user.is_authenticated:
        return None
    context: dict[str, Any] = {}
    today = engagements.today()
    if current_user.can(Permission.FOLLOWUPS_VIEW):
        context["counts"] = svc.follow_up_counts(current_user, today)
        groups = svc.my_follow_ups(current_user, today, limit=DASHBOARD_ITEMS)
        context["urgent"] = (groups["overdue"] + groups["due_soon"])[:DASHBOARD_ITEMS]
        context["today"] = today
    if current_user.can(Permission.ENGAGEMENTS_EDIT):
        stmt = engagements.engagement_query(
            {"incomplete": True, "created_by": current_user.id}, actor=current_user
        )
        context["incomplete"], context["incomplete_more"] = engagements.count_capped(stmt, 999)
    if not context:
        return None
    return "followups/_dashboard.html", context
