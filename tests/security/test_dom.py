"""The page checker itself: it must see every kind of injection the other tests
rely on it to see (a checker that sees nothing would make them pass for nothing)."""

from __future__ import annotations

import pytest

from tests.security import dom

PAGE = (
    '<!doctype html><html lang="en" dir="ltr">'
    "<head><title>T</title>{head}</head><body>{body}</body></html>"
)

BAD = {
    "inline script": "<script>alert(1)</script>",
    "foreign script": '<script src="https://evil.example/x.js"></script>',
    "event handler": '<img src="/static/x.png" onerror="alert(1)">',
    "svg handler": "<svg onload=alert(1)></svg>",
    "javascript link": '<a href="javascript:alert(1)">x</a>',
    "javascript link hidden by spaces": '<a href=" java\tscript:alert(1)">x</a>',
    "data link": '<a href="data:text/html,x">x</a>',
    "scheme-relative link": '<a href="//evil.example">x</a>',
    "other scheme": '<a href="file:///etc/passwd">x</a>',
    "svg xlink": '<svg><a xlink:href="javascript:alert(1)">x</a></svg>',
    "image from elsewhere": '<img src="https://evil.example/p.gif">',
    "iframe": '<iframe src="/"></iframe>',
    "object": '<object data="/x"></object>',
    "base": '<base href="https://evil.example/">',
    "style element": "<style>*{display:none}</style>",
    "meta refresh": '<meta http-equiv="refresh" content="0;url=https://evil.example">',
    "form elsewhere": '<form action="https://evil.example/"></form>',
    "probe element": "<xss-probe>x</xss-probe>",
    "probe class": '<b class="xss-probe">x</b>',
    "evaluated template": "<p>7777777</p>",
    "raw payload markup": "<p><script>alert(1)</script></p>",
    "bidi in a cell": "<table><tr><td>\u202eevil</td></tr></table>",
    "bidi in a link": '<p><a href="/x">\u2066evil</a></p>',
}
GOOD = {
    "escaped text": "<p>&lt;script&gt;alert(1)&lt;/script&gt;</p>",
    "own script": '<script src="/static/js/app.js"></script>',
    "links": '<a href="/partners/">p</a><a href="https://x.org">x</a><a href="mailto:a@b.c">m</a>',
    "icon": '<svg class="icon"><use href="/static/icons.svg#i"></use></svg>',
    "bidi in bdi": "<table><tr><td><bdi>\u202eevil</bdi></td></tr></table>",
    "bidi with dir": '<p><a href="/x"><span dir="auto">\u2066evil</span></a></p>',
    "bidi in a form control": "<textarea>\u202eevil</textarea>",
    "payload as attribute value": '<input value="&lt;script&gt;alert(1)&lt;/script&gt;">',
}


@pytest.mark.parametrize("name", BAD)
def test_the_checker_sees_each_injection(name):
    snippet = BAD[name]
    html = PAGE.format(head=snippet if "<meta" in snippet else "", body=snippet)
    assert dom.problems(html), name


@pytest.mark.parametrize("name", GOOD)
def test_the_checker_passes_clean_pages(name):
    html = PAGE.format(head="", body=GOOD[name])
    assert dom.problems(html) == [], name


def test_shows_finds_text_and_form_values_but_not_markup():
    page = dom.parse(
        PAGE.format(head="", body=GOOD["escaped text"] + GOOD["payload as attribute value"])
    )
    assert page.shows("<script>alert(1)</script>")
    assert not page.shows("something else")


def test_forms_are_read_as_a_browser_sends_them():
    html = (
        '<form action="/x" method="post"><input name="a" value="1">'
        '<input type="checkbox" name="b" value="y"><input type="checkbox" name="c" checked>'
        '<select name="s"><option value="1">1</option>'
        '<option value="2" selected>2</option></select>'
        "<textarea name=t>\nhello</textarea><button type=submit name=go>Go</button></form>"
    )
    (form,) = dom.forms(html)
    assert form["fields"] == [("a", "1"), ("c", "on"), ("s", "2"), ("t", "hello")]
