"""Form base class and fields shared by every area."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    DateField,
    HiddenField,
    IntegerField,
    SelectChoice,
    SelectMultipleField,
    widgets,
)
from wtforms.validators import NumberRange, Optional

from crm.i18n import normalize_digits


def choices(pairs: Any) -> list[SelectChoice]:
    """WTForms options from ``(value, label)`` pairs (tuples are deprecated there)."""
    return [SelectChoice(value, label) for value, label in pairs]


class CrmForm(FlaskForm):
    """Base of every form: translated WTForms messages come from Flask-Babel."""

    class Meta:
        locales: Any = False

        def get_translations(self, form: Any) -> Any:
            from flask_wtf.i18n import translations

            return translations


class VersionedForm(CrmForm):
    """A form for a record two people may edit: the version travels with it."""

    version = HiddenField()


class LocalIntegerField(IntegerField):
    """Whole numbers typed in Western or Arabic-Indic digits.

    Rendered as text with a numeric keyboard: a browser's number input refuses
    Arabic-Indic digits before the server can read them.
    """

    widget = widgets.TextInput()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        render_kw = {"inputmode": "numeric", "dir": "ltr", **(kwargs.pop("render_kw", None) or {})}
        super().__init__(*args, render_kw=render_kw, **kwargs)

    def process_formdata(self, valuelist: list[Any]) -> None:
        if valuelist:
            valuelist = [normalize_digits(str(v)).strip() for v in valuelist]
        super().process_formdata(valuelist)


class LocalDateField(DateField):
    """ISO dates (YYYY-MM-DD) typed in Western or Arabic-Indic digits."""

    def process_formdata(self, valuelist: list[Any]) -> None:
        if valuelist:
            valuelist = [normalize_digits(str(v)).strip() for v in valuelist]
        super().process_formdata(valuelist)


class MultiCheckboxField(SelectMultipleField):
    """A list of checkboxes, for multi-valued codes (victim groups, strategies…)."""

    widget = widgets.ListWidget(prefix_label=False)
    option_widget = widgets.CheckboxInput()


def count_field(label: Any) -> LocalIntegerField:
    return LocalIntegerField(
        label,
        validators=[
            Optional(),
            NumberRange(min=0, message=_l("Enter a whole number, 0 or more.")),
        ],
    )
