"""The shell every screen lives in (sign-in page, home page, navigation), in a real
browser, in Arabic and English, on a desktop and a phone."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.browser.conftest import SIZES, assert_page_ok, screenshot, text_side, visit

pytestmark = pytest.mark.browser

LANGUAGES = ("ar", "en")
START_SIDE = {"ar": "right", "en": "left"}
ARABIC_LETTERS = re.compile(r"[\u0621-\u064a]")
LATIN_LETTERS = re.compile(r"[A-Za-z]")


def assert_written_in(text: str, lang: str) -> None:
    """Arabic text has Arabic letters and no Latin ones; English the reverse."""
    if lang == "ar":
        assert ARABIC_LETTERS.search(text) and not LATIN_LETTERS.search(text), text
    else:
        assert LATIN_LETTERS.search(text) and not ARABIC_LETTERS.search(text), text


def assert_no_sideways_scroll(page: Any) -> None:
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"the page is {overflow}px wider than the screen"


def nav_start_side(page: Any) -> str:
    """The side the main navigation starts from: where its first item is."""
    items = page.locator("nav.main-nav a:visible")
    assert items.count() >= 2, "the navigation shows fewer than two items"
    first, second = items.nth(0).bounding_box(), items.nth(1).bounding_box()
    assert first and second
    if abs(first["y"] - second["y"]) < first["height"] / 2:  # side by side
        return "right" if first["x"] > second["x"] else "left"
    return text_side(page, "nav.main-nav a:visible")  # stacked: where the text sits


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("lang", LANGUAGES)
def test_sign_in_page(browser_page: Any, lang: str, size: str) -> None:
    page = browser_page(lang, size)
    visit(page, "/login")

    assert_page_ok(page, lang)
    heading = page.locator("h1")
    assert_written_in(heading.inner_text(), lang)
    assert text_side(page, "h1") == START_SIDE[lang]
    assert page.locator("input[name=email]").is_visible()
    assert page.locator("input[name=password]").is_visible()
    assert_no_sideways_scroll(page)
    screenshot(page, f"sign-in-{lang}-{size}")


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("lang", LANGUAGES)
def test_home_page_after_signing_in(logged_in_page: Any, lang: str, size: str) -> None:
    page = logged_in_page("admin", lang, size)

    assert page.url.endswith("/")
    assert_page_ok(page, lang)
    toggle = page.locator("[data-menu-toggle]")
    if toggle.is_visible():  # the phone menu: open it as a person would
        toggle.click()
        assert toggle.get_attribute("aria-expanded") == "true"
    first_item = page.locator("nav.main-nav a:visible").first
    assert_written_in(first_item.inner_text(), lang)
    assert nav_start_side(page) == START_SIDE[lang]
    assert text_side(page, "h1") == START_SIDE[lang]
    assert_no_sideways_scroll(page)
    screenshot(page, f"home-{lang}-{size}")


def test_language_switch_turns_the_page_around(browser_page: Any) -> None:
    page = browser_page("ar", "desktop")
    visit(page, "/login")
    assert_page_ok(page, "ar")

    with page.expect_navigation(wait_until="load"):
        page.locator("form.lang-switch button[value=en]").click()

    assert "/login" in page.url
    assert_page_ok(page, "en")
    assert text_side(page, "h1") == "left"
