"""Every channel shows the same figures, number by number: the web page, the print
page, the CSV, XLSX and JSON files, the command line and the API; for an open
period, and for a locked period changed after it was locked (frozen figures by
default, today's data when asked, on every channel alike).

Each channel is read the way its user reads it (the numbers printed on the page,
the cells of the files, the JSON) and compared with every other channel.
"""

from __future__ import annotations

import csv
import html
import io
import json
import re
from datetime import date

import pytest
from openpyxl import load_workbook

from crm.db import utcnow
from crm.extensions import db
from crm.reports import services
from crm.reports.counting import BREAKDOWNS, Period

P = Period.year(2024)
SUPPRESSED = None  # how a suppressed cell reads, whatever its mark


def _number(text: str):
    text = html.unescape(re.sub(r"<[^>]+>", "", text)).strip()
    if text == "•":
        return SUPPRESSED
    return int(text.replace(",", ""))


def from_page(text: str) -> dict:
    """The numbers a reader sees on the report page (or its printable version)."""
    cells = re.findall(
        r'<(td|span)\b[^>]*\bdata-figure="([^"]+)"[^>]*>(.*?)</\1>', text, flags=re.S
    )
    assert cells, "no figure on the page"
    out = {}
    for _tag, key, inner in cells:
        assert key not in out, key
        out[key] = _number(inner)
    return out


def from_json(report: dict) -> dict:
    out = {}
    for section in ("cooperation_frameworks", "engagements"):
        for name, value in report[section].items():
            if isinstance(value, dict):
                for code, n in value.items():
                    out[f"{section}.{name}.{code}"] = n
            elif name != "headline_rule":
                out[f"{section}.{name}"] = value
    return out


def _cell(value):
    if value == "•":
        return SUPPRESSED
    return int(value)


def from_csv(content: bytes) -> dict:
    rows = list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))
    out = {}
    for figure, code, _label, value in rows[1:]:
        if figure in ("period", "note", "restatement") or figure.endswith("headline_rule"):
            continue
        out[f"{figure}.{code}" if code else figure] = _cell(value)
    return out


def from_xlsx(content: bytes) -> dict:
    summary, *rest = load_workbook(io.BytesIO(content)).worksheets
    out = {}
    for figure, code, _label, value, *_ in summary.iter_rows(min_row=2, values_only=True):
        if not figure or figure in ("period", "restatement") or value is None:
            continue
        if str(figure).endswith("headline_rule"):
            continue
        out[f"{figure}.{code}" if code else figure] = _cell(value)
    for sheet, breakdown in zip(rest, BREAKDOWNS, strict=True):
        for code, _label, n in sheet.iter_rows(min_row=2, values_only=True):
            out[f"{breakdown.key}.{code}"] = _cell(n)
    return out


def every_channel(client, runner, secret, *, live: bool) -> dict[str, dict]:
    """{channel: {figure key: number}} for 2024, as each channel gives it."""
    suffix = "&live=1" if live else ""
    channels = {}
    page = client.get(f"/reports/?kind=year&year=2024{suffix}")
    assert page.status_code == 200
    channels["web page"] = from_page(page.text)
    printed = client.get(f"/reports/print?kind=year&year=2024{suffix}")
    assert printed.status_code == 200
    channels["print page"] = from_page(printed.text)
    for fmt, read in (("csv", from_csv), ("xlsx", from_xlsx), ("json", None)):
        for language in ("en", "ar"):
            response = client.post(
                "/reports/export",
                data={
                    "format": fmt,
                    "language": language,
                    "start": "2024-01-01",
                    "end": "2024-12-31",
                    "live": "1" if live else "",
                },
            )
            assert response.status_code == 200, (fmt, language)
            content = response.data
            channels[f"{fmt} file ({language})"] = (
                from_json(json.loads(content)) if read is None else read(content)
            )
    args = ["report", "outcome3", "--year", "2024", "--format", "json"]
    result = runner.invoke(args=args + (["--live"] if live else []))
    assert result.exit_code == 0, result.output
    cli = json.loads(result.stdout)
    channels["command line"] = from_json(cli)
    api = client.get(f"/api/v1/outcome3?year=2024{suffix}", headers=bearer(secret))
    assert api.status_code == 200
    channels["API"] = from_json(api.get_json())
    # Beyond the numbers, the JSON of the command line and of the API is one object.
    assert api.get_json() == cli
    return channels


def bearer(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}


def assert_all_equal(channels: dict[str, dict]) -> dict:
    names = list(channels)
    first = channels[names[0]]
    for name in names[1:]:
        other = channels[name]
        assert set(other) == set(first), (names[0], name, set(other) ^ set(first))
        differ = {k: (first[k], other[k]) for k in first if first[k] != other[k]}
        assert not differ, f"{names[0]} and {name} differ: {differ}"
    return first


@pytest.fixture
def history(o3):
    """2024 with every kind of figure, small counts of people among them."""
    cso, state, ngo = o3.partner("syrian_cso"), o3.partner("state"), o3.partner("international_ngo")
    frameworks = [
        o3.framework(date(2019, 3, 1), partners=[cso, state], instrument="protocol"),
        o3.framework(date(2024, 7, 1), partners=[ngo], expires_on=date(2024, 12, 1)),
        o3.framework(date(2024, 12, 31), partners=[state]),
    ]
    engagements = [
        o3.engagement(
            date(2024, 1, 1),
            women=12,
            men=9,
            unspecified=2,
            under_18=3,
            country="TR",
            victim_groups=("missing_disappeared", "sgbv"),
            type="focus_group",
        ),
        o3.engagement(
            date(2024, 6, 6),
            women=40,
            men=31,
            format="online",
            country="DE",
            victim_groups=("detention_torture",),
        ),
        o3.engagement(
            date(2024, 12, 31),
            women=5,
            men=6,
            format="hybrid",
            country="LB",
            type="workshop",
            people=[o3.person(), o3.person()],
        ),
    ]
    return frameworks, engagements


@pytest.fixture
def reader(client, login_as, make_token):
    login_as("reporting")  # may read the report and download it
    _token, secret = make_token("reporting")
    return secret


def test_an_open_period_reads_the_same_on_every_channel(history, client, runner, reader):
    channels = every_channel(client, runner, reader, live=False)
    figures = assert_all_equal(channels)
    assert len(channels) == 10
    # Not an empty agreement: these are the figures of the history above.
    assert figures["cooperation_frameworks.headline"] == 3
    assert figures["engagements.headline"] == 3
    assert figures["engagements.participants.total"] == 105
    assert figures["engagements.by_country.TR"] == 1
    # Small counts of people are suppressed on every channel alike (primary), and
    # so is the smallest other part of the total (secondary).
    assert figures["engagements.participants.unspecified"] is SUPPRESSED
    assert figures["engagements.participants.under_18"] is SUPPRESSED
    assert figures["engagements.unique_people"] is SUPPRESSED
    assert figures["engagements.participants.men"] is SUPPRESSED
    assert figures["engagements.participants.women"] == 57


def test_a_locked_period_changed_afterwards_reads_the_same_on_every_channel(
    history, o3, client, runner, reader, make_user
):
    frameworks, engagements = history
    services.lock_period(P, actor=make_user(role="reporting"), name="Report on 2024 results")
    # After publication: a late engagement, a deleted framework, a corrected count.
    o3.engagement(date(2024, 11, 11), women=20, men=20, type="workshop", country="JO")
    frameworks[0].archived_at = utcnow()
    engagements[1].women = 44
    db.session.commit()

    frozen = assert_all_equal(every_channel(client, runner, reader, live=False))
    assert frozen["cooperation_frameworks.headline"] == 3
    assert frozen["engagements.headline"] == 3
    assert frozen["engagements.participants.total"] == 105
    assert "engagements.by_country.JO" not in frozen

    live = assert_all_equal(every_channel(client, runner, reader, live=True))
    assert live["cooperation_frameworks.headline"] == 2
    assert live["engagements.headline"] == 4
    assert live["engagements.participants.total"] == 149
    assert live["engagements.by_country.JO"] == 1

    # The restatement says which figure moved, from what to what, on each channel.
    page = html.unescape(client.get("/reports/?kind=year&year=2024&live=1").text)
    assert "Held in the period</strong>: published 3, today 4" in page
    rows = list(
        csv.reader(
            io.StringIO(
                client.post(
                    "/reports/export",
                    data={
                        "format": "csv",
                        "language": "en",
                        "start": "2024-01-01",
                        "end": "2024-12-31",
                        "live": "1",
                    },
                ).data.decode("utf-8-sig")
            )
        )
    )
    assert [
        "restatement",
        "engagements.held_in_period",
        "Held in the period",
        "published 3, today 4",
    ] in rows
    api = client.get("/api/v1/outcome3?year=2024", headers=bearer(reader)).get_json()
    assert api["locked"]["restated"] is True
    assert {"figure": "engagements.held_in_period", "published": 3, "today": 4} in api[
        "restatement"
    ]
