"""What the report says in words: labels, definitions, period names and the ready
sentences, in the reader's language (or both, for the bilingual parts)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from babel import Locale
from flask_babel import force_locale, ngettext
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from crm import clock
from crm.codes import HeadlineRule
from crm.i18n import FORMAT_LOCALES, current_language, digit_preference, format_date, format_number
from crm.reports.counting import BREAKDOWNS_BY_KEY, ENGAGEMENTS, FRAMEWORKS, Period

LANGUAGES = ("en", "ar")
_TO_EASTERN = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")

SECTION_LABELS = {
    FRAMEWORKS: _l("O3.1 Cooperation frameworks"),
    ENGAGEMENTS: _l("O3.2 Engagements with victims and survivors"),
}

FIGURE_LABELS: dict[str, Any] = {
    f"{FRAMEWORKS}.headline": _l("Cooperation frameworks (O3.1)"),
    f"{FRAMEWORKS}.concluded_to_date": _l("Concluded since the Mechanism began"),
    f"{FRAMEWORKS}.concluded_in_period": _l("Concluded in the period"),
    f"{FRAMEWORKS}.in_force_at_end": _l("In force at the end of the period"),
    f"{FRAMEWORKS}.civil_society_to_date": _l("With civil society, since the Mechanism began"),
    f"{ENGAGEMENTS}.headline": _l("Engagements with victims and survivors (O3.2)"),
    f"{ENGAGEMENTS}.held_in_period": _l("Held in the period"),
    f"{ENGAGEMENTS}.unique_people": _l("Individual people reached (with a person record)"),
    f"{ENGAGEMENTS}.participants.total": _l("Participants"),
    f"{ENGAGEMENTS}.participants.women": _l("Women"),
    f"{ENGAGEMENTS}.participants.men": _l("Men"),
    f"{ENGAGEMENTS}.participants.unspecified": _l("Sex not recorded"),
    f"{ENGAGEMENTS}.participants.under_18": _l("Under 18 (counted among the above)"),
}

BREAKDOWN_LABELS: dict[str, Any] = {
    f"{FRAMEWORKS}.by_partner_type": _l("By type of counterpart"),
    f"{FRAMEWORKS}.by_instrument": _l("By instrument"),
    f"{ENGAGEMENTS}.by_type": _l("By type of engagement"),
    f"{ENGAGEMENTS}.by_format": _l("By format"),
    f"{ENGAGEMENTS}.by_victim_group": _l("By victim group"),
    f"{ENGAGEMENTS}.by_country": _l("By country"),
}

# Plain words for each figure, shown next to it (in both languages).
DEFINITIONS: dict[str, Any] = {
    f"{FRAMEWORKS}.concluded_to_date": _l(
        "Signed cooperation frameworks (in force, suspended, expired or terminated) signed "
        "on or before the last day of the period, counted since the Mechanism began. "
        "Amendments, renewals and extensions are part of the framework they change; drafts, "
        "frameworks under negotiation and records entered in error are not counted."
    ),
    f"{FRAMEWORKS}.concluded_in_period": _l(
        "Cooperation frameworks signed within the period (first and last day included)."
    ),
    f"{FRAMEWORKS}.in_force_at_end": _l(
        "Signed cooperation frameworks in force on the last day of the period: in effect by "
        "then, not terminated on or before that day, and not expired before it."
    ),
    f"{FRAMEWORKS}.civil_society_to_date": _l(
        "Frameworks concluded since the Mechanism began with at least one Syrian civil "
        "society organisation, victims' or families' association or international NGO among "
        "the counterparts."
    ),
    f"{ENGAGEMENTS}.held_in_period": _l(
        "Engagements with victims and survivors, or with associations that represent them, "
        "that took place in the period. An engagement over several days counts once, on its "
        "first day; planned, postponed and cancelled ones are not counted."
    ),
    f"{ENGAGEMENTS}.participants.total": _l(
        "The sum of the anonymous participant numbers recorded on the engagements counted "
        "above: women, men and people whose sex was not recorded. Those under 18 are counted "
        "among them."
    ),
    f"{ENGAGEMENTS}.unique_people": _l(
        "Different people with a person record who took part in the engagements counted "
        "above; most participants are counted only anonymously."
    ),
}

BREAKDOWN_NOTE = _l(
    "A framework with counterparts of several types, or an engagement with several victim "
    "groups, counts once under each, so a breakdown may add up to more than its headline. "
    "Records without a value appear under none."
)


UNRECOGNISED = _l("unrecognised")


def figure_label(key: str) -> Any:
    return FIGURE_LABELS[key]


def figure_title(key: str) -> str:
    """A figure's name, a breakdown value's "breakdown: value" (any key of a report)."""
    if key in FIGURE_LABELS:
        return str(FIGURE_LABELS[key])
    base, _sep, value = key.rpartition(".")
    if base in BREAKDOWN_LABELS:
        return f"{breakdown_label(base)}: {value_label(base, value)}"
    return key


def suppression_note(below: int) -> str:
    """What the mark of a suppressed cell means (the same words on every channel)."""
    return _(
        "%(mark)s Not shown: a count of 1 to %(high)s people, or a count hidden so that a "
        "total does not give one away. Counts of frameworks and engagements are never hidden.",
        mark="•",
        high=format_number(max(below - 1, 1)),
    )


def locked_note(name: str, locked_at: Any) -> str:
    return _(
        "Figures locked on %(date)s as “%(name)s”: these are the published figures, frozen "
        "with the records behind them.",
        date=format_date(locked_at, "long"),
        name=name,
    )


def live_note() -> str:
    return _(
        "Today's data, not the published figures: this period is locked, and the figures "
        "below are what the records give today."
    )


def restated_note() -> str:
    return _("Restatement: the data today would give different figures for this period.")


def change_text(frozen: int | None, live: int | None) -> str:
    """ "published 22, today 23" (a suppressed value shows as its mark)."""
    return _(
        "published %(frozen)s, today %(live)s",
        frozen="•" if frozen is None else format_number(frozen),
        live="•" if live is None else format_number(live),
    )


def breakdown_label(key: str) -> Any:
    return BREAKDOWN_LABELS[key]


def definition(key: str) -> Any:
    return DEFINITIONS.get(key, "")


def headline_key(rule: HeadlineRule | str) -> str:
    return f"{FRAMEWORKS}.{HeadlineRule(rule).value}"


def country_name(code: str) -> str:
    locale = Locale.parse(FORMAT_LOCALES.get(current_language(), current_language()))
    return locale.territories.get(code.upper(), code.upper())


def value_label(breakdown_key: str, value: str) -> Any:
    """The label of one value of a breakdown (a code's label, or a country's name)."""
    breakdown = BREAKDOWNS_BY_KEY[breakdown_key]
    if breakdown.codes is None:
        name = country_name(value)
        if len(value) == 2 and value.isascii() and value.isalpha() and name != value.upper():
            return name
    else:
        try:
            return breakdown.codes(value).label
        except ValueError:
            pass
    # A stored code without a label is shown as itself, never dropped.
    return f"{value} ({UNRECOGNISED})"


def year_text(year: int) -> str:
    """A year as written in running text: no thousands separator, the reader's digits."""
    text = str(year)
    if current_language() == "ar" and digit_preference() == "arab":
        return text.translate(_TO_EASTERN)
    return text


def period_label(p: Period) -> str:
    if p.kind == "year":
        return _("Calendar year %(year)s", year=year_text(p.start.year))
    if p.kind == "ga_year":
        return _(
            "General Assembly year %(first)s–%(second)s (%(start)s to %(end)s)",
            first=year_text(p.start.year),
            second=year_text(p.end.year),
            start=format_date(p.start, "long"),
            end=format_date(p.end, "long"),
        )
    return _(
        "%(start)s to %(end)s", start=format_date(p.start, "long"), end=format_date(p.end, "long")
    )


# --- the ready sentences ---------------------------------------------------------------


def engagements_sentence(p: Period, n: int) -> str:
    """ "In 2024 the Mechanism held 22 engagements with victims and survivors." """
    count = format_number(n)
    if p.kind == "year":
        return ngettext(
            "In %(year)s the Mechanism held %(count)s engagement with victims and survivors.",
            "In %(year)s the Mechanism held %(count)s engagements with victims and survivors.",
            n,
            count=count,
            year=year_text(p.start.year),
        )
    start, end = format_date(p.start, "long"), format_date(p.end, "long")
    return ngettext(
        "From %(start)s to %(end)s the Mechanism held %(count)s engagement with victims and "
        "survivors.",
        "From %(start)s to %(end)s the Mechanism held %(count)s engagements with victims and "
        "survivors.",
        n,
        count=count,
        start=start,
        end=end,
    )


def frameworks_sentence(p: Period, n: int, rule: HeadlineRule | str) -> str:
    """ "By the end of 2024 the Mechanism had concluded 100 cooperation frameworks…" """
    rule = HeadlineRule(rule)
    count = format_number(n)
    if p.kind == "year":
        year = year_text(p.end.year)
        if rule == HeadlineRule.IN_FORCE_AT_END:
            return ngettext(
                "At the end of %(year)s, %(count)s cooperation framework of the Mechanism was "
                "in force.",
                "At the end of %(year)s, %(count)s cooperation frameworks of the Mechanism were "
                "in force.",
                n,
                count=count,
                year=year,
            )
        if rule == HeadlineRule.CIVIL_SOCIETY_TO_DATE:
            return ngettext(
                "By the end of %(year)s the Mechanism had concluded %(count)s cooperation "
                "framework with civil society since it began.",
                "By the end of %(year)s the Mechanism had concluded %(count)s cooperation "
                "frameworks with civil society since it began.",
                n,
                count=count,
                year=year,
            )
        return ngettext(
            "By the end of %(year)s the Mechanism had concluded %(count)s cooperation "
            "framework since it began.",
            "By the end of %(year)s the Mechanism had concluded %(count)s cooperation "
            "frameworks since it began.",
            n,
            count=count,
            year=year,
        )
    end = format_date(p.end, "long")
    if rule == HeadlineRule.IN_FORCE_AT_END:
        return ngettext(
            "On %(date)s, %(count)s cooperation framework of the Mechanism was in force.",
            "On %(date)s, %(count)s cooperation frameworks of the Mechanism were in force.",
            n,
            count=count,
            date=end,
        )
    if rule == HeadlineRule.CIVIL_SOCIETY_TO_DATE:
        return ngettext(
            "By %(date)s the Mechanism had concluded %(count)s cooperation framework with "
            "civil society since it began.",
            "By %(date)s the Mechanism had concluded %(count)s cooperation frameworks with "
            "civil society since it began.",
            n,
            count=count,
            date=end,
        )
    return ngettext(
        "By %(date)s the Mechanism had concluded %(count)s cooperation framework since it began.",
        "By %(date)s the Mechanism had concluded %(count)s cooperation frameworks since it began.",
        n,
        count=count,
        date=end,
    )


def sentences(p: Period, figures: dict[str, Any]) -> list[str]:
    """The two ready sentences of a report, in the current language."""
    frameworks, engagements = figures[FRAMEWORKS], figures[ENGAGEMENTS]
    return [
        frameworks_sentence(p, frameworks["headline"], frameworks["headline_rule"]),
        engagements_sentence(p, engagements["headline"]),
    ]


def in_each_language(make: Callable[[], Any]) -> dict[str, str]:
    """{"en": …, "ar": …}: ``make()`` evaluated once in each language."""
    out = {}
    for language in LANGUAGES:
        with force_locale(language):
            out[language] = str(make())
    return out


def today_year() -> int:
    return clock.today().year
