"""Language: which locale a request uses, the switch, and how values are formatted.

The locale comes from the signed-in user's saved choice, then the session, then the
browser's Accept-Language, then the configured default. Arabic is formatted with
Syrian conventions (CLDR ``ar_SY``: كانون الثاني … كانون الأول), in Western or
Arabic-Indic digits as the user prefers.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from babel import dates as babel_dates
from babel import numbers as babel_numbers
from flask import Blueprint, Flask, current_app, has_request_context, redirect, request, session
from flask_babel import get_locale
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import HiddenField, SelectField

from crm.extensions import babel
from crm.security import public, safe_next

LANGUAGE_NAMES = {"ar": "العربية", "en": "English"}
RTL_LANGUAGES = frozenset({"ar"})
# Formatting conventions per interface language.
FORMAT_LOCALES = {"ar": "ar_SY", "en": "en_GB"}
DIGIT_CHOICES = ("latn", "arab")

_EASTERN_DIGITS = str.maketrans("٠١٢٣٤٥٦٧٨٩۰۱۲۳۴۵۶۷۸۹", "01234567890123456789")
_TO_EASTERN = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")


def normalize_digits(text: str) -> str:
    """Arabic-Indic and Persian digits become ASCII digits (input accepts both)."""
    return text.translate(_EASTERN_DIGITS)


def languages() -> tuple[str, ...]:
    return tuple(current_app.config["LANGUAGES"])


def select_locale() -> str:
    supported = languages()
    if current_user and getattr(current_user, "is_authenticated", False):
        saved = getattr(current_user, "locale", None)
        if saved in supported:
            return saved
    chosen = session.get("locale")
    if chosen in supported:
        return chosen
    best = request.accept_languages.best_match(supported)
    return best or current_app.config["BABEL_DEFAULT_LOCALE"]


def current_language() -> str:
    try:
        locale = get_locale()
    except RuntimeError:  # outside a request and outside force_locale()
        locale = None
    return str(locale or current_app.config["BABEL_DEFAULT_LOCALE"]).split("_")[0]


def text_direction(language: str | None = None) -> str:
    return "rtl" if (language or current_language()) in RTL_LANGUAGES else "ltr"


def digit_preference() -> str:
    if has_request_context():
        if current_user and getattr(current_user, "is_authenticated", False):
            return getattr(current_user, "digits", "latn") or "latn"
        return session.get("digits", "latn")
    return "latn"


def _format_locale() -> str:
    return FORMAT_LOCALES.get(current_language(), current_language())


def _digits(text: str) -> str:
    if current_language() == "ar" and digit_preference() == "arab":
        return text.translate(_TO_EASTERN)
    return text


def format_number(value: int | float | Decimal | None, *, digits: int | None = None) -> str:
    if value is None:
        return ""
    system = "arab" if current_language() == "ar" and digit_preference() == "arab" else "latn"
    fmt = None if digits is None else "#,##0." + "0" * digits if digits else "#,##0"
    # Babel gives the numbering system's separators but always Western digits.
    return _digits(
        babel_numbers.format_decimal(
            value, format=fmt, locale=_format_locale(), numbering_system=system
        )
    )


def format_percent(value: float | None) -> str:
    if value is None:
        return ""
    system = "arab" if current_language() == "ar" and digit_preference() == "arab" else "latn"
    return _digits(
        babel_numbers.format_percent(value, locale=_format_locale(), numbering_system=system)
    )


def format_date(value: date | datetime | None, fmt: str = "medium") -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        from crm.clock import local

        # A stored instant (UTC) falls on the reader's calendar day.
        value = local(value).date()  # type: ignore[union-attr]
    return _digits(babel_dates.format_date(value, format=fmt, locale=_format_locale()))


def format_datetime(value: datetime | None, fmt: str = "medium") -> str:
    if value is None:
        return ""
    from crm.clock import zone_for

    # Stored UTC, shown in the reader's zone (their own, else the organisation's).
    return _digits(
        babel_dates.format_datetime(value, format=fmt, tzinfo=zone_for(), locale=_format_locale())
    )


def format_month(value: date) -> str:
    return _digits(babel_dates.format_date(value, format="LLLL y", locale=_format_locale()))


# --- the switch ------------------------------------------------------------------

bp = Blueprint("i18n", __name__)


def _language_choices() -> list[Any]:
    from wtforms import SelectChoice

    return [SelectChoice(code, name) for code, name in LANGUAGE_NAMES.items()]


class LanguageForm(FlaskForm):
    locale = SelectField(choices=lambda: _language_choices())
    next = HiddenField()


@bp.post("/language")
@public
def switch() -> Any:
    """Change the interface language: saved on the account, or in the session."""
    form = LanguageForm()
    if form.validate_on_submit():
        session["locale"] = form.locale.data
        if current_user.is_authenticated and current_user.locale != form.locale.data:
            current_user.locale = form.locale.data
    return redirect(safe_next(form.next.data))


def _template_context() -> dict[str, Any]:
    language = current_language()
    return {
        "locale": language,
        "text_direction": text_direction(language),
        "language_choices": list(LANGUAGE_NAMES.items()),
    }


def init_i18n(app: Flask) -> None:
    translations = Path(app.root_path).parent / "translations"
    app.config.setdefault("BABEL_TRANSLATION_DIRECTORIES", str(translations))
    babel.init_app(app, locale_selector=select_locale)
    app.register_blueprint(bp)
    app.context_processor(_template_context)
    app.jinja_env.filters.update(
        date=format_date,
        datetime=format_datetime,
        number=format_number,
        percent=format_percent,
        month=format_month,
    )
    app.jinja_env.policies["ext.i18n.trimmed"] = True
