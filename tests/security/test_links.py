"""Links from user data: only http, https and mailto reach an href."""

from __future__ import annotations

import pytest

from crm.errors import ValidationError
from crm.security import safe_link
from tests.security import dom
from tests.security.conftest import use
from tests.security.payloads import BAD_LINKS, GOOD_LINKS


@pytest.mark.parametrize("url", (*BAD_LINKS, "/admin/users", "relative/path", "ftp://x.org/"))
def test_safe_link_refuses_every_other_scheme(url):
    assert safe_link(url) is None


@pytest.mark.parametrize("url", GOOD_LINKS)
def test_safe_link_keeps_http_https_and_mailto(url):
    assert safe_link(url) == url


@pytest.mark.parametrize("website", ["javascript:alert(1)", "data:text/html,x", "//evil.example"])
def test_a_website_must_be_an_http_address(make_partner, english_locale, website):
    with pytest.raises(ValidationError) as caught:
        make_partner(website=website)
    assert "website" in caught.value.errors


@pytest.mark.parametrize("language", ["en", "ar"])
def test_links_already_in_the_database_never_become_dangerous_hrefs(
    client, db, make_user, make_partner, make_contact, language
):
    """Rows written before the rules, or by a repair script, hold any link: the
    pages show them as text, never as a javascript:, data: or other link."""
    viewer = make_user(role="focal_point")
    partners = []
    for bad in BAD_LINKS:
        partner = make_partner(name_en=f"Legacy {len(partners)}")
        partner.website = bad
        partner.email = bad
        contact = make_contact(partner, name_en="Contact")
        contact.email = bad
        partners.append(partner)
    good = make_partner(name_en="Good links", website=GOOD_LINKS[0])
    db.session.flush()
    use(client, viewer, language)

    for partner in partners:
        for url in (f"/partners/{partner.id}", f"/partners/{partner.id}/edit"):
            html = client.get(url).get_data(as_text=True)
            page = dom.assert_clean(html, url)
            hrefs = [n.attrs.get("href", "") for n in page.find_all("a")]
            assert partner.website not in hrefs, url
            if "/edit" not in url:
                # still shown, as text
                assert page.shows(partner.website.strip()) or not partner.website.strip()
    html = client.get("/partners/").get_data(as_text=True)
    dom.assert_clean(html, "/partners/")

    page = dom.parse(client.get(f"/partners/{good.id}").get_data(as_text=True))
    assert page.find_all("a", href=GOOD_LINKS[0]), "an https website is a link"


def test_an_identity_email_becomes_a_mailto_link_only(client, make_person, people_actor):
    from tests.fixtures.people import IDENTITY

    person = make_person(identity=IDENTITY, consents={"contact": True})
    use(client, people_actor, "en")
    html = client.post(
        f"/people/{person.id}/identity",
        data={"reason": "Calling her back about the hearing", "purpose": "view"},
    ).get_data(as_text=True)
    page = dom.assert_clean(html, "identity")
    links = [n.attrs["href"] for n in page.find_all("a") if "salma" in n.attrs.get("href", "")]
    assert links == ["mailto:" + IDENTITY["email"]]
