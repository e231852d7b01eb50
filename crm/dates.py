"""Reading a date a person typed, so day and month can never be swapped.

A browser's own date picker follows the browser's language, not the page's: an
English browser showed mm/dd/yyyy and 12/03/2024 typed for 12 March was stored as
3 December. Date fields are therefore plain text in an explicit format:

- ``YYYY-MM-DD`` (ISO), also with ``/`` or ``.`` between the parts, year first;
- Arabic-Indic (and Persian) digits anywhere;
- a day-month-year or month-day-year form (``25/03/2024``) only when it can be
  read one way: one reading is no date at all (25 is no month) or both readings
  are the same day (``05/05/2024``). ``12/03/2024`` is refused with a message
  asking for the ISO form.

The same rules run in the browser (``crm/static/js/dates.js``), which shows the
date back in words as it is typed; this module decides what is stored.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from flask_babel import lazy_gettext as _l

from crm.i18n import normalize_digits

_ISO = re.compile(r"^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})$")
_DAY_FIRST = re.compile(r"^(\d{1,2})[-/.](\d{1,2})[-/.](\d{4})$")


class DateProblem(ValueError):
    """The text is not a date that can be read one way only; ``message`` says why."""

    def __init__(self, message: Any):
        super().__init__("not a date that reads one way only")
        self.message = message


def _make(year: int, month: int, day: int) -> date | None:
    try:
        return date(year, month, day)
    except ValueError:
        return None


def parse_date(text: Any, *, example: date | None = None) -> date | None:
    """The date in ``text`` (None when empty); :class:`DateProblem` otherwise."""
    if text is None:
        return None
    if isinstance(text, date):
        return text
    raw = normalize_digits(str(text)).strip()
    # Direction marks a right-to-left field may carry around the digits.
    raw = re.sub(r"[\u200e\u200f\u061c\u202a-\u202e\u2066-\u2069\s]", "", raw)
    if not raw:
        return None
    shown = example or date(2024, 3, 12)
    iso = _ISO.match(raw)
    if iso:
        found = _make(int(iso[1]), int(iso[2]), int(iso[3]))
        if found is None:
            raise DateProblem(invalid_message(shown))
        return found
    other = _DAY_FIRST.match(raw)
    if other:
        first, second, year = int(other[1]), int(other[2]), int(other[3])
        day_first = _make(year, second, first)
        month_first = _make(year, first, second)
        readings = {d for d in (day_first, month_first) if d is not None}
        if len(readings) == 1:
            return readings.pop()
        if len(readings) == 2:
            raise DateProblem(ambiguous_message(raw, day_first, month_first))  # type: ignore[arg-type]
    raise DateProblem(invalid_message(shown))


def ambiguous_message(value: str, one: date, other: date) -> Any:
    return _l(
        "%(value)s could be %(one)s or %(other)s: type the date as YYYY-MM-DD.",
        value=value,
        one=one.isoformat(),
        other=other.isoformat(),
    )


def invalid_message(example: date | None = None) -> Any:
    return _l("Enter a date as YYYY-MM-DD.")
