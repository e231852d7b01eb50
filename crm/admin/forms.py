from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, EmailField, PasswordField, SelectField, StringField
from wtforms.validators import DataRequired, EqualTo, Length

from crm.auth.forms import REQUIRED
from crm.codes import Role
from crm.forms import CrmForm, choices
from crm.i18n import LANGUAGE_NAMES


class UserForm(CrmForm):
    name = StringField(_l("Name"), validators=[DataRequired(message=REQUIRED), Length(max=200)])
    email = EmailField(_l("E-mail address"), validators=[DataRequired(message=REQUIRED)])
    role = SelectField(
        _l("Role"),
        choices=Role.choices(),
        description=_l(
            "Only the focal point sees identities of victims and survivors; the "
            "administrator manages accounts and never sees them."
        ),
    )
    locale = SelectField(_l("Language"), choices=choices(LANGUAGE_NAMES.items()))
    active = BooleanField(_l("Account active"), default=True)


class NewUserForm(UserForm):
    password = PasswordField(
        _l("Initial password"),
        validators=[DataRequired(message=REQUIRED)],
        description=_l("At least 12 characters. Give it to the person by a safe channel."),
    )


class ResetPasswordForm(CrmForm):
    password = PasswordField(_l("New password"), validators=[DataRequired(message=REQUIRED)])
    confirm = PasswordField(
        _l("Repeat the new password"),
        validators=[
            DataRequired(message=REQUIRED),
            EqualTo("password", message=_l("The two passwords are not the same.")),
        ],
    )


class ConfirmForm(CrmForm):
    """A bare POST with its CSRF token, for buttons such as "end all sessions"."""
