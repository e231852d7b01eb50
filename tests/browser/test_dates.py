"""Date fields in a real browser: plain text, whatever the browser's language, and
the date shown back in words in the page's language as it is typed."""

from __future__ import annotations

import pytest

from tests.browser.conftest import assert_page_ok, screenshot, visit

pytestmark = pytest.mark.browser


@pytest.mark.parametrize(
    ("lang", "iso_words", "unambiguous_words"),
    [
        ("ar", "12 آذار 2024", "25 آذار 2024"),
        ("en", "12 March 2024", "25 March 2024"),
    ],
)
def test_the_date_appears_in_words_as_it_is_typed(
    logged_in_page, lang, iso_words, unambiguous_words
):
    page = logged_in_page("outreach", lang)
    visit(page, "/frameworks/new")
    field = page.locator("#signed_on")
    assert field.get_attribute("type") == "text"  # never the browser's own picker
    words = page.locator("#signed_on-words")

    field.fill("2024-03-12")
    assert words.inner_text() == iso_words
    field.fill("٢٠٢٤-٠٣-١٢")
    assert words.inner_text() == iso_words
    field.fill("25/03/2024")
    assert words.inner_text() == unambiguous_words
    field.fill("12/03/2024")
    text = words.inner_text()
    # Both readings spelled out, and the ISO form asked for.
    assert "YYYY-MM-DD" in text and iso_words in text
    assert ("3 كانون الأول 2024" if lang == "ar" else "3 December 2024") in text
    assert "date-words--problem" in (words.get_attribute("class") or "")
    screenshot(page, f"date-words-{lang}")
    assert_page_ok(page, lang)
