"""Engagement pages: list, month view, record, full form, quick log, records to complete.

Views are thin: they read a validated form or the address, call the services and
render. Records outside the user's reach answer 404.
"""

from __future__ import annotations

import calendar as pycalendar
import json
from dataclasses import dataclass, fields
from datetime import date, timedelta
from typing import Any

from babel import Locale
from flask import abort, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_login import current_user
from sqlalchemy import func, select
from werkzeug.routing import BuildError
from wtforms import HiddenField, SelectField, StringField

from crm.auth.models import User
from crm.codes import (
    EngagementCategory,
    EngagementFormat,
    EngagementStatus,
    EngagementType,
    VictimGroup,
)
from crm.engagements import bp
from crm.engagements import services as svc
from crm.engagements.forms import (
    EngagementForm,
    QuickLogForm,
    apply_service_errors,
    service_data,
    validate_together,
)
from crm.engagements.models import Engagement
from crm.engagements.places import country_choices, country_name, language_choices, language_name
from crm.errors import ConflictError, NotFound, ValidationError
from crm.extensions import db
from crm.forms import CrmForm, LocalDateField, choices
from crm.i18n import (
    FORMAT_LOCALES,
    current_language,
    format_date,
    format_number,
    normalize_digits,
)
from crm.listing import (
    ListSpec,
    ListState,
    SortOption,
    bool_filter,
    choice_filter,
    date_filter,
    set_filter,
    text_filter,
)
from crm.reports import restatements
from crm.security import Permission, require

# Counting stops here: past it the list says "more than 10,000". An exact COUNT
# over a million filtered rows costs a full scan on every page for a figure
# nobody reads; the reports count exactly.
COUNT_LIMIT = 10_000
# The month view shows this many per day, then "n more" links to the list.
PER_DAY = 4


# --- list machinery --------------------------------------------------------------------


def _visible_partners() -> dict[str, str]:
    """id → name of the partners the user may see (for filters and pickers)."""
    if "crm_engagement_partners" not in g:
        from crm.partners.models import Partner

        rows = db.session.execute(
            select(Partner)
            .where(Partner.archived_at.is_(None))
            .order_by(func.coalesce(Partner.name_en, Partner.name_ar, Partner.ref), Partner.id)
            .limit(5000)
        ).scalars()
        language = current_language()
        g.crm_engagement_partners = {
            str(p.id): p.name_for(language) for p in rows if p.can_view(current_user)
        }
    return g.crm_engagement_partners


def _staff_members() -> dict[str, str]:
    """id → name of active users (the staff picker and filter)."""
    if "crm_engagement_staff" not in g:
        rows = db.session.execute(
            select(User.id, User.name).where(User.active.is_(True)).order_by(User.name).limit(5000)
        ).all()
        g.crm_engagement_staff = {str(i): name for i, name in rows}
    return g.crm_engagement_staff


def _countries() -> dict[str, str]:
    return dict(country_choices())


ENGAGEMENT_LIST = ListSpec(
    endpoint="engagements.index",
    filters=[
        text_filter("q", _l("Search")),
        date_filter("from", _l("From")),
        date_filter("to", _l("To")),
        choice_filter("category", _l("Category"), EngagementCategory),
        choice_filter("type", _l("Type"), EngagementType),
        choice_filter("format", _l("Format"), EngagementFormat),
        choice_filter("status", _l("Status"), EngagementStatus),
        set_filter("country", _l("Country"), _countries, normalise=str.upper),
        set_filter("partner", _l("Partner"), _visible_partners),
        choice_filter("victim_group", _l("Victim group"), VictimGroup),
        set_filter("staff", _l("Staff member"), _staff_members),
        bool_filter("incomplete", _l("To complete")),
        bool_filter("mine", _l("Logged by me")),
        bool_filter("archived", _l("Archived")),
    ],
    sorts={
        "date": SortOption(_l("Date"), Engagement.start_date, descending=True),
        "ref": SortOption(_l("Reference"), Engagement.ref),
    },
    default_sort="date",
)


@dataclass(frozen=True)
class CappedListState(ListState):
    """A list state whose total stops at COUNT_LIMIT + 1 (see COUNT_LIMIT)."""

    def count(self, stmt: Any) -> int:
        capped = stmt.order_by(None).with_only_columns(Engagement.id).limit(COUNT_LIMIT + 1)
        return int(
            db.session.execute(select(func.count()).select_from(capped.subquery())).scalar_one()
        )


def _list_state(spec: ListSpec = ENGAGEMENT_LIST) -> CappedListState:
    state = spec.from_request(request.args)
    return CappedListState(**{f.name: getattr(state, f.name) for f in fields(state)})


def _service_filters(state: ListState) -> dict[str, Any]:
    filters = dict(state.filters)
    if filters.pop("mine", False):
        filters["created_by"] = current_user.id
    if "archived" in filters and not current_user.can(Permission.RECORDS_RESTORE):
        filters.pop("archived")
    return filters


def count_text(total: int) -> str:
    if total > COUNT_LIMIT:
        return ngettext(
            "More than %(count)s record",
            "More than %(count)s records",
            COUNT_LIMIT,
            count=format_number(COUNT_LIMIT),
        )
    return ngettext("%(count)s record", "%(count)s records", total, count=format_number(total))


class FilterForm(CrmForm):
    """The filter bar above the list: a GET form, so no CSRF token."""

    class Meta:
        csrf = False

    q = StringField(_l("Search"), render_kw={"type": "search"})
    from_ = LocalDateField(_l("From"), name="from")
    to = LocalDateField(_l("To"))
    category = SelectField(_l("Category"))
    type = SelectField(_l("Type"))
    format = SelectField(_l("Format"))
    status = SelectField(_l("Status"))
    country = SelectField(_l("Country"))
    partner = SelectField(_l("Partner"))
    victim_group = SelectField(_l("Victim group"))
    staff = SelectField(_l("Staff member"))


def _filter_form(state: ListState) -> FilterForm:
    any_ = [("", _("Any"))]
    form = FilterForm(formdata=None)
    form.category.choices = choices(any_) + EngagementCategory.choices()
    form.type.choices = choices(any_) + EngagementType.choices()
    form.format.choices = choices(any_) + EngagementFormat.choices()
    form.status.choices = choices(any_) + EngagementStatus.choices()
    form.victim_group.choices = choices(any_) + VictimGroup.choices()
    form.country.choices = choices(any_ + country_choices())
    form.partner.choices = choices(any_ + list(_visible_partners().items()))
    form.staff.choices = choices(any_ + list(_staff_members().items()))
    for name, value in state.filters.items():
        field = form.from_ if name == "from" else getattr(form, name, None)
        if field is not None:
            field.data = value.value if hasattr(value, "value") else value
    return form


# --- helpers for templates ---------------------------------------------------------------


def url_if(endpoint: str, **values: Any) -> str | None:
    """A link to another area's page if that area is installed."""
    try:
        return url_for(endpoint, **values)
    except BuildError:
        return None


@bp.app_context_processor
def _helpers() -> dict[str, Any]:
    return {
        "country_name": country_name,
        "language_name": language_name,
        "url_if": url_if,
        "engagement_missing_labels": svc.MISSING_LABELS,
        # Between items of a list written inline: the Arabic comma in Arabic.
        "list_separator": "، " if current_language() == "ar" else ", ",
    }


STATUS_BADGES = {
    EngagementStatus.HELD: "success",
    EngagementStatus.PLANNED: "info",
    EngagementStatus.POSTPONED: "warning",
    EngagementStatus.CANCELLED: "neutral",
}


@bp.app_template_filter("engagement_badge")
def engagement_badge(status: EngagementStatus) -> str:
    return STATUS_BADGES.get(status, "neutral")


# --- the list ----------------------------------------------------------------------------


@bp.get("/")
@require(Permission.ENGAGEMENTS_VIEW)
def index() -> Any:
    state = _list_state()
    page = state.paginate(
        svc.engagement_query(_service_filters(state), actor=current_user), Engagement.id
    )
    return render_template(
        "engagements/index.html",
        state=state,
        page=page,
        form=_filter_form(state),
        count=count_text(page.total),
        title=_("Engagements"),
    )


INCOMPLETE_LIST = ListSpec(
    endpoint="engagements.incomplete",
    filters=[bool_filter("mine", _l("Logged by me")), text_filter("q", _l("Search"))],
    sorts={"date": SortOption(_l("Date"), Engagement.start_date, descending=True)},
    default_sort="date",
)


@bp.get("/incomplete")
@require(Permission.ENGAGEMENTS_VIEW)
def incomplete() -> Any:
    """Records logged quickly that still lack titles, summary, partners, staff…"""
    state = _list_state(INCOMPLETE_LIST)
    filters = {**_service_filters(state), "incomplete": True}
    page = state.paginate(svc.engagement_query(filters, actor=current_user), Engagement.id)
    return render_template(
        "engagements/incomplete.html",
        state=state,
        page=page,
        count=count_text(page.total),
        missing={e.id: svc.missing_fields(e) for e in page.items},
    )


# --- the month view ----------------------------------------------------------------------


def _month_arg(value: str | None) -> date:
    if value:
        try:
            year, month = normalize_digits(value).strip().split("-")
            return date(int(year), int(month), 1)
        except ValueError:
            pass
    return svc.today().replace(day=1)


@bp.get("/calendar")
@require(Permission.ENGAGEMENTS_VIEW)
def calendar() -> Any:
    """A month: what was held and what is planned, day by day."""
    first = _month_arg(request.args.get("month"))
    days_in_month = pycalendar.monthrange(first.year, first.month)[1]
    last = first.replace(day=days_in_month)
    state = _list_state()
    filters = _service_filters(state)
    for key in ("from", "to", "status"):
        filters.pop(key, None)
    rows, per_day = svc.month_engagements(first, last, filters, actor=current_user)
    by_day: dict[date, list[Engagement]] = {}
    for engagement in rows:
        by_day.setdefault(engagement.start_date, []).append(engagement)

    locale = Locale.parse(FORMAT_LOCALES.get(current_language(), current_language()))
    week = pycalendar.Calendar(firstweekday=locale.first_week_day)
    weeks = [
        [day if day.month == first.month else None for day in days]
        for days in week.monthdatescalendar(first.year, first.month)
    ]
    weekday_names = [
        (locale.days["format"]["wide"][d], locale.days["format"]["abbreviated"][d])
        for d in week.iterweekdays()
    ]
    previous = (first.replace(day=1) - timedelta(days=1)).replace(day=1)
    following = last + timedelta(days=1)
    keep = state.query_args(with_sort=False)
    for key in ("from", "to", "status"):
        keep.pop(key, None)
    return render_template(
        "engagements/calendar.html",
        first=first,
        weeks=weeks,
        weekday_names=weekday_names,
        by_day=by_day,
        per_day=per_day,
        per_day_limit=PER_DAY,
        total=sum(per_day.values()),
        today=svc.today(),
        previous_url=url_for(".calendar", month=previous.strftime("%Y-%m"), **keep),
        next_url=url_for(".calendar", month=following.strftime("%Y-%m"), **keep),
        this_month_url=url_for(".calendar", **keep),
        list_args=keep,
    )


# --- a record --------------------------------------------------------------------------


def _engagement_or_404(engagement_id: int) -> Engagement:
    try:
        return svc.get_engagement(engagement_id, actor=current_user)
    except NotFound:
        abort(404)


ACTION_LABELS = {
    "engagement.create": _l("Recorded"),
    "engagement.update": _l("Changed"),
    "engagement.cancel": _l("Cancelled"),
    "engagement.archive": _l("Archived"),
    "engagement.restore": _l("Restored"),
}


def field_labels() -> dict[str, Any]:
    form = EngagementForm(formdata=None, meta={"csrf": False})
    labels = {name: getattr(form, name).label.text for name in EngagementForm.SERVICE_FIELDS}
    labels["person_ids"] = labels.pop("person_codes")
    return labels


def _history(engagement: Engagement) -> list[dict[str, Any]]:
    labels = field_labels()
    items = []
    for entry, user in svc.history(engagement):
        try:
            changed = list(json.loads(entry.details or "{}").get("changes", {}))
        except ValueError:
            changed = []
        items.append(
            {
                "at": entry.at,
                "who": user.name if user else None,
                "action": ACTION_LABELS.get(entry.action, entry.action),
                "fields": [labels.get(name, name) for name in changed],
                "created": entry.action == "engagement.create",
            }
        )
    return items


@bp.get("/<int:engagement_id>")
@require(Permission.ENGAGEMENTS_VIEW)
def view(engagement_id: int) -> Any:
    from crm.followups.services import follow_ups_for

    engagement = _engagement_or_404(engagement_id)
    partners = [p for p in engagement.partners if p.can_view(current_user)]
    people = (
        [p for p in engagement.people if p.can_view(current_user)]
        if current_user.can(Permission.PEOPLE_VIEW)
        else []
    )
    return render_template(
        "engagements/view.html",
        engagement=engagement,
        partners=partners,
        people=people,
        follow_ups=follow_ups_for(engagement, actor=current_user),
        missing=svc.missing_fields(engagement),
        history=_history(engagement),
        today=svc.today(),
        can_edit=engagement.can_edit(current_user) and engagement.archived_at is None,
    )


# --- forms -------------------------------------------------------------------------------


def _set_choices(form: Any, engagement: Engagement | None = None) -> None:
    form.country.choices = choices([("", _("Choose…")), *country_choices()])
    if hasattr(form, "languages"):
        form.languages.choices = choices(language_choices())
    if hasattr(form, "partner_ids"):
        partners = dict(_visible_partners())
        staff = dict(_staff_members())
        if engagement is not None:
            # Links already there stay choosable, even if archived or inactive since.
            for partner in engagement.partners:
                if partner.can_view(current_user):
                    partners.setdefault(str(partner.id), partner.name_for(current_language()))
            for user in engagement.staff:
                staff.setdefault(str(user.id), user.name)
        form.partner_ids.choices = choices((int(k), v) for k, v in partners.items())
        form.staff_ids.choices = choices((int(k), v) for k, v in staff.items())
    if hasattr(form, "person_codes") and not current_user.can(Permission.PEOPLE_VIEW):
        del form.person_codes  # a POST cannot set what the user may not see


def _submit(form: Any, engagement: Engagement | None) -> bool:
    """Validate the form and the service's rules together; True when all pass."""
    return validate_together(
        form, lambda data: svc.check_engagement(data, actor=current_user, engagement=engagement)
    )


def _form_from(engagement: Engagement) -> EngagementForm:
    form = EngagementForm(obj=engagement)
    if not form.is_submitted():
        form.victim_groups.data = [v.code.value for v in engagement.victim_groups]
        form.strategies.data = [s.code.value for s in engagement.strategies]
        form.partner_ids.data = [p.id for p in engagement.partners if p.can_view(current_user)]
        form.staff_ids.data = [u.id for u in engagement.staff]
        form.person_codes.data = ", ".join(
            p.code for p in engagement.people if p.can_view(current_user)
        )
        form.languages.data = list(engagement.languages or [])
        form.version.data = engagement.version
        for name in ("category", "type", "format", "status", "organiser"):
            value = getattr(engagement, name)
            getattr(form, name).data = value.value if value else ""
    return form


@bp.route("/new", methods=["GET", "POST"])
@require(Permission.ENGAGEMENTS_EDIT)
def new() -> Any:
    form = EngagementForm()
    _set_choices(form)
    if not _going_back() and form.is_submitted() and _submit(form, None):
        data = service_data(form)
        try:
            step = restatements.confirm_step(
                changes=[],
                apply=lambda: svc.create_engagement(data, actor=current_user),
                actor=current_user,
                title=_("New engagement"),
                record_label=_("New engagement"),
                cancel_url=url_for("engagements.index"),
            )
        except ValidationError as exc:
            apply_service_errors(form, exc.errors)
        else:
            if step.page is not None:
                return step.page
            engagement = step.saved
            flash(
                _saved_message(
                    engagement, _("The engagement %(ref)s is recorded.", ref=engagement.ref)
                ),
                "success",
            )
            return redirect(url_for(".view", engagement_id=engagement.id))
    return render_template("engagements/form.html", form=form, engagement=None)


@bp.route("/quick", methods=["GET", "POST"])
@require(Permission.ENGAGEMENTS_EDIT)
def quick() -> Any:
    """The quick log: enough to count the engagement, from a phone, Arabic first."""
    form = QuickLogForm()
    _set_choices(form)
    if not form.is_submitted():
        form.start_date.data = svc.today()
    if not _going_back() and form.is_submitted() and _submit(form, None):
        data = service_data(form)
        try:
            step = restatements.confirm_step(
                changes=[],
                apply=lambda: svc.create_engagement(data, actor=current_user),
                actor=current_user,
                title=_("Quick log"),
                record_label=_("New engagement"),
                cancel_url=url_for("engagements.index"),
            )
        except ValidationError as exc:
            apply_service_errors(form, exc.errors)
        else:
            if step.page is not None:
                return step.page
            engagement = step.saved
            flash(
                _saved_message(
                    engagement,
                    _(
                        "The engagement %(ref)s is recorded. Complete it later from "
                        "“Records to complete”.",
                        ref=engagement.ref,
                    ),
                ),
                "success",
            )
            return redirect(url_for(".view", engagement_id=engagement.id))
    return render_template("engagements/quick.html", form=form)


@bp.route("/<int:engagement_id>/edit", methods=["GET", "POST"])
@require(Permission.ENGAGEMENTS_EDIT)
def edit(engagement_id: int) -> Any:
    engagement = _engagement_or_404(engagement_id)
    if not engagement.can_edit(current_user):
        abort(404)
    if engagement.archived_at is not None:
        flash(_("This engagement is archived. Restore it before changing it."), "warning")
        return redirect(url_for(".view", engagement_id=engagement.id))
    form = _form_from(engagement)
    _set_choices(form, engagement)
    if not _going_back() and form.is_submitted() and _submit(form, engagement):
        data, version = service_data(form), form.version.data
        try:
            step = restatements.confirm_step(
                changes=svc.figure_changes(
                    engagement,
                    data,
                    actor=current_user,
                    label=lambda name: getattr(form, name).label.text,
                    show=lambda name, value: _display_long(form, name, value),
                ),
                apply=lambda: svc.update_engagement(
                    engagement, data, actor=current_user, version=version
                ),
                actor=current_user,
                title=engagement.title_for(current_language()),
                record_label=engagement.ref,
                cancel_url=url_for("engagements.view", engagement_id=engagement.id),
            )
        except ValidationError as exc:
            apply_service_errors(form, exc.errors)
        except ConflictError:
            return _conflict(form, engagement)
        else:
            if step.page is not None:
                return step.page
            flash(
                _saved_message(
                    engagement, _("The engagement %(ref)s is saved.", ref=engagement.ref)
                ),
                "success",
            )
            return redirect(url_for(".view", engagement_id=engagement.id))
    return render_template("engagements/form.html", form=form, engagement=engagement)


def _confirmed_action(engagement: Engagement, apply: Any) -> Any:
    """Cancel, archive or restore through the confirmation step: asked only when a
    figure of a locked period would move."""
    return restatements.confirm_step(
        changes=[],
        apply=apply,
        actor=current_user,
        title=engagement.title_for(current_language()),
        record_label=engagement.ref,
        cancel_url=url_for("engagements.view", engagement_id=engagement.id),
    )


def _going_back() -> bool:
    """The confirmation step's "Back to the form": show the form as it was sent."""
    return request.method == "POST" and bool(request.form.get("_back"))


def _saved_message(engagement: Engagement, message: str) -> str:
    """Saved, with the date in words, so a swapped day and month shows at once."""
    return " ".join(
        [
            message,
            _("Start date: %(date)s.", date=format_date(engagement.start_date, "long")),
        ]
    )


def _display_long(form: Any, name: str, value: Any) -> str:
    if isinstance(value, date):
        return format_date(value, "long")
    return _display(form, name, value)


def _display(form: Any, name: str, value: Any) -> str:
    """A value as the conflict page shows it, for the form's or the record's side."""
    field = getattr(form, name)
    if value is None or value == "" or value == []:
        return ""
    labels = {str(c.value): str(c.label) for c in getattr(field, "choices", None) or []}
    if isinstance(value, list | tuple):
        return ", ".join(labels.get(str(v), str(v)) for v in value)
    if hasattr(value, "value"):
        value = value.value
    if isinstance(value, date):
        return value.isoformat()
    return labels.get(str(value), str(value))


def _conflict(form: EngagementForm, engagement: Engagement) -> Any:
    """Someone saved the record since this form was loaded: show both versions side
    by side; the form keeps the user's input, now based on the saved version."""
    saved = _form_from_record_values(engagement)
    differences = []
    for name in EngagementForm.SERVICE_FIELDS:
        if not hasattr(form, name):
            continue
        mine = _display(form, name, getattr(form, name).data)
        theirs = _display(form, name, saved.get(name))
        if mine != theirs:
            differences.append((getattr(form, name).label.text, mine, theirs))
    form.version.data = engagement.version
    form.version.raw_data = None
    return (
        render_template(
            "engagements/conflict.html",
            form=form,
            engagement=engagement,
            differences=differences,
        ),
        409,
    )


def _form_from_record_values(engagement: Engagement) -> dict[str, Any]:
    values = {name: getattr(engagement, name, None) for name in EngagementForm.SERVICE_FIELDS}
    values["victim_groups"] = [v.code.value for v in engagement.victim_groups]
    values["strategies"] = [s.code.value for s in engagement.strategies]
    values["partner_ids"] = [p.id for p in engagement.partners if p.can_view(current_user)]
    values["staff_ids"] = [u.id for u in engagement.staff]
    values["person_codes"] = ", ".join(
        p.code for p in engagement.people if p.can_view(current_user)
    )
    return values


class ActionForm(CrmForm):
    """A bare POST with its CSRF token and the version the page showed."""

    version = HiddenField()


@bp.post("/<int:engagement_id>/cancel")
@require(Permission.ENGAGEMENTS_EDIT)
def cancel(engagement_id: int) -> Any:
    engagement = _engagement_or_404(engagement_id)
    form = ActionForm()
    if form.validate_on_submit():
        version = form.version.data
        try:
            step = _confirmed_action(
                engagement,
                lambda: svc.cancel_engagement(engagement, actor=current_user, version=version),
            )
            if step.page is not None:
                return step.page
        except ConflictError:
            flash(_("Someone changed this engagement meanwhile. Check it and try again."), "error")
        except ValidationError as exc:
            for messages in exc.errors.values():
                for message in messages:
                    flash(str(message), "error")
        else:
            flash(_("The engagement %(ref)s is cancelled.", ref=engagement.ref), "success")
    return redirect(url_for(".view", engagement_id=engagement.id))


@bp.post("/<int:engagement_id>/archive")
@require(Permission.ENGAGEMENTS_EDIT)
def archive(engagement_id: int) -> Any:
    engagement = _engagement_or_404(engagement_id)
    if ActionForm().validate_on_submit():
        step = _confirmed_action(
            engagement, lambda: svc.archive_engagement(engagement, actor=current_user)
        )
        if step.page is not None:
            return step.page
        flash(_("The engagement %(ref)s is archived.", ref=engagement.ref), "success")
        return redirect(url_for(".index"))
    return redirect(url_for(".view", engagement_id=engagement.id))


@bp.post("/<int:engagement_id>/restore")
@require(Permission.RECORDS_RESTORE)
def restore(engagement_id: int) -> Any:
    engagement = _engagement_or_404(engagement_id)
    if ActionForm().validate_on_submit():
        step = _confirmed_action(
            engagement, lambda: svc.restore_engagement(engagement, actor=current_user)
        )
        if step.page is not None:
            return step.page
        flash(_("The engagement %(ref)s is restored.", ref=engagement.ref), "success")
    return redirect(url_for(".view", engagement_id=engagement.id))
