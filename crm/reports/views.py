"""The Outcome 3 report: figures, breakdowns, charts, the records behind each number,
exports, locked periods and indicator settings."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from flask import (
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_login import current_user
from sqlalchemy import func, select
from sqlalchemy.orm import lazyload
from werkzeug.routing import BuildError

from crm import clock
from crm.codes import HeadlineRule
from crm.db import utcnow
from crm.engagements.models import Engagement
from crm.errors import ConflictError, ValidationError
from crm.extensions import db
from crm.frameworks.models import Framework
from crm.i18n import current_language, text_direction
from crm.listing import ListSpec, SortOption
from crm.main.views import dashboard_panel
from crm.people.models import Person
from crm.reports import bp, charts, counting, services, texts
from crm.reports.counting import BREAKDOWNS, ENGAGEMENTS, FRAMEWORKS, Period
from crm.reports.forms import (
    ExportForm,
    LockForm,
    NewPeriodForm,
    PeriodForm,
    SettingForm,
    UnlockForm,
    default_period,
)
from crm.reports.models import IndicatorSetting, ReportingPeriod
from crm.security import Permission, require

# --- helpers ---------------------------------------------------------------------------------


def _period_from_args(args: Any) -> tuple[PeriodForm, Period | None]:
    form = PeriodForm(formdata=args if args else None)
    if not args:
        form.year.data = clock.today().year
        return form, default_period()
    if form.validate():
        return form, form.period()
    return form, None


def period_args(p: Period) -> dict[str, str]:
    return PeriodForm.for_period(p)


def records_url(key: str, p: Period, **extra: Any) -> str:
    if _live_requested():
        extra.setdefault("live", "1")
    return url_for("reports.records", figure=key, **period_args(p), **extra)


@dataclass(frozen=True)
class Row:
    """One line of a figures table: label, value, link to its records, definition."""

    key: str
    label: Any
    value: int | None
    url: str | None
    definition: dict[str, str] | None = None
    changed: bool = False


@dataclass(frozen=True)
class BreakdownTable:
    key: str
    title: Any
    rows: list[Row]
    chart: Any


def _changed_keys(view: services.ReportView) -> set[str]:
    if view.restated is None:
        return set()
    return {change.key for change in view.restated.changes}


def _live_requested() -> bool:
    return request.args.get("live") == "1"


def _tables(view: services.ReportView) -> dict[str, list[BreakdownTable]]:
    rtl = text_direction() == "rtl"
    changed = _changed_keys(view)
    out: dict[str, list[BreakdownTable]] = {FRAMEWORKS: [], ENGAGEMENTS: []}
    for breakdown in BREAKDOWNS:
        counts = view.figures[breakdown.section].get(breakdown.name, {})
        rows = [
            Row(
                f"{breakdown.key}.{value}",
                texts.value_label(breakdown.key, value),
                n,
                records_url(f"{breakdown.key}.{value}", view.period),
                changed=f"{breakdown.key}.{value}" in changed,
            )
            for value, n in counts.items()
        ]
        title = texts.breakdown_label(breakdown.key)
        fill = (
            charts.FRAMEWORKS_FILL if breakdown.section == FRAMEWORKS else charts.ENGAGEMENTS_FILL
        )
        chart = (
            charts.bar_chart(
                f"{texts.SECTION_LABELS[breakdown.section]}: {title}",
                [charts.Bar(str(r.label), r.value or 0) for r in rows],
                rtl=rtl,
                fill=fill,
            )
            if rows
            else None
        )
        out[breakdown.section].append(BreakdownTable(breakdown.key, title, rows, chart))
    return out


def _figure_rows(view: services.ReportView) -> dict[str, list[Row]]:
    p, figures = view.period, view.figures
    changed = _changed_keys(view)

    def row(key: str, value: int, *, records: str | None = None) -> Row:
        target = records or key
        return Row(
            key,
            texts.figure_label(key),
            value,
            records_url(target, p),
            texts.in_each_language(lambda: texts.definition(key))
            if key in texts.DEFINITIONS
            else None,
            changed=counting.canonical_key(target, p) in changed or key in changed,
        )

    fw, en = figures[FRAMEWORKS], figures[ENGAGEMENTS]
    frameworks = [
        row(f"{FRAMEWORKS}.{name}", fw[name])
        for name in (
            "concluded_to_date",
            "concluded_in_period",
            "in_force_at_end",
            "civil_society_to_date",
        )
    ]
    engagements = [row(f"{ENGAGEMENTS}.held_in_period", en["held_in_period"])]
    participants = [
        row(
            f"{ENGAGEMENTS}.participants.{name}",
            en["participants"][name],
            records=f"{ENGAGEMENTS}.held_in_period",
        )
        for name in ("total", "women", "men", "unspecified", "under_18")
    ]
    people = row(f"{ENGAGEMENTS}.unique_people", en["unique_people"])
    return {
        "frameworks": frameworks,
        "engagements": engagements,
        "participants": participants,
        "people": [people],
    }


@dataclass(frozen=True)
class Headline:
    key: str
    label: Any
    value: int
    url: str
    rule: HeadlineRule | None
    rule_label: dict[str, str] | None
    definition: dict[str, str]
    target: int | None
    baseline: int | None

    @property
    def progress(self) -> float | None:
        if not self.target:
            return None
        return self.value / self.target


def _headlines(view: services.ReportView) -> list[Headline]:
    p, figures = view.period, view.figures
    setting = services.setting_for(p.indicator_year)
    rule = HeadlineRule(figures[FRAMEWORKS]["headline_rule"])
    rule_key = texts.headline_key(rule)
    return [
        Headline(
            f"{FRAMEWORKS}.headline",
            texts.figure_label(f"{FRAMEWORKS}.headline"),
            figures[FRAMEWORKS]["headline"],
            records_url(f"{FRAMEWORKS}.headline", p),
            rule,
            texts.in_each_language(lambda: rule.label),
            texts.in_each_language(lambda: texts.definition(rule_key)),
            setting.frameworks_target if setting else None,
            setting.frameworks_baseline if setting else None,
        ),
        Headline(
            f"{ENGAGEMENTS}.headline",
            texts.figure_label(f"{ENGAGEMENTS}.headline"),
            figures[ENGAGEMENTS]["headline"],
            records_url(f"{ENGAGEMENTS}.headline", p),
            None,
            None,
            texts.in_each_language(lambda: texts.definition(f"{ENGAGEMENTS}.held_in_period")),
            setting.engagements_target if setting else None,
            setting.engagements_baseline if setting else None,
        ),
    ]


def _yearly_chart(until: int, *, live: bool = False) -> Any:
    series = services.yearly(until, live=live)
    if not series:
        return None, []
    chart = charts.column_chart(
        _("Both indicators year by year"),
        [texts.year_text(y.year) for y in series],
        [
            charts.Series(str(_l("Cooperation frameworks (O3.1)")), charts.FRAMEWORKS_FILL),
            charts.Series(
                str(_l("Engagements with victims and survivors (O3.2)")), charts.ENGAGEMENTS_FILL
            ),
        ],
        [(y.frameworks, y.engagements) for y in series],
        rtl=text_direction() == "rtl",
    )
    return chart, series


@dataclass(frozen=True)
class ShownChange:
    """One line of the restatement: which figure, published value, today's value,
    and the records that joined or left it (people only when the reader may see
    them listed)."""

    key: str
    title: str
    text: str
    kind: str
    added: list[int]
    removed: list[int]


def _restatement_lines(view: services.ReportView) -> list[ShownChange]:
    if view.restated is None:
        return []
    out = []
    for change in view.restated.changes:
        frozen, live = view.shown(change)
        kind = counting.figure_kind(counting.canonical_key(change.key, view.period))
        out.append(
            ShownChange(
                change.key,
                _figure_title(change.key),
                texts.change_text(frozen, live),
                kind,
                services.shown_ids(kind, change.added, current_user),
                services.shown_ids(kind, change.removed, current_user),
            )
        )
    return out


def _report_context(p: Period) -> dict[str, Any]:
    view = services.channel_report(p, live=_live_requested())
    sentences = texts.in_each_language(lambda: "\n".join(texts.sentences(p, view.figures)))
    chart, series = _yearly_chart(p.end.year, live=view.live)
    return {
        "period": p,
        "period_label": texts.period_label(p),
        "period_args": period_args(p),
        "view": view,
        "figures": view.figures,
        "headlines": _headlines(view),
        "rows": _figure_rows(view),
        "tables": _tables(view),
        "sentences": {lang: text.split("\n") for lang, text in sentences.items()},
        "yearly_chart": chart,
        "yearly": series,
        "breakdown_note": texts.BREAKDOWN_NOTE,
        "restatement": _restatement_lines(view),
        "suppression_note": (
            texts.suppression_note(view.figures["suppression"]["below"])
            if view.figures.get("suppressed")
            else None
        ),
        "locked_note": (
            texts.locked_note(view.locked.name, view.locked.locked_at) if view.locked else None
        ),
        "live_note": texts.live_note() if view.live else None,
        "live_url": (
            url_for("reports.index", **period_args(p), live="1")
            if view.locked and not view.live
            else None
        ),
        "frozen_url": url_for("reports.index", **period_args(p)) if view.live else None,
        "index_url": url_for(
            "reports.index", **period_args(p), **({"live": "1"} if view.live else {})
        ),
        "print_url": url_for(
            "reports.printable", **period_args(p), **({"live": "1"} if view.live else {})
        ),
        "rule_version": counting.RULE_VERSION,
        "figure_label": texts.figure_label,
        "figure_title": _figure_title,
        "year_text": texts.year_text,
        "record_url": record_url,
        "kind_of": lambda key: counting.figure_kind(counting.canonical_key(key, p)),
        "year_url": lambda key, year: records_url(key, Period.year(year)),
        "now": utcnow(),
        **_recorded_restatements(p),
    }


def _recorded_restatements(p: Period) -> dict[str, Any]:
    """The restatements confirmed for this period's record (who, when, why, which
    figures), newest first."""
    from crm.reports import restatements

    period = services.period_record(p)
    rows = []
    for item in restatements.recorded_for(period) if period else []:
        model = Framework if item.object_type == "frameworks" else Engagement
        obj = db.session.get(model, item.object_id)
        # A record outside the reader's reach shows neither its reference nor the reason.
        visible = obj is not None and obj.can_view(current_user)
        rows.append((item, visible))
    return {
        "recorded_restatements": rows,
        "restatement_figure_title": restatements.figure_title,
    }


# --- the report -------------------------------------------------------------------------------


@bp.get("/")
@require(Permission.REPORTS_VIEW)
def index() -> Any:
    """The Outcome 3 report of one period (this calendar year unless chosen)."""
    form, p = _period_from_args(request.args)
    if p is None:
        return render_template("reports/index.html", form=form, period=None), 400
    context = _report_context(p)
    lock_form = LockForm(
        start=p.start.isoformat(),
        end=p.end.isoformat(),
        name=texts.period_label(p),
    )
    existing = services.period_record(p)
    if existing is not None:
        lock_form.version.data = str(existing.version)
        lock_form.name.data = existing.name
    export_form = ExportForm(
        start=p.start.isoformat(),
        end=p.end.isoformat(),
        language=current_language(),
        live="1" if context["view"].live else "",
    )
    unlock_form = UnlockForm(version=existing.version) if existing else None
    return render_template(
        "reports/index.html",
        form=form,
        lock_form=lock_form,
        unlock_form=unlock_form,
        export_form=export_form,
        period_record=existing,
        **context,
    )


@bp.get("/print")
@require(Permission.REPORTS_VIEW)
def printable() -> Any:
    """The report laid out for paper: figures, sentences, tables and charts."""
    _form, p = _period_from_args(request.args)
    if p is None:
        abort(404)
    return render_template("reports/print.html", **_report_context(p))


# --- the records behind a number ------------------------------------------------------------

MODELS = {"framework": Framework, "engagement": Engagement, "person": Person}
RECORD_ENDPOINTS = {
    "framework": ("frameworks.view", "framework_id"),
    "engagement": ("engagements.view", "engagement_id"),
    "person": ("people.view", "person_id"),
}


def record_url(kind: str, record_id: int) -> str | None:
    endpoint, arg = RECORD_ENDPOINTS[kind]
    if endpoint not in current_app.view_functions:
        return None
    try:
        return url_for(endpoint, **{arg: record_id})
    except BuildError:
        return None


RECORD_SORTS = {
    "framework": {
        "date": SortOption(_l("Signed on"), func.coalesce(Framework.signed_on, date(1900, 1, 1))),
        "ref": SortOption(_l("Reference"), Framework.ref),
    },
    "engagement": {
        "date": SortOption(_l("Date"), Engagement.start_date),
        "ref": SortOption(_l("Reference"), Engagement.ref),
    },
    "person": {
        "date": SortOption(_l("Code"), Person.code),
        "ref": SortOption(_l("Code"), Person.code),
    },
}


@dataclass(frozen=True)
class RecordRow:
    record: Any
    visible: bool
    url: str | None
    placeholder: Any = None
    status_note: Any = None


def _record_row(kind: str, obj: Any, *, frozen_view: bool) -> RecordRow:
    note = None
    if frozen_view and getattr(obj, "archived_at", None) is not None:
        note = _l("Deleted since the period was locked")
    if obj.can_view(current_user):
        return RecordRow(obj, True, record_url(kind, obj.id), status_note=note)
    if getattr(obj, "confidential", False):
        placeholder = _l("Confidential record")
    elif getattr(obj, "archived_at", None) is not None:
        placeholder = _l("Deleted record")
    else:
        placeholder = _l("Record you may not see")
    return RecordRow(obj, False, None, placeholder, note)


@bp.get("/records")
@require(Permission.REPORTS_VIEW)
def records() -> Any:
    """The exact list of records a figure counts (the frozen list for a locked period).

    Records the reader may not see are listed as such, without their names.
    """
    key = request.args.get("figure", "")
    _form, p = _period_from_args(request.args)
    if p is None or not key:
        abort(404)
    try:
        source, locked = services.records_behind(p, key, live=_live_requested())
    except KeyError:
        abort(404)
    use_live = locked is None or _live_requested()
    kind = counting.figure_kind(counting.canonical_key(key, p))
    model = MODELS[kind]
    spec = ListSpec(
        endpoint="reports.records",
        filters=[],
        sorts=RECORD_SORTS[kind],
        default_sort="date",
    )
    view_args = {"figure": key, **period_args(p)}
    if locked is not None and use_live:
        view_args["live"] = "1"
    state = spec.from_request(request.args, **view_args)
    # Relationships load only if the page reads them: a related code that no list
    # knows any more (see the breakdowns) must not keep the list from showing.
    stmt = select(model).where(model.id.in_(source)).options(lazyload("*"))
    withheld_count = 0
    if kind == "person":
        # Counted, but not listed: people who do not consent to use in reporting
        # (everyone sees them listed but the focal point).
        withheld = services.withheld_people(current_user)
        if withheld is not None:
            withheld_count = counting.count(
                stmt.with_only_columns(model.id).where(model.id.in_(withheld))
            )
            stmt = stmt.where(model.id.not_in(withheld))
    page = state.paginate(stmt, model.id)
    rows = [_record_row(kind, obj, frozen_view=not use_live) for obj in page.items]
    label = _figure_title(key)
    return render_template(
        "reports/records.html",
        key=key,
        kind=kind,
        label=label,
        period=p,
        period_label=texts.period_label(p),
        period_args=period_args(p),
        state=state,
        page=page,
        rows=rows,
        locked=locked,
        use_live=use_live,
        withheld_note=(
            ngettext(
                "%(num)s more person is counted in this figure but not listed: they have "
                "not consented to the use of their record in reporting.",
                "%(num)s more people are counted in this figure but not listed: they have "
                "not consented to the use of their record in reporting.",
                withheld_count,
            )
            if withheld_count
            else None
        ),
        country_name=texts.country_name,
    )


def _figure_title(key: str) -> Any:
    if key in texts.FIGURE_LABELS:
        return texts.figure_label(key)
    base, _, value = key.rpartition(".")
    if base in texts.BREAKDOWN_LABELS:
        value = counting.BREAKDOWNS_BY_KEY[base].parse(value)
        return f"{texts.breakdown_label(base)}: {texts.value_label(base, value)}"
    return key


# --- exports -----------------------------------------------------------------------------------


@bp.post("/export")
@require(Permission.REPORTS_VIEW, Permission.EXPORT)
def export() -> Any:
    """Download the report (CSV, XLSX or JSON); recorded in the audit trail."""
    form = ExportForm()
    try:
        p = Period(
            date.fromisoformat(form.start.data or ""), date.fromisoformat(form.end.data or "")
        )
    except ValueError:
        abort(400)
    if not form.validate_on_submit():
        flash(_("Choose a file format and a language."), "error")
        return redirect(url_for("reports.index", **period_args(p)))
    exported = services.export_report(
        p,
        form.format.data,
        actor=current_user,
        language=form.language.data,
        live=form.live.data == "1",
    )
    from io import BytesIO

    response = send_file(
        BytesIO(exported.content),
        mimetype=exported.mimetype,
        as_attachment=True,
        download_name=exported.filename,
    )
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


# --- locking -----------------------------------------------------------------------------------


@bp.post("/lock")
@require(Permission.PERIODS_LOCK)
def lock() -> Any:
    """Freeze the figures of the period shown, and the records behind them."""
    form = LockForm()
    try:
        p = Period(
            date.fromisoformat(form.start.data or ""), date.fromisoformat(form.end.data or "")
        )
    except ValueError:
        abort(400)
    if form.validate_on_submit():
        try:
            version = _version(form.version.data)
            services.lock_period(p, actor=current_user, name=form.name.data, version=version)
        except ConflictError:
            flash(_("Someone changed this period meanwhile. Check it and try again."), "error")
        except ValidationError as exc:
            for messages in exc.errors.values():
                for message in messages:
                    flash(str(message), "error")
        else:
            flash(_("The period is locked: its figures and records are frozen."), "success")
    else:
        for messages in form.errors.values():
            for message in messages:
                flash(str(message), "error")
    return redirect(url_for("reports.index", **period_args(p)))


def _version(value: Any) -> int | None:
    """The version a form sent back; a value that is no version (tampered with, or
    from another page) is one that cannot match, so the save is a conflict."""
    if value in (None, ""):
        return None
    try:
        return int(str(value).strip())
    except ValueError:
        return -1


def _period_or_404(period_id: int) -> ReportingPeriod:
    period = db.session.get(ReportingPeriod, period_id)
    if period is None:
        abort(404)
    return period


@bp.post("/periods/<int:period_id>/unlock")
@require(Permission.PERIODS_LOCK)
def unlock(period_id: int) -> Any:
    period = _period_or_404(period_id)
    form = UnlockForm()
    p = services.as_period(period)
    if form.validate_on_submit():
        try:
            services.unlock_period(
                period,
                actor=current_user,
                reason=form.reason.data or "",
                version=_version(form.version.data) or 0,
            )
        except ConflictError:
            flash(_("Someone changed this period meanwhile. Check it and try again."), "error")
        except ValidationError as exc:
            for messages in exc.errors.values():
                for message in messages:
                    flash(str(message), "error")
        else:
            flash(_("The period is unlocked: its figures follow the data again."), "success")
    else:
        for messages in form.errors.values():
            for message in messages:
                flash(str(message), "error")
    return redirect(url_for("reports.index", **period_args(p)))


@bp.get("/periods")
@require(Permission.REPORTS_VIEW)
def periods() -> Any:
    """Named reporting periods, locked or not."""
    rows = (
        db.session.execute(
            select(ReportingPeriod)
            .order_by(ReportingPeriod.start_on.desc(), ReportingPeriod.id.desc())
            .limit(500)
        )
        .scalars()
        .all()
    )
    return render_template(
        "reports/periods.html",
        periods=rows,
        form=NewPeriodForm(),
        period_args=lambda r: period_args(services.as_period(r)),
        lock_history=services.lock_history,
    )


@bp.post("/periods")
@require(Permission.PERIODS_LOCK)
def period_new() -> Any:
    form = NewPeriodForm()
    if form.validate_on_submit():
        try:
            services.create_period(
                form.name.data, form.start.data, form.end.data, actor=current_user
            )
        except ValidationError as exc:
            exc.apply_to_form(form)
        else:
            flash(_("The period is saved."), "success")
            return redirect(url_for("reports.periods"))
    rows = (
        db.session.execute(
            select(ReportingPeriod).order_by(ReportingPeriod.start_on.desc()).limit(500)
        )
        .scalars()
        .all()
    )
    return render_template(
        "reports/periods.html",
        periods=rows,
        form=form,
        period_args=lambda r: period_args(services.as_period(r)),
        lock_history=services.lock_history,
    ), 400


# --- indicator settings --------------------------------------------------------------------------


def _setting_year(raw: Any) -> int:
    from crm.i18n import normalize_digits

    try:
        year = int(normalize_digits(str(raw or "")).strip())
    except ValueError:
        return clock.today().year
    return year if counting.MIN_YEAR <= year <= counting.MAX_YEAR else clock.today().year


@bp.route("/settings", methods=["GET", "POST"])
@require(Permission.INDICATORS_CONFIGURE)
def settings() -> Any:
    """Headline rule, baseline and target of each year.

    The form always opens on the stored values of the chosen year (this year
    unless ``?year=``), with their version: saving it unchanged changes nothing,
    and a save over values someone else changed meanwhile is a conflict.
    """
    conflict = None
    if request.method == "GET":
        year = _setting_year(request.args.get("year"))
        setting = services.setting_for(year)
        form = SettingForm(obj=setting)
        form.year.data = year
        if setting is not None:
            form.headline_rule.data = setting.headline_rule.value
            form.version.data = str(setting.version)
    else:
        form = SettingForm()
        year = form.year.data if isinstance(form.year.data, int) else None
    if form.validate_on_submit():
        existing = services.setting_for(form.year.data)
        version = _version(form.version.data)
        if existing is not None and version is None:
            version = 0  # the form was opened before these settings existed
        try:
            services.save_setting(
                form.year.data,
                {
                    "headline_rule": form.headline_rule.data,
                    "frameworks_baseline": form.frameworks_baseline.data,
                    "frameworks_target": form.frameworks_target.data,
                    "engagements_baseline": form.engagements_baseline.data,
                    "engagements_target": form.engagements_target.data,
                },
                actor=current_user,
                version=version,
            )
        except ConflictError as exc:
            conflict = exc.current
            # Saving again replaces the values shown in the notice with the form's.
            form.version.data = str(conflict.version)
        except ValidationError as exc:
            exc.apply_to_form(form)
        else:
            flash(_("The indicator settings are saved."), "success")
            return redirect(url_for("reports.settings", year=form.year.data))
    rows = (
        db.session.execute(
            select(IndicatorSetting).order_by(IndicatorSetting.year.desc()).limit(200)
        )
        .scalars()
        .all()
    )
    status = 409 if conflict else (400 if form.errors else 200)
    return render_template(
        "reports/settings.html",
        form=form,
        settings=rows,
        conflict=conflict,
        year=year or form.year.data,
        year_form_value=year or "",
        year_text=texts.year_text,
    ), status


# --- the dashboard ------------------------------------------------------------------------------


@dashboard_panel
def outcome3_panel() -> tuple[str, dict[str, Any]] | None:
    """This year's two figures to date, against the year's targets."""
    if not current_user.can(Permission.REPORTS_VIEW):
        return None
    today = clock.today()
    p = Period(date(today.year, 1, 1), today)
    rule = counting.headline_rule_for(today.year)
    frameworks = counting.count(counting.HEADLINE_IDS[rule](p))
    engagements = counting.count(counting.held_in_period_ids(p))
    setting = services.setting_for(today.year)
    return (
        "reports/_dashboard_panel.html",
        {
            "year": texts.year_text(today.year),
            "frameworks": frameworks,
            "engagements": engagements,
            "frameworks_target": setting.frameworks_target if setting else None,
            "engagements_target": setting.engagements_target if setting else None,
            "frameworks_url": records_url(f"{FRAMEWORKS}.headline", p),
            "engagements_url": records_url(f"{ENGAGEMENTS}.headline", p),
            "report_url": url_for("reports.index", kind="year", year=today.year),
            "rule": rule,
        },
    )
