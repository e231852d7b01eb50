"""People pages. Thin: every rule is in services.py.

An identity is never on a page reached by GET: it is the answer to the POST of
the "show identity" step (a stated reason, recorded), and every page is sent
with ``Cache-Control: no-store``.
"""

from __future__ import annotations

import contextlib
import logging
from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import func, select

from crm.codes import AgeBand, ConsentScope, Governorate, Sex, VictimGroup
from crm.crypto import DecryptionError
from crm.engagements.models import Engagement
from crm.errors import ConflictError, NotFound, ValidationError
from crm.extensions import db, limiter
from crm.forms import CrmForm
from crm.listing import (
    ListSpec,
    SortOption,
    bool_filter,
    choice_filter,
    set_filter,
    text_filter,
)
from crm.main.views import dashboard_panel
from crm.people import bp, services
from crm.people.forms import (
    AttendanceForm,
    ConfirmForm,
    ConsentForm,
    EraseForm,
    IdentityForm,
    NewPersonForm,
    NewPersonWithIdentityForm,
    OverrideForm,
    PersonForm,
    RevealForm,
    country_choices,
    country_name,
    language_name,
)
from crm.people.models import ConsentEvent, Person
from crm.security import Permission, require

log = logging.getLogger(__name__)

PEOPLE_LIST = ListSpec(
    endpoint="people.index",
    filters=[
        text_filter("q", _l("Code"), max_length=20),
        choice_filter("sex", _l("Sex"), Sex, multiple=True),
        choice_filter("age_band", _l("Age band"), AgeBand, multiple=True),
        choice_filter("governorate", _l("Governorate of origin"), Governorate, multiple=True),
        choice_filter("victim_group", _l("Victim group"), VictimGroup, multiple=True),
        set_filter("country", _l("Country"), lambda: dict(country_choices()), normalise=str.upper),
        bool_filter("at_risk", _l("At risk")),
        bool_filter("do_not_contact", _l("Do not contact")),
        choice_filter("consent", _l("Consents to"), ConsentScope),
        bool_filter("archived", _l("Archived")),
    ],
    sorts={
        "code": SortOption(_l("Code"), Person.code),
        "created": SortOption(_l("Recorded on"), Person.created_at, descending=True),
    },
    default_sort="created",
)

ACTION_LABELS = {
    "person.create": _l("Recorded"),
    "person.update": _l("Edited"),
    "person.identity_view": _l("Identity shown"),
    "person.identity_update": _l("Identity changed"),
    "person.consent": _l("Consent recorded"),
    "person.consent_override": _l("Refusal overridden"),
    "person.erase": _l("Identity erased"),
    "person.archive": _l("Archived"),
    "person.restore": _l("Restored"),
    "person.attendance_add": _l("Engagement linked"),
    "person.attendance_remove": _l("Engagement unlinked"),
}


def _person_or_404(person_id: int) -> Person:
    try:
        return services.get_person(person_id, actor=current_user)
    except NotFound:
        abort(404)


def _editable_or_404(person_id: int) -> Person:
    person = _person_or_404(person_id)
    if not person.can_edit(current_user):
        abort(404)
    return person


def _reauthenticate(target: str) -> Any:
    flash(_("Confirm your password to continue."), "info")
    return redirect(url_for("auth.reauthenticate", next=target))


def _recently_authenticated() -> bool:
    from crm.auth.services import recently_authenticated

    return recently_authenticated()


def _template_helpers() -> dict[str, Any]:
    return {
        "country_name": country_name,
        "language_name": language_name,
        "action_labels": ACTION_LABELS,
        "ConsentScope": ConsentScope,
    }


# --- list ---------------------------------------------------------------------------


class _FilterForm(CrmForm):
    """The filter bar: a GET form, so without a CSRF token."""

    class Meta:
        csrf = False


def _filter_form() -> Any:
    from wtforms import SelectField, StringField

    from crm.forms import choices

    def options(codes: Any) -> list[Any]:
        return choices([("", _("Any")), *((c.value, c.label) for c in codes)])

    class PeopleFilterForm(_FilterForm):
        q = StringField(_l("Code"), render_kw={"dir": "ltr", "autocomplete": "off"})
        sex = SelectField(_l("Sex"), choices=options(Sex))
        age_band = SelectField(_l("Age band"), choices=options(AgeBand))
        governorate = SelectField(_l("Governorate of origin"), choices=options(Governorate))
        victim_group = SelectField(_l("Victim group"), choices=options(VictimGroup))
        country = SelectField(_l("Country"), choices=choices([("", _("Any")), *country_choices()]))
        consent = SelectField(_l("Consents to"), choices=options(ConsentScope))

    return PeopleFilterForm(formdata=request.args)


def _consent_table(people: list[Person]) -> dict[int, dict[ConsentScope, bool]]:
    """The current consent of each person on the page, in one query."""
    if not people:
        return {}
    latest = (
        select(func.max(ConsentEvent.id))
        .where(ConsentEvent.person_id.in_([p.id for p in people]))
        .group_by(ConsentEvent.person_id, ConsentEvent.scope)
    )
    table: dict[int, dict[ConsentScope, bool]] = {p.id: {} for p in people}
    for person_id, scope, granted in db.session.execute(
        select(ConsentEvent.person_id, ConsentEvent.scope, ConsentEvent.granted).where(
            ConsentEvent.id.in_(latest)
        )
    ):
        table[person_id][scope] = granted
    return table


@bp.get("/")
@require(Permission.PEOPLE_VIEW)
def index() -> Any:
    """People by code and anonymous attributes, with their current consent."""
    state = PEOPLE_LIST.from_request(request.args)
    if "archived" in state.filters and not current_user.can(Permission.RECORDS_RESTORE):
        state = state.with_filters(archived=None)  # not theirs to see: no chip either
    page = state.paginate(services.person_query(state.filters, actor=current_user), Person.id)
    return render_template(
        "people/index.html",
        state=state,
        page=page,
        form=_filter_form(),
        consents=_consent_table(page.items),
        **_template_helpers(),
    )


# --- one person ---------------------------------------------------------------------


def _view_context(person: Person, **extra: Any) -> dict[str, Any]:
    engagements = list(
        db.session.execute(
            services.attended_engagements_query(person, actor=current_user).limit(200)
        ).scalars()
    )
    history = services.history(person)
    return {
        "person": person,
        "consents": services.current_consents(person),
        "consent_history": services.consent_history(person),
        "engagements": engagements,
        "history": history,
        "contact_refusal": services.contact_refusal(person),
        "attendance_form": extra.pop("attendance_form", None) or AttendanceForm(),
        "confirm_form": ConfirmForm(),
        "contact_url": _contact_url(person),
        "can_override": current_user.can(Permission.CONSENT_OVERRIDE)
        and bool(services.overridable_scopes(person)),
        "actors": _actor_names({entry.actor_id for entry in history}),
        "engagement_url": _engagement_url,
        **_template_helpers(),
        **extra,
    }


def _actor_names(ids: set[int | None]) -> dict[int, str]:
    """Names of the accounts that appear in a page's history."""
    from crm.auth.models import User

    wanted = [i for i in ids if i is not None]
    if not wanted:
        return {}
    return dict(db.session.execute(select(User.id, User.name).where(User.id.in_(wanted))).all())


def _engagement_url(engagement: Engagement) -> str | None:
    from werkzeug.routing import BuildError

    try:
        return url_for("engagements.view", engagement_id=engagement.id)
    except BuildError:  # the engagements area is not installed (or names it otherwise)
        return None


def _contact_url(person: Person) -> str | None:
    """Where to plan a contact with the person, when contact is allowed at all."""
    from flask import current_app
    from werkzeug.routing import BuildError

    if not services.may_contact(person) or "followups.new" not in current_app.view_functions:
        return None
    if not current_user.can(Permission.FOLLOWUPS_EDIT):
        return None
    try:
        return url_for("followups.new", person_id=person.id)
    except BuildError:
        return None


@bp.get("/<int:person_id>")
@require(Permission.PEOPLE_VIEW)
def view(person_id: int) -> Any:
    """The anonymous record: code, attributes, flags, consent, engagements, history."""
    person = _person_or_404(person_id)
    return render_template("people/view.html", **_view_context(person))


@bp.route("/new", methods=["GET", "POST"])
@require(Permission.PEOPLE_EDIT)
def new() -> Any:
    with_identity = current_user.can(Permission.IDENTITY_VIEW)
    form = NewPersonWithIdentityForm() if with_identity else NewPersonForm()
    if form.validate_on_submit():
        try:
            person = services.create_person(form.data_for_service(), actor=current_user)
        except ValidationError as exc:
            exc.apply_to_form(form)
        else:
            flash(_("The person %(code)s is recorded.", code=person.code), "success")
            return redirect(url_for("people.view", person_id=person.id))
    return render_template("people/form.html", form=form, person=None, with_identity=with_identity)


@bp.route("/<int:person_id>/edit", methods=["GET", "POST"])
@require(Permission.PEOPLE_EDIT)
def edit(person_id: int) -> Any:
    """The anonymous attributes and the risk flags (with optimistic locking)."""
    person = _editable_or_404(person_id)
    if request.method == "GET":
        form = PersonForm(obj=person, version=person.version)
        form.victim_groups.data = [g.value for g in person.victim_group_codes]
    else:
        form = PersonForm()
    if form.validate_on_submit():
        try:
            services.update_person(
                person, form.data_for_service(), actor=current_user, version=form.version.data
            )
        except ConflictError:
            return _person_conflict(person_id, form)
        except ValidationError as exc:
            exc.apply_to_form(form)
        else:
            flash(_("The person %(code)s is saved.", code=person.code), "success")
            return redirect(url_for("people.view", person_id=person.id))
    return render_template("people/form.html", form=form, person=person, with_identity=False)


def _person_conflict(person_id: int, form: PersonForm) -> Any:
    """Someone saved first: show both versions, keep the user's input."""
    db.session.rollback()
    saved = _editable_or_404(person_id)
    mine = form.data_for_service()
    rows = []
    for name in ("sex", "age_band", "governorate_of_origin", "current_country"):
        field = getattr(form, name)
        rows.append((field.label.text, _choice_label(field, mine[name]), _saved_label(saved, name)))
    rows.append(
        (
            form.victim_groups.label.text,
            ", ".join(str(VictimGroup(v).label) for v in mine["victim_groups"]),
            ", ".join(str(g.label) for g in saved.victim_group_codes),
        )
    )
    for name in ("at_risk", "do_not_contact"):
        rows.append(
            (
                getattr(form, name).label.text,
                _("Yes") if mine[name] else _("No"),
                _("Yes") if getattr(saved, name) else _("No"),
            )
        )
    form.version.data = saved.version  # saving again now overwrites, knowingly
    return (
        render_template(
            "people/conflict.html",
            person=saved,
            form=form,
            rows=rows,
            action=url_for("people.edit", person_id=saved.id),
            identity_conflict=False,
        ),
        409,
    )


def _choice_label(field: Any, value: Any) -> str:
    for choice in field.iter_choices():
        if choice[0] == (value or ""):
            return str(choice[1]) if value else ""
    return str(value or "")


def _saved_label(person: Person, name: str) -> str:
    value = getattr(person, name)
    if value is None:
        return ""
    if name == "current_country":
        return country_name(value)
    return str(value.label)


@bp.post("/<int:person_id>/archive")
@require(Permission.PEOPLE_EDIT)
def archive(person_id: int) -> Any:
    person = _editable_or_404(person_id)
    if ConfirmForm().validate_on_submit():
        services.archive_person(person, actor=current_user)
        flash(_("The person %(code)s is archived.", code=person.code), "success")
        return redirect(url_for("people.index"))
    return redirect(url_for("people.view", person_id=person.id))


@bp.post("/<int:person_id>/restore")
@require(Permission.RECORDS_RESTORE)
def restore(person_id: int) -> Any:
    person = _person_or_404(person_id)
    if person.archived_at is None:
        abort(404)
    if ConfirmForm().validate_on_submit():
        services.restore_person(person, actor=current_user)
        flash(_("The person %(code)s is restored.", code=person.code), "success")
    return redirect(url_for("people.view", person_id=person.id))


# --- identity -----------------------------------------------------------------------


def _identity_or_404(person_id: int) -> Person:
    person = _person_or_404(person_id)
    if not person.can_see_identity(current_user):
        abort(404)
    return person


def _unreadable(person: Person) -> Any:
    # Ids only in the log: the value itself is what could not be read.
    log.error("identity of person %s does not decrypt with the configured keys", person.id)
    return render_template("people/identity_unreadable.html", person=person), 500


def _session_key() -> str:
    """Rate-limit key: the signed-in session (hashed: the token is a credential)."""
    import hashlib

    return "people.identity:" + hashlib.sha256((current_user.get_id() or "").encode()).hexdigest()


def _identity_rate() -> str:
    from flask import current_app

    return str(current_app.config.get("IDENTITY_VIEWS_RATE_LIMIT", "60 per hour"))


@bp.route("/<int:person_id>/identity", methods=["GET", "POST"])
@require(Permission.IDENTITY_VIEW)
# A stolen session cannot page through every identity: showing them is throttled.
@limiter.limit(_identity_rate, key_func=_session_key, methods=["POST"])
def identity(person_id: int) -> Any:
    """The "show identity" step: GET asks why; the POST answer shows the identity
    (or the form to change it), once, recorded with the reason."""
    person = _identity_or_404(person_id)
    form = RevealForm(purpose=request.args.get("purpose", "view"))
    purpose = form.purpose.data
    if purpose not in services.PURPOSES or (
        purpose == "edit" and not person.can_edit(current_user)
    ):
        purpose = form.purpose.data = "view"
    if form.validate_on_submit():
        try:
            shown = services.reveal_identity(
                person, actor=current_user, reason=form.reason.data, purpose=purpose
            )
        except ValidationError as exc:
            exc.apply_to_form(form)
        except DecryptionError:
            return _unreadable(person)
        else:
            if purpose == "edit":
                edit_form = IdentityForm(
                    data={**shown.as_form_data(), "version": person.version},
                    withhold_contact=person.do_not_contact,
                )
                return render_template("people/identity_form.html", person=person, form=edit_form)
            return render_template(
                "people/identity.html",
                person=person,
                identity=shown,
                accesses=services.identity_accesses(person, actor=current_user),
                overrides=_override_reasons(person),
                offer_contact=services.may_contact(person),
                **_template_helpers(),
            )
    return render_template("people/identity_reason.html", person=person, form=form)


def _override_reasons(person: Person) -> list[tuple[ConsentEvent, str | None]]:
    return [
        (event, services.override_reason(event, actor=current_user))
        for event in services.consent_history(person)
        if event.override
    ]


@bp.post("/<int:person_id>/identity/save")
@require(Permission.IDENTITY_VIEW, Permission.PEOPLE_EDIT)
def identity_save(person_id: int) -> Any:
    """Save an identity edited after the "show identity" step."""
    person = _identity_or_404(person_id)
    if not person.can_edit(current_user):
        abort(404)
    form = IdentityForm(withhold_contact=person.do_not_contact)
    if form.validate_on_submit():
        try:
            services.update_identity(
                person, form.identity_data(), actor=current_user, version=form.version.data
            )
        except ConflictError:
            return _identity_conflict(person_id, form)
        except ValidationError as exc:
            exc.apply_to_form(form)
        except DecryptionError:
            return _unreadable(person)
        else:
            flash(_("The identity of %(code)s is saved.", code=person.code), "success")
            return redirect(url_for("people.view", person_id=person.id))
    return render_template("people/identity_form.html", person=person, form=form), 400


def _identity_conflict(person_id: int, form: IdentityForm) -> Any:
    """Show the saved identity beside the user's input. Showing it is recorded, so
    this answer commits (status 200): a 409 would roll the audit row back."""
    from flask import g

    db.session.rollback()
    g.crm_rollback = False
    saved = _identity_or_404(person_id)
    try:
        theirs = services.identity_for_conflict(saved, actor=current_user)
    except DecryptionError:
        return _unreadable(saved)
    rows = [
        (field.label.text, field.data or "", getattr(theirs, field.name) or "")
        for field in form
        if field.name in form.identity_data()
    ]
    form.version.data = saved.version
    return (
        render_template(
            "people/conflict.html",
            person=saved,
            form=form,
            rows=rows,
            action=url_for("people.identity_save", person_id=saved.id),
            identity_conflict=True,
        ),
        200,
    )


# --- consent ------------------------------------------------------------------------


@bp.route("/<int:person_id>/consent", methods=["GET", "POST"])
@require(Permission.PEOPLE_EDIT)
def consent(person_id: int) -> Any:
    """Record consent given or withdrawn for one scope; it applies at once."""
    person = _editable_or_404(person_id)
    form = ConsentForm(scope=request.args.get("scope"))
    if form.validate_on_submit():
        data = form.data_for_service()
        if data["scope"] == ConsentScope.STORE and not data["granted"]:
            # Withdrawing consent to store erases: that has its own confirmation.
            return redirect(
                url_for(
                    "people.erase",
                    person_id=person.id,
                    on=data["on"].isoformat() if data["on"] else None,
                    method=data["method"],
                    language=data["language"],
                )
            )
        try:
            services.record_consent(person, data, actor=current_user)
        except ValidationError as exc:
            exc.apply_to_form(form)
        else:
            flash(_("The consent of %(code)s is recorded.", code=person.code), "success")
            return redirect(url_for("people.view", person_id=person.id, _anchor="consent"))
    return render_template(
        "people/consent_form.html",
        person=person,
        form=form,
        consent_history=services.consent_history(person),
        **_template_helpers(),
    )


@bp.route("/<int:person_id>/consent/override", methods=["GET", "POST"])
@require(Permission.CONSENT_OVERRIDE, Permission.PEOPLE_EDIT)
def override(person_id: int) -> Any:
    """Act despite a refusal: a reason, a recent password check, and an audit row."""
    person = _editable_or_404(person_id)
    scopes = services.overridable_scopes(person)
    if not scopes:
        flash(_("This person has refused nothing that can be overridden."), "info")
        return redirect(url_for("people.view", person_id=person.id, _anchor="consent"))
    if not _recently_authenticated():
        return _reauthenticate(url_for("people.override", person_id=person.id))
    form = OverrideForm(scopes=scopes)
    if form.validate_on_submit():
        try:
            services.override_refusal(
                person,
                {"scope": form.scope.data, "on": form.on.data, "reason": form.reason.data},
                actor=current_user,
            )
        except services.ReauthenticationRequired:
            return _reauthenticate(url_for("people.override", person_id=person.id))
        except ValidationError as exc:
            exc.apply_to_form(form)
        else:
            flash(_("The override for %(code)s is recorded.", code=person.code), "warning")
            return redirect(url_for("people.view", person_id=person.id, _anchor="consent"))
    return render_template("people/override_form.html", person=person, form=form)


@bp.route("/<int:person_id>/erase", methods=["GET", "POST"])
@require(Permission.PEOPLE_EDIT)
def erase(person_id: int) -> Any:
    """Consent to store withdrawn: erase the identity, after confirmation."""
    person = _editable_or_404(person_id)
    kept = {k: request.args[k] for k in ("on", "method", "language") if request.args.get(k)}
    here = url_for("people.erase", person_id=person.id, **kept)
    if not _recently_authenticated():
        return _reauthenticate(here)
    if request.method == "GET":
        form = EraseForm(formdata=None, data=_erase_defaults())
    else:
        form = EraseForm()
    if form.validate_on_submit():
        try:
            services.erase_identity(person, form.data_for_service(), actor=current_user)
        except services.ReauthenticationRequired:
            return _reauthenticate(here)
        except ValidationError as exc:
            exc.apply_to_form(form)
        else:
            flash(
                _(
                    "The identity of %(code)s is erased. The anonymous record remains.",
                    code=person.code,
                ),
                "success",
            )
            return redirect(url_for("people.view", person_id=person.id))
    return render_template("people/erase.html", person=person, form=form)


def _erase_defaults() -> dict[str, Any]:
    from datetime import date

    defaults: dict[str, Any] = {}
    with contextlib.suppress(ValueError):
        defaults["on"] = date.fromisoformat(request.args.get("on", ""))
    for key in ("method", "language"):
        if request.args.get(key):
            defaults[key] = request.args[key]
    return defaults


# --- attendance ---------------------------------------------------------------------


@bp.post("/<int:person_id>/engagements")
@require(Permission.PEOPLE_EDIT)
def attendance_add(person_id: int) -> Any:
    """Link an engagement the person attended, by its reference."""
    person = _editable_or_404(person_id)
    form = AttendanceForm()
    if form.validate_on_submit():
        try:
            engagement = services.find_engagement(form.ref.data, actor=current_user)
            services.add_attendance(engagement, person, actor=current_user)
        except ValidationError as exc:
            exc.apply_to_form(form)
        else:
            flash(_("%(code)s attended %(ref)s.", code=person.code, ref=engagement.ref), "success")
            return redirect(url_for("people.view", person_id=person.id, _anchor="engagements"))
    return (
        render_template("people/view.html", **_view_context(person, attendance_form=form)),
        400,
    )


@bp.post("/<int:person_id>/engagements/<int:engagement_id>/remove")
@require(Permission.PEOPLE_EDIT)
def attendance_remove(person_id: int, engagement_id: int) -> Any:
    person = _editable_or_404(person_id)
    engagement = db.session.get(Engagement, engagement_id)
    if engagement is None:
        abort(404)
    if ConfirmForm().validate_on_submit():
        try:
            services.remove_attendance(engagement, person, actor=current_user)
        except NotFound:
            abort(404)
        flash(
            _("%(ref)s is no longer listed for %(code)s.", ref=engagement.ref, code=person.code),
            "success",
        )
    return redirect(url_for("people.view", person_id=person.id, _anchor="engagements"))


# --- home page ----------------------------------------------------------------------


@dashboard_panel
def people_panel() -> tuple[str, dict[str, Any]] | None:
    """The focal point's figures: people on record, at risk, not to be contacted."""
    if not current_user.can(Permission.PEOPLE_EDIT):
        return None
    return "people/_dashboard_panel.html", {"counts": services.people_counts(actor=current_user)}
