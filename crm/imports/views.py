"""Import pages (upload, preview, confirm, progress, templates) and list exports."""

from __future__ import annotations

from datetime import UTC
from typing import Any

from flask import (
    Response,
    abort,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    stream_with_context,
    url_for,
)
from flask_babel import force_locale, ngettext
from flask_babel import gettext as _
from flask_login import current_user

from crm import exports
from crm.audit.services import record
from crm.db import utcnow
from crm.errors import PermissionDenied
from crm.extensions import db
from crm.i18n import current_language, format_number
from crm.imports import bp, jobs
from crm.imports.forms import ConfirmForm, ExportForm, UploadForm
from crm.imports.kinds import KINDS
from crm.imports.readers import FileProblem, sniff_format
from crm.imports.template_files import template_csv, template_xlsx
from crm.main.views import dashboard_panel
from crm.security import Permission, require

PREVIEW_PAGE = 100


@dashboard_panel
def _panel() -> tuple[str, dict[str, Any]] | None:
    """Links to the import page and the API tokens, for those who may use them."""
    panel = {
        "can_import": current_user.can(Permission.IMPORT),
        "can_tokens": current_user.can(Permission.API_TOKENS),
        "can_manage": current_user.can(Permission.USERS_MANAGE),
    }
    if not any(panel.values()):
        return None
    return "imports/_dashboard_panel.html", panel


# --- imports -----------------------------------------------------------------------


@bp.route("/imports/", methods=["GET", "POST"])
@require(Permission.IMPORT)
def index() -> Any:
    """Upload a file; nothing is written before the preview is confirmed."""
    form = UploadForm()
    if form.validate_on_submit():
        kind = KINDS[form.kind.data]
        storage = form.file.data
        head = storage.stream.read(8)
        storage.stream.seek(0)
        try:
            sniff_format(head)
        except FileProblem as exc:
            form.file.errors = [exc.message]
        else:
            if not current_user.can(kind.permission):
                form.kind.errors = [_("You may not change records of this kind.")]
            else:
                job = jobs.create_job(
                    user=current_user,
                    kind=kind.name,
                    filename=storage.filename or "",
                    stream=storage.stream,
                    language=current_language(),
                )
                jobs.start(job, current_user._get_current_object(), confirm=False)
                return redirect(url_for("imports.job", job_id=job.id))
    return render_template("imports/index.html", form=form, kinds=KINDS), (
        400 if form.errors else 200
    )


def _job_or_404(job_id: str) -> jobs.Job:
    job = jobs.load_job(job_id, current_user)
    if job is None:
        abort(404)
    return job


@bp.get("/imports/<job_id>")
@require(Permission.IMPORT)
def job(job_id: str) -> Any:
    """Progress while the file is checked or imported, then the preview or the result."""
    found = _job_or_404(job_id)
    state = found.state
    context: dict[str, Any] = {"job": found, "kind": KINDS[found.kind], "status": found.status()}
    if state in ("checking", "importing"):
        return render_template("imports/progress.html", **context)
    if state in ("ready", "invalid"):
        problems_only = request.args.get("problems") == "1"
        try:
            page = max(1, int(request.args.get("page", "1")))
        except ValueError:
            page = 1
        rows = list(
            found.preview(
                offset=(page - 1) * PREVIEW_PAGE,
                limit=PREVIEW_PAGE + 1,
                problems_only=problems_only,
            )
        )
        return render_template(
            "imports/preview.html",
            rows=rows[:PREVIEW_PAGE],
            page=page,
            more=len(rows) > PREVIEW_PAGE,
            problems_only=problems_only,
            columns=found.meta.get("columns") or [],
            confirm_form=ConfirmForm(),
            **context,
        )
    return render_template("imports/result.html", **context)


@bp.get("/imports/<job_id>/status")
@require(Permission.IMPORT)
def status(job_id: str) -> Any:
    """Progress of a job, for the page that polls it (imports.js)."""
    found = _job_or_404(job_id)
    current = found.status()
    rows = int(current.get("rows") or 0)
    estimate = current.get("estimate")
    return jsonify(
        state=current.get("state"),
        rows=rows,
        estimate=estimate,
        finished=current.get("state") in jobs.FINAL_STATES,
        text=ngettext("%(count)s row read", "%(count)s rows read", rows, count=format_number(rows)),
        url=url_for("imports.job", job_id=found.id),
    )


@bp.post("/imports/<job_id>/confirm")
@require(Permission.IMPORT)
def confirm(job_id: str) -> Any:
    found = _job_or_404(job_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    if found.state != "ready":
        flash(_("This file cannot be imported as it is: correct it and upload it again."), "error")
        return redirect(url_for("imports.job", job_id=found.id))
    result = jobs.start(found, current_user._get_current_object(), confirm=True)
    if result is not None:
        _clean_after(found)
        if result.ok:
            flash(_("The file is imported."), "success")
        else:
            flash(_("Nothing was imported: the records changed since the preview."), "error")
    return redirect(url_for("imports.job", job_id=found.id))


def _clean_after(found: jobs.Job) -> None:
    """Once imported, the upload and its preview are deleted (the summary stays
    until the job is purged)."""
    found.upload.unlink(missing_ok=True)
    found.preview_path.unlink(missing_ok=True)


@bp.post("/imports/<job_id>/cancel")
@require(Permission.IMPORT)
def cancel(job_id: str) -> Any:
    found = _job_or_404(job_id)
    if ConfirmForm().validate_on_submit() and found.state not in ("checking", "importing"):
        found.delete()
        flash(_("The upload is deleted; nothing was imported."), "info")
    return redirect(url_for("imports.index"))


@bp.get("/imports/templates/<kind>.<fmt>")
@require(Permission.IMPORT)
def template(kind: str, fmt: str) -> Any:
    """An empty file with the columns of ``kind``; the XLSX adds a help sheet
    describing every column in both languages."""
    if kind not in KINDS or fmt not in ("csv", "xlsx"):
        abort(404)
    if fmt == "csv":
        data, mimetype = template_csv(KINDS[kind]), exports.CSV_MIMETYPE
    else:
        data, mimetype = template_xlsx(KINDS[kind], current_language()), exports.XLSX_MIMETYPE
    response = Response(data, mimetype=mimetype)
    response.headers["Content-Disposition"] = exports.content_disposition(f"{kind}-template.{fmt}")
    return response


# --- exports -----------------------------------------------------------------------


def _plan_or_abort(name: str, public: bool) -> exports.ExportPlan:
    try:
        return exports.plan_export(name, request.args, current_user, public=public)
    except exports.NotExportable:
        abort(404)
    except PermissionDenied:
        abort(403)


def _chips(plan: exports.ExportPlan) -> list[str]:
    from crm.listing import ListSpec

    specs: dict[str, Any] = {}
    try:
        from crm.engagements.views import ENGAGEMENT_LIST
        from crm.frameworks.views import FRAMEWORK_LIST
        from crm.partners.views import PARTNER_LIST

        specs = {
            "partners": PARTNER_LIST,
            "contacts": PARTNER_LIST,
            "frameworks": FRAMEWORK_LIST,
            "engagements": ENGAGEMENT_LIST,
        }
    except ImportError:
        return []
    if plan.list.name == "report":
        # The figure's name and the period in the reader's language, as the records
        # page titles them (not the figure's key and ISO dates).
        from crm.reports import texts
        from crm.reports.counting import Period
        from crm.reports.views import _figure_title

        figure = plan.filters
        period = Period(figure["from"], figure["to"])
        return [f"{_figure_title(figure['figure'])}: {texts.period_label(period)}"]
    spec: ListSpec | None = specs.get(plan.list.name)
    if spec is None:
        return []
    return [chip.label for chip in spec.from_request(request.args).chips()]


def _list_url(plan: exports.ExportPlan) -> str | None:
    args = {k: v for k, v in request.args.items(multi=True) if k not in ("public",)}
    try:
        return url_for(plan.list.list_endpoint, **args)
    except Exception:  # an area that is not installed
        return None


@bp.route("/exports/<name>", methods=["GET", "POST"])
@require(Permission.EXPORT)
def export(name: str) -> Any:
    """Export a list as it is filtered (its filters are this page's address).

    Files with personal data or confidential records need the right permission,
    a purpose and a password confirmed in the last minutes; every export is
    recorded in the audit trail with its filter, row count and SHA-256.
    """
    form = ExportForm()
    public = (
        bool(form.public.data) if request.method == "POST" else request.args.get("public") == "1"
    )
    plan = _plan_or_abort(name, public)
    if plan.sensitive:
        from crm.auth.services import recently_authenticated

        if not recently_authenticated():
            back = url_for("imports.export", name=name, **request.args.to_dict(flat=False))
            return redirect(url_for("auth.reauthenticate", next=back))
    if request.method == "POST" and form.validate_on_submit():
        if plan.sensitive and not form.purpose.data:
            form.purpose.errors = [_("Say why this file is needed.")]
        else:
            fmt = form.format.data
            purpose = form.purpose.data or None
            return _export_file(plan, fmt, purpose)
    return render_template(
        "imports/export.html",
        plan=plan,
        form=form,
        count=exports.count_rows(plan),
        chips=_chips(plan),
        list_url=_list_url(plan),
    ), (400 if form.errors else 200)


def _about(
    plan: exports.ExportPlan, purpose: str | None, when: Any, count: int
) -> list[tuple[str, Any]]:
    purpose_label = exports.ExportPurpose(purpose).label if purpose else _("Not given")
    filters = ", ".join(str(c) for c in _chips(plan)) or _("None")
    return [
        (_("Exported by"), f"{current_user.name} <{current_user.email}>"),
        (_("Exported on (UTC)"), when.strftime("%Y-%m-%d %H:%M:%S")),
        (_("List"), str(plan.list.label)),
        (_("Filters"), filters),
        (_("Purpose"), str(purpose_label)),
        (_("For publication"), _("Yes") if plan.public else _("No")),
        (_("Rows"), count),
        (
            _("Handling"),
            _(
                "This file comes from a system that holds personal data. Keep it only as "
                "long as the purpose needs, and do not share it further."
            ),
        ),
    ]


def _export_file(plan: exports.ExportPlan, fmt: str, purpose: str | None) -> Any:
    actor = current_user._get_current_object()
    language = current_language()
    when = utcnow()
    filename = exports.export_filename(plan, actor, fmt, when)
    details = {
        "list": plan.list.name,
        "records": plan.kind.name,
        "format": fmt,
        "filters": exports.audit_filters(plan.filters),
        "purpose": purpose,
        "public": plan.public,
        "confidential": plan.confidential,
        "personal": plan.personal,
        "language": language,
    }
    if fmt == "xlsx":
        return _export_xlsx(plan, actor, language, when, filename, details, purpose)
    return _export_csv(plan, actor, language, filename, details)


def _export_xlsx(
    plan: exports.ExportPlan,
    actor: Any,
    language: str,
    when: Any,
    filename: str,
    details: dict[str, Any],
    purpose: str | None,
) -> Any:
    path = exports.temporary_path(".xlsx")
    who = f"{actor.name} <{actor.email}>"
    try:
        with force_locale(language):
            about_title = _("About")
            title = str(plan.list.label)
            rows = exports.write_xlsx(
                path,
                sheet_title=str(plan.kind.sheet),
                header=exports.header_row(plan, language),
                rows=exports.iter_rows(plan, actor, language, release_locks=True),
                right_to_left=language == "ar",
                about_rows=lambda count: _about(plan, purpose, when, count),
                about_title=about_title,
                properties={
                    "creator": who,
                    "lastModifiedBy": who,
                    "created": when.astimezone(UTC).replace(tzinfo=None),
                    "modified": when.astimezone(UTC).replace(tzinfo=None),
                    "title": title,
                    "description": _(
                        "Exported by %(name)s on %(when)s (UTC).",
                        name=who,
                        when=when.strftime("%Y-%m-%d %H:%M"),
                    ),
                },
            )
        digest = exports.sha256_of(path)
        record(
            "export",
            actor=actor,
            object_type=plan.kind.name,
            details={**details, "rows": rows, "sha256": digest, "file": filename},
        )
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    response = Response(
        exports.file_chunks(path), mimetype=exports.XLSX_MIMETYPE, direct_passthrough=True
    )
    response.headers["Content-Disposition"] = exports.content_disposition(filename)
    response.headers["Content-Length"] = str(path.stat().st_size)
    response.call_on_close(lambda: path.unlink(missing_ok=True))
    return response


def _export_csv(
    plan: exports.ExportPlan, actor: Any, language: str, filename: str, details: dict[str, Any]
) -> Any:
    # The start is recorded with the request, before the first byte goes out; the
    # row count and the hash when the last one has (or what was sent, if the
    # download stops half way).
    started = record(
        "export.start",
        actor=actor,
        object_type=plan.kind.name,
        details={**details, "file": filename},
    )
    started_id = started.id
    header = exports.header_row(plan, language)
    finished = {"done": False, "rows": 0}

    def done(rows: int, digest: str) -> None:
        record(
            "export",
            actor=actor,
            object_type=plan.kind.name,
            details={
                **details,
                "rows": rows,
                "sha256": digest,
                "file": filename,
                "start": started_id,
            },
        )
        db.session.commit()
        finished["done"] = True

    def counted() -> Any:
        for row in exports.iter_rows(plan, actor, language, release_locks=True):
            finished["rows"] += 1
            yield row

    def body() -> Any:
        try:
            yield from exports.csv_chunks(header, counted(), on_done=done)
        finally:
            if not finished["done"]:
                try:
                    record(
                        "export.incomplete",
                        actor=actor,
                        object_type=plan.kind.name,
                        details={"start": started_id, "rows": finished["rows"]},
                    )
                    db.session.commit()
                except Exception:
                    db.session.rollback()

    response = Response(stream_with_context(body()), mimetype=exports.CSV_MIMETYPE)
    response.headers["Content-Disposition"] = exports.content_disposition(filename)
    # A proxy must pass the stream on as it comes, not gather it first.
    response.headers["X-Accel-Buffering"] = "no"
    return response
