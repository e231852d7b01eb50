"""The ready sentences, in English and in Arabic with its six plural forms."""

from __future__ import annotations

from datetime import date

import pytest
from flask_babel import force_locale

from crm.reports import texts
from crm.reports.counting import Period

Y = Period.year(2024)

ARABIC_ENGAGEMENTS = {
    0: "لم تعقد الآلية في عام 2024 أي لقاء مع الضحايا والناجين.",
    1: "في عام 2024، عقدت الآلية لقاءً واحدًا مع الضحايا والناجين.",
    2: "في عام 2024، عقدت الآلية لقاءين مع الضحايا والناجين.",
    3: "في عام 2024، عقدت الآلية 3 لقاءات مع الضحايا والناجين.",
    11: "في عام 2024، عقدت الآلية 11 لقاءً مع الضحايا والناجين.",
    22: "في عام 2024، عقدت الآلية 22 لقاءً مع الضحايا والناجين.",
    100: "في عام 2024، عقدت الآلية 100 لقاء مع الضحايا والناجين.",
}
ARABIC_FRAMEWORKS = {
    0: "حتى نهاية عام 2024، لم تكن الآلية قد أبرمت أي إطار للتعاون منذ إنشائها.",
    1: "حتى نهاية عام 2024، أبرمت الآلية إطارًا واحدًا للتعاون منذ إنشائها.",
    2: "حتى نهاية عام 2024، أبرمت الآلية إطارين للتعاون منذ إنشائها.",
    3: "حتى نهاية عام 2024، أبرمت الآلية 3 أطر للتعاون منذ إنشائها.",
    11: "حتى نهاية عام 2024، أبرمت الآلية 11 إطارًا للتعاون منذ إنشائها.",
    83: "حتى نهاية عام 2024، أبرمت الآلية 83 إطارًا للتعاون منذ إنشائها.",
    100: "حتى نهاية عام 2024، أبرمت الآلية 100 إطار للتعاون منذ إنشائها.",
}


@pytest.mark.parametrize("n", sorted(ARABIC_ENGAGEMENTS))
def test_arabic_engagement_sentence_agrees_with_its_number(app, n):
    with app.test_request_context(), force_locale("ar"):
        assert texts.engagements_sentence(Y, n) == ARABIC_ENGAGEMENTS[n]


@pytest.mark.parametrize("n", sorted(ARABIC_FRAMEWORKS))
def test_arabic_framework_sentence_agrees_with_its_number(app, n):
    with app.test_request_context(), force_locale("ar"):
        assert texts.frameworks_sentence(Y, n, "concluded_to_date") == ARABIC_FRAMEWORKS[n]


def test_english_sentences(app):
    with app.test_request_context(), force_locale("en"):
        assert texts.engagements_sentence(Y, 22) == (
            "In 2024 the Mechanism held 22 engagements with victims and survivors."
        )
        assert texts.engagements_sentence(Y, 1) == (
            "In 2024 the Mechanism held 1 engagement with victims and survivors."
        )
        assert texts.frameworks_sentence(Y, 100, "concluded_to_date") == (
            "By the end of 2024 the Mechanism had concluded 100 cooperation frameworks "
            "since it began."
        )
        assert texts.frameworks_sentence(Y, 91, "in_force_at_end") == (
            "At the end of 2024, 91 cooperation frameworks of the Mechanism were in force."
        )
        assert "with civil society" in texts.frameworks_sentence(Y, 64, "civil_society_to_date")
        ga = Period.ga_year(2024)
        assert texts.engagements_sentence(ga, 3) == (
            "From 1 February 2024 to 31 January 2025 the Mechanism held 3 engagements with "
            "victims and survivors."
        )
        assert texts.frameworks_sentence(ga, 2, "concluded_to_date").startswith(
            "By 31 January 2025"
        )


def test_the_sentence_follows_the_headline_rule_in_arabic(app):
    with app.test_request_context(), force_locale("ar"):
        assert texts.frameworks_sentence(Y, 91, "in_force_at_end") == (
            "في نهاية عام 2024، كان لدى الآلية 91 إطار تعاون نافذًا."
        )
        assert "مع المجتمع المدني" in texts.frameworks_sentence(Y, 64, "civil_society_to_date")
        assert texts.period_label(Period.ga_year(2024)).startswith("سنة الجمعية العامة 2024–2025")
        assert "كانون الثاني" in texts.period_label(Period(date(2024, 1, 5), date(2024, 3, 1)))


def test_arabic_digits_when_the_reader_prefers_them(app, make_user):
    user = make_user(locale="ar", digits="arab")
    with app.test_request_context():
        from flask_login import login_user

        login_user(user)
        with force_locale("ar"):
            sentence = texts.engagements_sentence(Y, 22)
    # The year is written by the report; the count by crm.i18n.format_number.
    assert "٢٠٢٤" in sentence


def test_both_languages_at_once(app):
    with app.test_request_context():
        both = texts.in_each_language(lambda: texts.engagements_sentence(Y, 22))
    assert both["en"].startswith("In 2024")
    assert both["ar"].startswith("في عام 2024")
