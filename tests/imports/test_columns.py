"""Reading and writing cells: the rules of interfaces.md, in both languages."""

from __future__ import annotations

from datetime import date

import pytest
from flask_babel import force_locale

from crm.codes import EngagementType, PartnerType, VictimGroup
from crm.imports.columns import (
    ENGAGEMENT_COLUMNS,
    PARTNER_COLUMNS,
    CellError,
    by_name,
    format_cell,
    match_header,
    neutralise,
    parse_cell,
    unescape,
)

P = by_name(PARTNER_COLUMNS)
E = by_name(ENGAGEMENT_COLUMNS)


def reason(column, raw, language="en"):
    with pytest.raises(CellError) as caught:
        parse_cell(column, raw)
    with force_locale(language):
        return str(caught.value.message)


@pytest.mark.parametrize("language", [None, "en", "ar"])
def test_a_code_is_read_from_itself_or_its_english_or_arabic_label(app, language):
    member = PartnerType.VICTIMS_ASSOCIATION
    if language is None:
        raw = member.value
    else:
        with force_locale(language):
            raw = str(member.label)
    assert parse_cell(P["type"], raw) == member


def test_labels_are_compared_without_case_diacritics_or_hamza_forms(app):
    assert parse_cell(E["type"], "  FOCUS GROUP ") == EngagementType.FOCUS_GROUP
    with force_locale("ar"):
        arabic = str(EngagementType.MEETING.label)
    varied = arabic.replace("ا", "أ", 1) + "\u064e"  # another alef form and a fatha
    assert parse_cell(E["type"], varied) == EngagementType.MEETING


def test_an_unknown_code_names_the_codes_that_exist(app):
    message = reason(P["type"], "ngo")
    assert "“ngo”" in message
    assert "syrian_cso" in message


@pytest.mark.parametrize("separator", [";", "؛", " ; "])
def test_lists_are_split_on_either_semicolon(app, separator):
    value = parse_cell(P["victim_groups"], f"sgbv{separator}missing_disappeared{separator}sgbv")
    assert value == [VictimGroup.SGBV, VictimGroup.MISSING_DISAPPEARED]


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("yes", True), ("TRUE", True), ("1", True), ("نعم", True), ("١", True),
     ("no", False), ("false", False), ("0", False), ("لا", False), ("", False)],
)  # fmt: skip
def test_booleans(app, raw, expected):
    assert parse_cell(P["women_led"], raw) is expected


def test_a_word_that_is_not_yes_or_no_is_refused(app):
    assert "yes or no" in reason(P["women_led"], "maybe")


def test_dates_are_iso_and_read_in_either_digits(app):
    assert parse_cell(E["start_date"], "٢٠٢٤-٠٣-٠١") == date(2024, 3, 1)
    assert parse_cell(E["start_date"], "") is None
    assert "YYYY-MM-DD" in reason(E["start_date"], "01/03/2024")
    assert "does not exist" in reason(E["start_date"], "2024-02-30")


def test_whole_numbers_in_either_digits(app):
    assert parse_cell(E["women"], "١٢") == 12
    assert parse_cell(E["women"], "1,200") == 1200
    assert "whole number" in reason(E["women"], "12.5")


def test_countries_and_languages(app):
    assert parse_cell(E["country"], "tr") == "TR"
    assert parse_cell(E["country"], "Türkiye") == "TR"
    assert parse_cell(E["country"], "ألمانيا") == "DE"
    assert "country code" in reason(E["country"], "Atlantis")
    assert parse_cell(E["languages"], "AR; en؛ ar") == ["ar", "en"]
    assert "language code" in reason(E["languages"], "arabic")


def test_text_keeps_its_length_limit_and_refuses_control_characters(app):
    assert parse_cell(P["name_en"], "  Women Now  ") == "Women Now"
    assert parse_cell(P["name_en"], "") is None
    assert "300" in reason(P["name_en"], "x" * 301)
    assert "control" in reason(P["name_en"], "bad\x07bell")
    assert "direction" in reason(P["ref"], "P-\u202e1")


@pytest.mark.parametrize(
    "value", ["=1+2", "+90 555", "-5", "@SUM(A1)", "\tx", "\rx", "'=x", "''+y"]
)
def test_formula_cells_are_neutralised_and_read_back_unchanged(value):
    written = neutralise(value)
    assert written.startswith("'")
    assert unescape(written) == value


@pytest.mark.parametrize("value", ["plain", "'quoted", "a=b", "٣"])
def test_harmless_cells_are_left_alone(value):
    assert neutralise(value) == value
    assert unescape(value) == value


def test_an_escaped_formula_cell_is_read_as_the_text_it_escapes(app):
    assert parse_cell(P["phone"], "'+90 555 000") == "+90 555 000"


def test_headers_may_be_codes_or_labels_in_either_language(app):
    with force_locale("ar"):
        arabic_name = str(P["name_ar"].label)
    columns, problems = match_header(
        ["REF", "Name (Latin script)", arabic_name, " type "], PARTNER_COLUMNS
    )
    assert problems == []
    assert [c.name for c in columns] == ["ref", "name_en", "name_ar", "type"]


def test_unknown_and_repeated_headers_are_problems(app):
    columns, problems = match_header(["ref", "colour", "ref", ""], PARTNER_COLUMNS)
    assert [c.name if c else None for c in columns] == ["ref", None, None, None]
    assert [(p[0], p[1]) for p in problems] == [(1, "colour"), (2, "ref")]
    with force_locale("en"):
        assert "Unknown column" in str(problems[0][2])
        assert "twice" in str(problems[1][2])


def test_cells_are_written_in_the_reader_language(app):
    assert format_cell(P["type"], PartnerType.MEDIA, "en") == "Media"
    with force_locale("ar"):
        arabic = str(PartnerType.MEDIA.label)
    assert format_cell(P["type"], PartnerType.MEDIA, "ar") == arabic
    assert format_cell(P["women_led"], True, "ar") == "نعم"
    assert (
        format_cell(P["victim_groups"], [VictimGroup.SGBV], "en", codes_as_labels=False) == "sgbv"
    )
    groups = [VictimGroup.SGBV, VictimGroup.OTHER]
    assert "؛ " in format_cell(P["victim_groups"], groups, "ar")
    assert parse_cell(P["victim_groups"], format_cell(P["victim_groups"], groups, "ar")) == groups


def test_codes_of_two_lists_with_the_same_value_keep_their_own_labels(app):
    from crm.codes import Strategy
    from crm.imports.columns import label_of

    assert label_of(VictimGroup.CHILDREN_YOUTH, "en") == "Children and youth"
    assert label_of(Strategy.CHILDREN_YOUTH, "en") == "Children and youth strategy"
