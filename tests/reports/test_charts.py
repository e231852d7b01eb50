"""Server-drawn SVG charts: accessible, escaped, no inline style, mirrored in RTL."""

from __future__ import annotations

import re

from flask_babel import force_locale

from crm.reports import charts


def _numbers(svg: str, tag: str, attr: str) -> list[float]:
    return [float(v) for v in re.findall(rf"<{tag} [^>]*\b{attr}=\"([0-9.]+)\"", svg)]


def test_bars_are_accessible_and_labelled_with_their_values(app):
    with app.test_request_context(), force_locale("en"):
        svg = str(
            charts.bar_chart("By format", [charts.Bar("In person", 1400), charts.Bar("Online", 5)])
        )
    assert svg.startswith("<svg ") and 'role="img"' in svg and 'aria-label="By format"' in svg
    assert "<title" in svg and "<desc" in svg and "In person: 1,400; Online: 5" in svg
    assert ">1,400</text>" in svg  # the |number logic
    assert "style=" not in svg


def test_right_to_left_mirrors_the_bars(app):
    bars = [charts.Bar("a", 10), charts.Bar("b", 5)]
    with app.test_request_context(), force_locale("en"):
        ltr = str(charts.bar_chart("t", bars, rtl=False, width=600))
        rtl = str(charts.bar_chart("t", bars, rtl=True, width=600))
    assert 'direction="ltr"' in ltr and 'direction="rtl"' in rtl
    ltr_rects, rtl_rects = _numbers(ltr, "rect", "x"), _numbers(rtl, "rect", "x")
    ltr_widths, rtl_widths = _numbers(ltr, "rect", "width"), _numbers(rtl, "rect", "width")
    assert ltr_widths == rtl_widths
    for x, x_mirror, w in zip(ltr_rects, rtl_rects, ltr_widths, strict=True):
        assert round(x + x_mirror + w, 1) == 600  # the same bar, seen in a mirror
    assert all(x >= 250 for x in ltr_rects) and all(
        x + w <= 350 for x, w in zip(rtl_rects, rtl_widths, strict=True)
    )


def test_text_is_escaped(app):
    with app.test_request_context(), force_locale("en"):
        svg = str(charts.bar_chart('<script>alert(1)</script>"', [charts.Bar("<b>x</b>", 1)]))
    assert "<script>" not in svg and "<b>" not in svg
    assert "&lt;script&gt;" in svg


def test_year_columns_run_in_reading_order(app):
    series = [
        charts.Series("Frameworks", charts.FRAMEWORKS_FILL),
        charts.Series("Engagements", charts.ENGAGEMENTS_FILL),
    ]
    with app.test_request_context(), force_locale("en"):
        ltr = str(charts.column_chart("Years", ["2023", "2024"], series, [(89, 19), (100, 22)]))
        rtl = str(
            charts.column_chart("Years", ["2023", "2024"], series, [(89, 19), (100, 22)], rtl=True)
        )

    def year_x(svg: str, year: str) -> float:
        return float(re.search(rf'<text x="([0-9.]+)"[^>]*>{year}</text>', svg).group(1))

    assert year_x(ltr, "2023") < year_x(ltr, "2024")
    assert year_x(rtl, "2023") > year_x(rtl, "2024")
    assert "<title>2024: Frameworks 100; Engagements 22</title>" in ltr
