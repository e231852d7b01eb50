"""Forms of the import and export pages."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField, FileRequired
from wtforms import BooleanField, RadioField, SelectField
from wtforms.validators import DataRequired

from crm.forms import CrmForm, choices

REQUIRED = _l("This field is required.")


def kind_choices() -> list:
    return choices(
        [
            ("partners", _l("Partners")),
            ("frameworks", _l("Cooperation frameworks")),
            ("engagements", _l("Engagements")),
        ]
    )


class UploadForm(CrmForm):
    kind = SelectField(
        _l("What the file holds"),
        choices=kind_choices,
        validators=[DataRequired(message=REQUIRED)],
    )
    file = FileField(
        _l("File"),
        validators=[FileRequired(message=_l("Choose a CSV or XLSX file."))],
        description=_l(
            "CSV (UTF-8) or XLSX, with one header row naming the columns. "
            "Nothing is written before you confirm."
        ),
    )


class ConfirmForm(CrmForm):
    """A bare POST with its CSRF token (confirm, cancel)."""


class ExportForm(CrmForm):
    format = RadioField(
        _l("Format"),
        choices=lambda: choices(
            [("csv", _l("CSV (UTF-8)")), ("xlsx", _l("Excel workbook (XLSX)"))]
        ),
        default="xlsx",
        validators=[DataRequired(message=REQUIRED)],
    )
    purpose = SelectField(
        _l("Purpose"),
        choices=lambda: purpose_choices(),
        description=_l("Why this file is needed: it is recorded with the export."),
    )
    public = BooleanField(
        _l("For publication outside the Mechanism"),
        description=_l(
            "Partners who must not be named publicly are described instead of named, and "
            "confidential records and contact details are left out."
        ),
    )


def purpose_choices() -> list:
    from crm.exports import ExportPurpose

    return choices([("", _l("Choose a purpose")), *((p.value, p.label) for p in ExportPurpose)])
