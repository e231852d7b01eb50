"""The shared list machinery (crm/listing.py), through the partner list."""

from __future__ import annotations

import re
from html import unescape
from urllib.parse import parse_qs, urlsplit

import pytest
from werkzeug.datastructures import MultiDict

from crm.codes import PartnerType
from crm.listing import ListSpec, SortOption, bool_filter, choice_filter, int_filter, text_filter
from crm.partners.models import Partner
from crm.partners.views import PARTNER_LIST


def next_link(html: str) -> str | None:
    found = re.search(r'href="([^"]+)" rel="next"', html)
    return unescape(found.group(1)) if found else None


def prev_link(html: str) -> str | None:
    found = re.search(r'href="([^"]+)" rel="prev"', html)
    return unescape(found.group(1)) if found else None


def refs(html: str) -> list[str]:
    return re.findall(r'<span class="code" dir="ltr">(P-LIST-\d+)</span>', html)


def test_keyset_pages_keep_the_filter_and_see_every_row_once(app, client, login_as, make_partner):
    app.config["PAGE_SIZE"] = 3
    try:
        login_as("outreach")
        for n in range(8):
            make_partner(
                ref=f"P-LIST-{n:02d}", name_en=f"Org {n:02d}", type="media" if n % 4 else "academic"
            )
        make_partner(ref="P-OTHER", name_en="Org 99", type="state")

        url = "/partners/?type=media&type=academic&sort=ref"
        seen: list[str] = []
        pages = []
        while url:
            assert "type=media" in url and "type=academic" in url and "sort=ref" in url
            page = client.get(url)
            assert page.status_code == 200
            assert "8 records" in page.text  # the total, with the same filter
            pages.append(page.text)
            seen += refs(page.text)
            url = next_link(page.text)
        assert seen == [f"P-LIST-{n:02d}" for n in range(8)]
        assert len(pages) == 3
        # From the last page, "previous" walks back one page.
        back = client.get(prev_link(pages[-1]))
        assert refs(back.text) == ["P-LIST-03", "P-LIST-04", "P-LIST-05"]
        assert "Back to the first page" in back.text
        # Descending order walks the other way.
        desc = client.get("/partners/?type=media&type=academic&sort=ref&dir=desc")
        assert refs(desc.text) == ["P-LIST-07", "P-LIST-06", "P-LIST-05"]
        follow = client.get(next_link(desc.text))
        assert refs(follow.text) == ["P-LIST-04", "P-LIST-03", "P-LIST-02"]
    finally:
        app.config["PAGE_SIZE"] = 50


def test_ties_on_the_sort_key_are_broken_by_id(app, client, login_as, make_partner):
    app.config["PAGE_SIZE"] = 2
    try:
        login_as("outreach")
        for n in range(5):
            make_partner(ref=f"P-LIST-{n:02d}", name_en="Same Name")
        seen: list[str] = []
        url = "/partners/?q=same"
        while url:
            page = client.get(url)
            seen += refs(page.text)
            url = next_link(page.text)
        assert sorted(seen) == [f"P-LIST-{n:02d}" for n in range(5)]
        assert len(seen) == 5
    finally:
        app.config["PAGE_SIZE"] = 50


def test_a_tampered_or_foreign_cursor_shows_the_first_page(app, client, login_as, make_partner):
    app.config["PAGE_SIZE"] = 2
    try:
        login_as("outreach")
        for n in range(3):
            make_partner(ref=f"P-LIST-{n:02d}", name_en=f"Org {n}")
        first = client.get("/partners/?sort=ref")
        cursor = parse_qs(urlsplit(next_link(first.text)).query)["after"][0]
        tampered = client.get("/partners/?sort=ref&after=" + cursor[:-3] + "abc")
        assert refs(tampered.text) == ["P-LIST-00", "P-LIST-01"]
        # A cursor made for another sort order is not applied to this one.
        other = client.get("/partners/?sort=name&after=" + cursor)
        assert len(refs(other.text)) == 2 and other.status_code == 200
    finally:
        app.config["PAGE_SIZE"] = 50


def test_only_whitelisted_sort_keys(app):
    with app.test_request_context("/partners/?sort=password_hash&dir=sideways"):
        state = PARTNER_LIST.from_request(MultiDict({"sort": "password_hash", "dir": "sideways"}))
    assert state.sort == "name" and state.direction == "asc"


def test_filters_are_typed_and_unknown_values_ignored(app):
    spec = ListSpec(
        endpoint="partners.index",
        filters=[
            text_filter("q", "Search"),
            choice_filter("type", "Type", PartnerType, multiple=True),
            bool_filter("women_led", "Women-led"),
            int_filter("year", "Year", minimum=1990, maximum=2100),
        ],
        sorts={"ref": SortOption("Reference", Partner.ref)},
        default_sort="ref",
    )
    args = MultiDict(
        [
            ("q", "  شبكة  "),
            ("type", "media"),
            ("type", "bakery"),
            ("type", "media"),
            ("women_led", "نعم"),
            ("year", "٢٠٢٤"),
            ("unknown", "x"),
        ]
    )
    with app.test_request_context("/partners/"):
        state = spec.from_request(args)
        assert state.filters == {
            "q": "شبكة",
            "type": [PartnerType.MEDIA],
            "women_led": True,
            "year": 2024,
        }
        assert spec.parse_filters(MultiDict([("year", "1800"), ("women_led", "maybe")])) == {}
        # Each chip links to the same list without that one value.
        chips = {chip.name: chip for chip in state.chips()}
        assert "type=" not in chips["type"].remove_url
        assert (
            "women_led=yes" in chips["type"].remove_url and "year=2024" in chips["type"].remove_url
        )
        assert "women_led" not in chips["women_led"].remove_url
        assert state.clear_url() == "/partners/"
        # Sorting links flip the direction of the active key and drop the cursor.
        link = state.sort_link("ref")
        assert link.active and "dir=desc" in link.url


def test_list_spec_refuses_reserved_names():
    with pytest.raises(ValueError):
        ListSpec(
            endpoint="x",
            filters=[text_filter("sort", "Sort")],
            sorts={"ref": SortOption("Reference", Partner.ref)},
            default_sort="ref",
        )
