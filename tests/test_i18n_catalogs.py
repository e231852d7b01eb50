"""The translation catalogs are complete and in step with the sources.

The suite's version of `python tools/i18n.py check` (the same code, loaded from
the tool): a stale .pot, an untranslated or fuzzy Arabic message, a placeholder
or HTML tag that differs between English and Arabic, or a stale .mo fails here.
Fix with `make i18n-update`, then translate (README, "Translating").
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

import pytest
from babel.messages.catalog import Message
from flask_babel import force_locale, ngettext

ROOT = Path(__file__).resolve().parent.parent


def _load_tool() -> Any:
    spec = importlib.util.spec_from_file_location("crm_i18n_tool", ROOT / "tools" / "i18n.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


i18n = _load_tool()


def _report(problems: list[str]) -> str:
    count = sum(1 for problem in problems if not problem.startswith(i18n.HINT))
    return f"{count} problem(s):\n" + "\n".join(problems)


# --- the committed catalogs ---------------------------------------------------------


def test_pot_holds_exactly_the_strings_of_the_sources() -> None:
    problems = i18n.pot_problems()
    assert not problems, _report(problems)


@pytest.mark.parametrize("locale", i18n.LOCALES)
def test_catalog_is_in_step_and_translated(locale: str) -> None:
    problems = i18n.catalog_problems(locale)
    assert not problems, _report(problems)


@pytest.mark.parametrize("locale", i18n.LOCALES)
def test_compiled_catalog_matches_its_po(locale: str) -> None:
    problems = i18n.mo_problems(locale)
    assert not problems, _report(problems)


def test_arabic_catalog_has_six_plural_forms() -> None:
    catalog = i18n.read_catalog(i18n.po_path("ar"), "ar")
    assert catalog.num_plurals == 6
    assert catalog.plural_forms == (
        "nplurals=6; plural=(n==0 ? 0 : n==1 ? 1 : n==2 ? 2 : "
        "n%100>=3 && n%100<=10 ? 3 : n%100>=11 ? 4 : 5);"
    )


def test_extraction_reads_templates_as_the_app_renders_them(app: Any) -> None:
    """babel.cfg must parse `{% trans %}` blocks the way the app's Jinja does, or
    the extracted msgids are not the ones the templates look up."""
    from babel.messages.frontend import parse_mapping_cfg

    with open(i18n.BABEL_CFG, encoding="utf-8") as f:
        method_map, options_map = parse_mapping_cfg(f)
    jinja_options = [options_map[pattern] for pattern, method in method_map if method == "jinja2"]
    assert jinja_options
    trimmed = bool(app.jinja_env.policies.get("ext.i18n.trimmed"))
    newstyle = bool(getattr(app.jinja_env, "newstyle_gettext", False))
    for options in jinja_options:
        assert (options.get("trimmed", "false").lower() == "true") == trimmed
        assert (options.get("newstyle_gettext", "false").lower() == "true") == newstyle


def _first_plural_message() -> Message:
    catalog = i18n.read_catalog(i18n.po_path("ar"), "ar")
    for message in catalog:
        if message.id and message.pluralizable and all(message.string):
            return message
    pytest.fail("the Arabic catalog has no translated message with plural forms")


def test_arabic_counts_read_right_in_all_six_forms(app: Any) -> None:
    """0, 1, 2, 3, 11 and 100 take six different forms, in the catalog's order."""
    message = _first_plural_message()
    singular, plural = message.id
    names = i18n.placeholders(singular)[0] | i18n.placeholders(plural)[0]
    rendered = {}
    expected = {}
    for form, n in enumerate((0, 1, 2, 3, 11, 100)):
        values = {name: n if name in i18n.COUNTER_NAMES else "X" for name in names}
        values.pop("num", None)  # ngettext passes the count as `num` itself
        with app.test_request_context(), force_locale("ar"):
            rendered[n] = ngettext(singular, plural, n, **values)
        expected[n] = message.string[form] % {"num": n, **values}
    assert len(set(rendered.values())) == 6, rendered
    assert rendered == expected


# --- the checker itself -------------------------------------------------------------


def _problems(msgid: str | tuple[str, str], *strings: str) -> list[str]:
    message = Message(msgid, "")
    return i18n.translation_problems(message, list(strings), "ar")


def test_checker_accepts_a_faithful_translation() -> None:
    assert _problems("%(name)s was saved", "حُفظ %(name)s") == []
    assert _problems("Read <a href='/x'>the guide</a>", 'اقرأ <a href="/x">الدليل</a>') == []
    assert _problems("100%% done", "اكتمل 100%%") == []


@pytest.mark.parametrize(
    ("msgid", "msgstr"),
    [
        ("%(name)s was saved", "تم الحفظ"),  # placeholder dropped
        ("%(name)s was saved", "حُفظ %(nom)s"),  # placeholder renamed
        ("Saved {name}", "حُفظ"),  # str.format field dropped
        ("Hello <b>world</b>", "مرحبًا بالعالم"),  # tag dropped
        ("Hello <b>world</b>", "مرحبًا <i>بالعالم</i>"),  # tag changed
        ("%(num)s%% done", "اكتمل %(num)s%"),  # a lone % breaks formatting
    ],
)
def test_checker_refuses_a_broken_translation(msgid: str, msgstr: str) -> None:
    assert _problems(msgid, msgstr)


def test_checker_lets_worded_plural_forms_leave_out_the_number() -> None:
    msgid = ("%(num)d partner of %(name)s", "%(num)d partners of %(name)s")
    forms = [
        "لا شركاء لـ %(name)s",
        "شريك واحد لـ %(name)s",
        "شريكان لـ %(name)s",
        "%(num)d شركاء لـ %(name)s",
        "%(num)d شريكًا لـ %(name)s",
        "%(num)d شريك لـ %(name)s",
    ]
    assert _problems(msgid, *forms) == []
    # ... but not any other placeholder, and not in the forms that show the number.
    assert _problems(msgid, *forms[:2], "شريكان", *forms[3:])
    assert _problems(msgid, *forms[:3], "شركاء لـ %(name)s", *forms[4:])
