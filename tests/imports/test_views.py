"""The import pages: upload, preview with marked cells, confirm, progress, templates."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from crm.audit.models import AuditEntry
from crm.codes import Role
from crm.imports import jobs
from crm.partners.models import Partner
from tests.fixtures.imports import csv_bytes

HEADER = ["ref", "name_en", "name_ar", "type"]
GOOD = [["P-WEB-1", "Women Now", "", "syrian_cso"], ["P-WEB-2", "", "رابطة عائلات", "media"]]
BAD = [*GOOD, ["P-WEB-3", "Bad", "", "ngo"]]


def upload(client, rows=GOOD, kind="partners", name="partners.csv", data=None):
    body = data if data is not None else csv_bytes(HEADER, rows, bom=True)
    return client.post(
        "/imports/",
        data={"kind": kind, "file": (io.BytesIO(body), name)},
        content_type="multipart/form-data",
    )


def count(db):
    return db.session.execute(select(func.count()).select_from(Partner)).scalar_one()


def job_id(response):
    return response.headers["Location"].rsplit("/", 1)[-1]


@pytest.mark.parametrize("role", list(Role))
def test_the_import_page_is_for_roles_that_may_import(client, login_as, role):
    login_as(role)
    response = client.get("/imports/")
    if role in (Role.VIEWER, Role.REPORTING):
        assert response.status_code == 403
    else:
        assert response.status_code == 200
        assert "Upload a file" in response.text


def test_anonymous_users_are_sent_to_sign_in(client):
    assert "/login" in client.get("/imports/").headers["Location"]


def test_upload_preview_then_confirm(db, client, login_as, app):
    user = login_as(Role.OUTREACH)
    response = upload(client)
    assert response.status_code == 302
    job = job_id(response)
    assert count(db) == 0  # nothing before the confirmation
    folder = Path(app.instance_path) / "imports" / job
    assert (folder / "upload").exists()
    assert "P-WEB-1" not in (response.headers.get("Set-Cookie") or "")

    preview = client.get(f"/imports/{job}")
    assert preview.status_code == 200
    assert "Check before importing" in preview.text
    assert "P-WEB-1" in preview.text and "رابطة عائلات" in preview.text
    assert preview.text.count(">New<") == 2
    assert "Import 2 records" in preview.text

    done = client.post(f"/imports/{job}/confirm")
    assert done.status_code == 302
    assert count(db) == 2
    assert (
        db.session.execute(
            select(func.count())
            .select_from(AuditEntry)
            .where(AuditEntry.action == "partner.create", AuditEntry.actor_id == user.id)
        ).scalar_one()
        == 2
    )
    result = client.get(f"/imports/{job}")
    assert "Every row is imported." in result.text
    assert not (folder / "upload").exists()
    assert not (folder / "preview.jsonl").exists()


def test_bad_cells_are_marked_and_nothing_can_be_imported(db, client, login_as):
    login_as(Role.OUTREACH)
    job = job_id(upload(client, BAD))
    preview = client.get(f"/imports/{job}")
    assert "cell--error" in preview.text
    assert "“ngo” is not one of" in preview.text
    assert "Nothing will be imported" in preview.text
    assert "/confirm" not in preview.text
    only = client.get(f"/imports/{job}?problems=1")
    assert "P-WEB-3" in only.text and "P-WEB-1" not in only.text
    refused = client.post(f"/imports/{job}/confirm")
    assert refused.status_code == 302
    assert count(db) == 0


def test_an_update_shows_the_changed_cells(db, client, login_as, make_partner):
    make_partner(ref="P-WEB-1", name_en="Old name", type="syrian_cso")
    db.session.commit()
    login_as(Role.OUTREACH)
    job = job_id(upload(client))
    preview = client.get(f"/imports/{job}")
    assert ">Update<" in preview.text
    assert "cell--changed" in preview.text


def test_the_preview_in_arabic(db, client, login_as):
    login_as(Role.OUTREACH, locale="ar")
    client.set_language("ar")
    job = job_id(upload(client, BAD))
    preview = client.get(f"/imports/{job}")
    assert 'dir="rtl"' in preview.text
    assert "تحقق قبل الاستيراد" in preview.text


def test_a_file_that_is_not_a_table_is_refused_at_upload(db, client, login_as, app):
    login_as(Role.OUTREACH)
    response = upload(client, data=b"%PDF-1.7 not a table", name="partners.csv")
    assert response.status_code == 400
    assert "neither a CSV nor an XLSX" in response.text


def test_someone_elses_import_is_not_found(db, client, login_as, make_user):
    login_as(Role.OUTREACH)
    job = job_id(upload(client))
    login_as(Role.OUTREACH)  # another officer in the same browser
    for url in (f"/imports/{job}", f"/imports/{job}/status"):
        assert client.get(url).status_code == 404
    assert client.post(f"/imports/{job}/confirm").status_code == 404
    assert client.get("/imports/not-a-job").status_code == 404


def test_cancel_deletes_the_upload(db, client, login_as, app):
    login_as(Role.OUTREACH)
    job = job_id(upload(client))
    client.post(f"/imports/{job}/cancel")
    assert not (Path(app.instance_path) / "imports" / job).exists()
    assert client.get(f"/imports/{job}").status_code == 404


def test_the_status_endpoint_reports_progress(db, client, login_as):
    login_as(Role.OUTREACH)
    job = job_id(upload(client))
    status = client.get(f"/imports/{job}/status").get_json()
    assert status["state"] == "ready"
    assert status["finished"] is True
    assert status["rows"] == 2
    assert status["url"].endswith(f"/imports/{job}")


def test_large_files_run_in_the_background_with_a_progress_page(
    db, client, login_as, app, monkeypatch
):
    started = []

    class Thread:  # runs when the test says so, as a worker thread would
        def __init__(self, target, args, **_kw):
            started.append((target, args))

        def start(self):
            pass

    monkeypatch.setattr(jobs.threading, "Thread", Thread)
    app.config["IMPORT_BACKGROUND_BYTES"] = 0
    try:
        login_as(Role.OUTREACH)
        job = job_id(upload(client))
        page = client.get(f"/imports/{job}")
        assert "data-import-status" in page.text
        assert "js/imports.js" in page.text
        assert '<meta http-equiv="refresh"' in page.text
        assert client.get(f"/imports/{job}/status").get_json()["finished"] is False
        target, args = started.pop()
        target(*args)  # the check, in its own application context
        assert client.get(f"/imports/{job}/status").get_json()["state"] == "ready"
        client.post(f"/imports/{job}/confirm")
        target, args = started.pop()
        target(*args)
        assert client.get(f"/imports/{job}/status").get_json()["state"] == "done"
    finally:
        del app.config["IMPORT_BACKGROUND_BYTES"]
    assert count(db) == 2


def test_old_uploads_are_purged(app, db, client, login_as):
    import os
    import time

    login_as(Role.OUTREACH)
    job = job_id(upload(client))
    folder = Path(app.instance_path) / "imports" / job
    old = time.time() - 2 * 24 * 3600
    os.utime(folder, (old, old))
    jobs.purge_old_jobs()
    assert not folder.exists()


def test_confirm_needs_the_csrf_token(db, client, login_as, csrf):
    login_as(Role.OUTREACH)
    page = client.get("/imports/")
    from tests.conftest import csrf_token

    token = csrf_token(page.text)
    response = client.post(
        "/imports/",
        data={
            "kind": "partners",
            "csrf_token": token,
            "file": (io.BytesIO(csv_bytes(HEADER, GOOD)), "p.csv"),
        },
        content_type="multipart/form-data",
    )
    job = job_id(response)
    assert client.post(f"/imports/{job}/confirm").status_code == 400
    assert count(db) == 0


@pytest.mark.parametrize("language", ["en", "ar"])
def test_templates_name_every_column_and_explain_them_in_both_languages(client, login_as, language):
    login_as(Role.OUTREACH, locale=language)
    client.set_language(language)
    csv_file = client.get("/imports/templates/engagements.csv")
    assert csv_file.headers["Content-Disposition"].startswith("attachment;")
    assert csv_file.data.startswith(b"\xef\xbb\xbfref,title_en,title_ar,category,")
    xlsx = client.get("/imports/templates/engagements.xlsx")
    book = load_workbook(io.BytesIO(xlsx.data), read_only=True)
    help_title = "مساعدة" if language == "ar" else "Help"
    assert book.sheetnames == ["engagements", help_title]
    header = next(book["engagements"].iter_rows(values_only=True))
    assert header[:3] == ("ref", "title_en", "title_ar")
    rows = list(book[help_title].iter_rows(values_only=True))
    by_column = {r[0]: r for r in rows[1:]}
    assert by_column["start_date"][1] == "Start date"
    assert by_column["start_date"][2] == "تاريخ البدء"
    assert "victims_survivors = Victims and survivors" in by_column["category"][7]
    assert client.get("/imports/templates/people.csv").status_code == 404


@pytest.mark.parametrize("role", list(Role))
def test_the_home_page_links_to_imports_and_tokens_for_those_who_may(client, login_as, role):
    login_as(role)
    page = client.get("/").text
    assert ('href="/imports/"' in page) == (role not in (Role.VIEWER, Role.REPORTING))
    assert ('href="/account/api-tokens"' in page) == (role != Role.VIEWER)


def test_an_upload_over_the_size_limit_is_refused_and_leaves_nothing(db, client, login_as, app):
    login_as(Role.OUTREACH)
    folder = Path(app.instance_path) / "imports"
    before = set(folder.iterdir()) if folder.exists() else set()
    saved = app.config["MAX_CONTENT_LENGTH"]
    app.config["MAX_CONTENT_LENGTH"] = 1024
    try:
        response = upload(client, [[f"P-{i}", "Name " * 20, "", "media"] for i in range(50)])
    finally:
        app.config["MAX_CONTENT_LENGTH"] = saved
    assert response.status_code == 413
    after = set(folder.iterdir()) if folder.exists() else set()
    assert after == before
