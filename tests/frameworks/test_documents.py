"""Signed documents: content-checked, size-limited, stored out of reach, clean on the way out."""

from __future__ import annotations

import hashlib
import io
import zipfile
from pathlib import Path

import pytest
from PIL import Image, PngImagePlugin
from werkzeug.datastructures import FileStorage

from crm.codes import Role
from crm.errors import PermissionDenied, ValidationError
from crm.frameworks import services as svc

PDF = b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


def docx_bytes() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", "<w:document/>")
    return out.getvalue()


def jpeg_with_gps() -> bytes:
    image = Image.new("RGB", (40, 30), (200, 30, 30))
    exif = Image.Exif()
    exif[0x010F] = "SpyCam Maker"  # Make
    exif[0x013B] = "Secret Photographer"  # Artist
    exif[0x8825] = {1: "N", 2: (36.0, 12.0, 5.0), 3: "E", 4: (37.0, 9.0, 1.0)}  # GPS
    out = io.BytesIO()
    image.save(out, format="JPEG", exif=exif)
    return out.getvalue()


def png_with_text() -> bytes:
    image = Image.new("RGBA", (20, 20), (0, 0, 255, 128))
    info = PngImagePlugin.PngInfo()
    info.add_text("Author", "Secret Photographer")
    out = io.BytesIO()
    image.save(out, format="PNG", pnginfo=info)
    return out.getvalue()


def upload(data: bytes, name: str) -> FileStorage:
    return FileStorage(
        stream=io.BytesIO(data), filename=name, content_type="application/octet-stream"
    )


def stored_files(app) -> set[str]:
    folder = Path(app.instance_path) / "uploads"
    return {p.name for p in folder.iterdir()} if folder.exists() else set()


def test_a_pdf_is_stored_under_a_random_name_with_its_hash(app, make_framework, records_admin):
    framework = make_framework()
    document = svc.add_document(
        framework, upload(PDF, "../../etc/MoU signed.pdf"), actor=records_admin
    )
    path = svc.document_path(document)
    assert path.read_bytes() == PDF
    assert path.parent == Path(app.instance_path) / "uploads"
    assert not str(path).startswith(app.static_folder)
    assert len(document.stored_name) == 64 and "MoU" not in document.stored_name
    assert document.sha256 == hashlib.sha256(PDF).hexdigest()
    assert document.content_type == "application/pdf"
    assert document.original_name == "MoU signed.pdf"
    assert path.stat().st_mode & 0o077 == 0


def test_docx_is_recognised_by_its_content(make_framework, records_admin):
    document = svc.add_document(
        make_framework(), upload(docx_bytes(), "contract"), actor=records_admin
    )
    assert document.original_name == "contract.docx"
    assert document.content_type.endswith("wordprocessingml.document")


@pytest.mark.parametrize(
    ("data", "name"),
    [
        (b"MZ\x90\x00 a windows program", "signed.pdf"),
        (b"<html><script>alert(1)</script></html>", "page.png"),
        (b"PK\x03\x04 not really a zip", "doc.docx"),
        (b"", "empty.pdf"),
    ],
)
def test_refused_files_leave_nothing_behind(app, make_framework, records_admin, data, name):
    framework = make_framework()
    before = stored_files(app)
    with pytest.raises(ValidationError) as caught:
        svc.add_document(framework, upload(data, name), actor=records_admin)
    assert "document" in caught.value.errors
    assert stored_files(app) == before
    assert svc.active_documents(framework) == []


def test_a_zip_that_is_not_a_word_document_is_refused(make_framework, records_admin):
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("payload.exe", "x")
    with pytest.raises(ValidationError):
        svc.add_document(make_framework(), upload(out.getvalue(), "x.docx"), actor=records_admin)


def test_oversize_is_refused_in_the_service(app, make_framework, records_admin):
    framework = make_framework()
    before = stored_files(app)
    app.config["MAX_UPLOAD_MB"] = 1
    try:
        with pytest.raises(ValidationError) as caught:
            svc.add_document(
                framework, upload(PDF + b"0" * (1024 * 1024), "big.pdf"), actor=records_admin
            )
    finally:
        app.config["MAX_UPLOAD_MB"] = 20
    from flask_babel import force_locale

    with force_locale("en"):
        assert str(caught.value.errors["document"][0]) == "The file is larger than 1 MB."
    with force_locale("ar"):
        assert str(caught.value.errors["document"][0]) == "حجم الملف أكبر من 1 ميغابايت."
    assert stored_files(app) == before


def test_oversize_upload_answers_413_and_leaves_no_file(app, client, login_as, make_framework):
    framework = make_framework()
    login_as(Role.OUTREACH)
    before = stored_files(app)
    limit = app.config["MAX_CONTENT_LENGTH"]
    app.config["MAX_CONTENT_LENGTH"] = 64 * 1024
    try:
        response = client.post(
            f"/frameworks/{framework.id}/documents",
            data={"document": (io.BytesIO(PDF + b"0" * (128 * 1024)), "big.pdf")},
            content_type="multipart/form-data",
        )
    finally:
        app.config["MAX_CONTENT_LENGTH"] = limit
    assert response.status_code == 413
    assert stored_files(app) == before


def test_exif_and_gps_are_stripped_from_jpeg(make_framework, records_admin):
    original = jpeg_with_gps()
    assert b"SpyCam" in original
    document = svc.add_document(
        make_framework(), upload(original, "photo.jpeg"), actor=records_admin
    )
    stored = svc.document_path(document).read_bytes()
    assert b"SpyCam" not in stored and b"Secret Photographer" not in stored
    with Image.open(io.BytesIO(stored)) as image:
        assert image.format == "JPEG" and image.size == (40, 30)
        assert dict(image.getexif()) == {}
        assert "exif" not in image.info
    assert document.original_name == "photo.jpg"
    assert document.sha256 == hashlib.sha256(stored).hexdigest()


def test_text_chunks_are_stripped_from_png(make_framework, records_admin):
    document = svc.add_document(
        make_framework(), upload(png_with_text(), "scan.png"), actor=records_admin
    )
    stored = svc.document_path(document).read_bytes()
    assert b"Secret Photographer" not in stored
    with Image.open(io.BytesIO(stored)) as image:
        assert image.mode == "RGBA" and image.getpixel((1, 1)) == (0, 0, 255, 128)


def test_a_broken_image_is_refused(app, make_framework, records_admin):
    before = stored_files(app)
    with pytest.raises(ValidationError):
        svc.add_document(
            make_framework(),
            upload(b"\x89PNG\r\n\x1a\n" + b"garbage" * 10, "x.png"),
            actor=records_admin,
        )
    assert stored_files(app) == before


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("../../secret/MoU.pdf", "MoU.pdf"),
        ("C:\\Users\\a\\MoU.pdf", "MoU.pdf"),
        ("invoice\u202egpj.exe", "invoicegpj.pdf"),
        ("\u2066evil\u2069 name\x00.pdf", "evil name.pdf"),
        ('a"b;c.pdf', "a_b_c.pdf"),
        ("....pdf", "document.pdf"),
        ("", "document.pdf"),
        ("مذكرة تفاهم.pdf", "مذكرة تفاهم.pdf"),
    ],
)
def test_file_names_are_sanitised(given, expected):
    assert svc.safe_filename(given, "pdf") == expected


def test_roles_that_cannot_edit_cannot_attach(make_framework, make_user):
    framework = make_framework()
    for role in (Role.REPORTING, Role.VIEWER):
        with pytest.raises(PermissionDenied):
            svc.add_document(framework, upload(PDF, "x.pdf"), actor=make_user(role=role))


# --- through the pages ------------------------------------------------------------


def test_upload_and_download_with_safe_headers(client, login_as, make_framework):
    framework = make_framework()
    login_as(Role.OUTREACH)
    response = client.post(
        f"/frameworks/{framework.id}/documents",
        data={"document": (io.BytesIO(PDF), "\u202eمذكرة\u202c موقعة.pdf")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 302
    (document,) = svc.active_documents(framework)
    page = client.get(f"/frameworks/{framework.id}")
    assert "مذكرة موقعة.pdf" in page.text and "The document is attached." in page.text
    download = client.get(f"/frameworks/{framework.id}/documents/{document.id}")
    assert download.status_code == 200
    assert download.data == PDF
    disposition = download.headers["Content-Disposition"]
    assert disposition.startswith("attachment;")
    assert "filename*=UTF-8''" in disposition
    assert "\u202e" not in disposition and "%E2%80%AE" not in disposition.upper()
    assert download.headers["X-Content-Type-Options"] == "nosniff"
    assert download.headers["Content-Type"] == "application/pdf"
    assert "no-store" in download.headers["Cache-Control"]
    download.close()


def test_upload_refusal_is_shown_in_the_users_language(app, client, login_as, make_framework):
    framework = make_framework()
    login_as(Role.OUTREACH, locale="ar")
    before = stored_files(app)
    response = client.post(
        f"/frameworks/{framework.id}/documents",
        data={"document": (io.BytesIO(b"GIF89a fake"), "x.pdf")},
        content_type="multipart/form-data",
        follow_redirects=True,
    )
    assert "أرفق ملف PDF أو مستند Word (DOCX) أو صورة PNG أو JPEG." in response.text
    assert stored_files(app) == before


def test_download_follows_the_frameworks_visibility(
    client, login_as, make_framework, records_admin
):
    secret = make_framework(confidential=True)
    shown = make_framework()
    secret_doc = svc.add_document(secret, upload(PDF, "s.pdf"), actor=records_admin)
    shown_doc = svc.add_document(shown, upload(PDF, "o.pdf"), actor=records_admin)
    login_as(Role.VIEWER)
    assert client.get(f"/frameworks/{secret.id}/documents/{secret_doc.id}").status_code == 404
    with client.get(f"/frameworks/{shown.id}/documents/{shown_doc.id}") as download:
        assert download.status_code == 200 and download.data == PDF
    # A document is only reachable through its own framework.
    assert client.get(f"/frameworks/{shown.id}/documents/{secret_doc.id}").status_code == 404
    # Viewers cannot attach or remove.
    assert client.post(f"/frameworks/{shown.id}/documents", data={}).status_code == 403
    assert client.post(f"/frameworks/{shown.id}/documents/{shown_doc.id}/remove").status_code == 403


def test_uploads_are_not_served_as_static_files(client, login_as, make_framework, records_admin):
    document = svc.add_document(make_framework(), upload(PDF, "s.pdf"), actor=records_admin)
    login_as(Role.ADMIN)
    assert client.get(f"/static/{document.stored_name}").status_code == 404
    assert client.get(f"/static/../instance/uploads/{document.stored_name}").status_code == 404


def test_remove_a_document(client, login_as, make_framework, records_admin):
    framework = make_framework()
    document = svc.add_document(framework, upload(PDF, "s.pdf"), actor=records_admin)
    login_as(Role.FOCAL_POINT)
    assert (
        client.post(f"/frameworks/{framework.id}/documents/{document.id}/remove").status_code == 302
    )
    assert document.removed_at is not None
    assert svc.document_path(document).exists()  # kept: nothing is deleted from the interface
    assert client.get(f"/frameworks/{framework.id}/documents/{document.id}").status_code == 404
    assert "Document removed" in client.get(f"/frameworks/{framework.id}").text


def test_a_rolled_back_upload_leaves_no_file(app, db, make_framework, records_admin):
    framework = make_framework()
    db.session.commit()  # the framework stays; only the upload is undone
    before = stored_files(app)
    document = svc.add_document(framework, upload(PDF, "s.pdf"), actor=records_admin)
    assert svc.document_path(document).exists()
    db.session.rollback()
    assert stored_files(app) == before
