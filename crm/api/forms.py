"""Forms of the API token pages."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import RadioField, SelectField, StringField
from wtforms.validators import DataRequired, Length, Optional

from crm.forms import CrmForm, LocalDateField, choices

REQUIRED = _l("This field is required.")


def scope_choices() -> list:
    return choices(
        [
            ("read", _l("Read only: figures, partners, frameworks and engagements")),
            ("read_write", _l("Read and write: also record and change engagements")),
        ]
    )


class TokenForm(CrmForm):
    name = StringField(
        _l("Name"),
        validators=[DataRequired(message=REQUIRED), Length(max=100)],
        description=_l("What uses the token, e.g. “dashboard script”."),
    )
    scope = RadioField(_l("Access"), choices=scope_choices, default="read")
    expires_on = LocalDateField(
        _l("Expires on"),
        validators=[Optional()],
        description=_l(
            "YYYY-MM-DD, at most two years ahead. Empty: the token lasts until it is revoked."
        ),
    )


class AdminTokenForm(TokenForm):
    user_id = SelectField(_l("Account"), coerce=int, validators=[DataRequired(message=REQUIRED)])


class RevokeForm(CrmForm):
    """A bare POST with its CSRF token."""
