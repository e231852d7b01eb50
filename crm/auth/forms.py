from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from wtforms import EmailField, HiddenField, PasswordField, RadioField, SelectField, StringField
from wtforms.validators import DataRequired, EqualTo, Length

from crm.forms import CrmForm, choices
from crm.i18n import LANGUAGE_NAMES

REQUIRED = _l("This field is required.")


class LoginForm(CrmForm):
    email = EmailField(_l("E-mail address"), validators=[DataRequired(message=REQUIRED)])
    password = PasswordField(_l("Password"), validators=[DataRequired(message=REQUIRED)])
    next = HiddenField()


class ReauthForm(CrmForm):
    password = PasswordField(_l("Password"), validators=[DataRequired(message=REQUIRED)])
    next = HiddenField()


class NewPasswordMixin:
    new_password = PasswordField(
        _l("New password"),
        validators=[DataRequired(message=REQUIRED)],
        description=_l("At least 12 characters. A few unrelated words make a strong password."),
    )
    confirm_password = PasswordField(
        _l("Repeat the new password"),
        validators=[
            DataRequired(message=REQUIRED),
            EqualTo("new_password", message=_l("The two passwords are not the same.")),
        ],
    )


class ChangePasswordForm(NewPasswordMixin, CrmForm):
    current_password = PasswordField(
        _l("Current password"), validators=[DataRequired(message=REQUIRED)]
    )


class PreferencesForm(CrmForm):
    locale = SelectField(_l("Language"), choices=choices(LANGUAGE_NAMES.items()))
    digits = RadioField(
        _l("Digits in Arabic"),
        choices=choices(
            [
                ("latn", _l("Western digits (0 1 2 3)")),
                ("arab", _l("Arabic-Indic digits (٠ ١ ٢ ٣)")),
            ]
        ),
    )
    timezone = SelectField(
        _l("Time zone"),
        description=_l(
            "Decides what “today” means for you, for example whether an engagement "
            "held today may be logged, and how times are shown."
        ),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        from crm.clock import organisation_zone, zone_names

        self.timezone.choices = choices(
            [
                (
                    "",
                    _l("The organisation's time zone (%(zone)s)", zone=str(organisation_zone())),
                ),
                *((name, name) for name in zone_names()),
            ]
        )
        if self.timezone.data is None:
            self.timezone.data = ""


class SetupForm(NewPasswordMixin, CrmForm):
    name = StringField(
        _l("Your name"), validators=[DataRequired(message=REQUIRED), Length(max=200)]
    )
    email = EmailField(_l("E-mail address"), validators=[DataRequired(message=REQUIRED)])
