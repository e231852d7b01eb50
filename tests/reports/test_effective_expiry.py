"""The effective expiry of domain.md: extensions and renewals keep a framework in
force; amendments, addenda, drafts and archived extensions do not."""

from __future__ import annotations

from datetime import date

from crm.extensions import db
from crm.reports import counting
from crm.reports.counting import Period, record_ids

Y2024 = Period.year(2024)
KEY = "cooperation_frameworks.in_force_at_end"


def in_force(period=Y2024):
    return set(db.session.execute(record_ids(KEY, period)).scalars())


def expiring_2024(o3, **values):
    """A framework signed in 2022 that expires in the middle of 2024."""
    return o3.framework(date(2022, 1, 1), expires_on=date(2024, 6, 30), **values)


def extend(o3, framework, signed_on, expires_on, *, kind="extension", **values):
    return o3.framework(
        signed_on,
        partners=[],
        amends=framework,
        amendment_kind=kind,
        expires_on=expires_on,
        **values,
    )


def test_without_extension_the_own_expiry_decides(o3):
    framework = expiring_2024(o3)
    assert framework.id not in in_force()
    assert framework.id in in_force(Period.year(2023))
    assert counting.framework_expiry(framework.id, date(2024, 12, 31)) == counting.Expiry(
        date(2024, 6, 30), None
    )


def test_extension_signed_before_the_end_of_the_period_keeps_it_in_force(o3):
    framework = expiring_2024(o3)
    extension = extend(o3, framework, date(2024, 6, 1), date(2026, 6, 30))
    assert framework.id in in_force()
    assert extension.id not in in_force()  # never counted on its own
    assert counting.report(Y2024)["cooperation_frameworks"]["in_force_at_end"] == 1
    expiry = counting.framework_expiry(framework.id, date(2024, 12, 31))
    assert (expiry.on, expiry.set_by_id) == (date(2026, 6, 30), extension.id)


def test_extension_signed_after_the_end_of_the_period_does_not_reach_back(o3):
    framework = expiring_2024(o3)
    extension = extend(o3, framework, date(2025, 2, 1), date(2027, 6, 30))
    assert framework.id not in in_force()  # at the end of 2024 it had expired
    assert framework.id in in_force(Period.year(2025))
    assert counting.framework_expiry(framework.id, date(2024, 12, 31)).set_by_id is None
    assert counting.framework_expiry(framework.id, date(2025, 12, 31)).set_by_id == extension.id


def test_renewal_counts_like_an_extension(o3):
    framework = expiring_2024(o3)
    extend(o3, framework, date(2024, 5, 1), date(2029, 1, 1), kind="renewal")
    assert framework.id in in_force()


def test_several_extensions_the_most_recent_signed_decides(o3):
    framework = expiring_2024(o3)
    extend(o3, framework, date(2024, 3, 1), date(2030, 1, 1))
    # Signed later, shortens it: the later signature wins even though it ends sooner.
    later = extend(o3, framework, date(2024, 9, 1), date(2024, 10, 31))
    assert framework.id not in in_force()
    assert counting.framework_expiry(framework.id, date(2024, 12, 31)).set_by_id == later.id
    # At the end of August only the first one was signed.
    august = Period(date(2024, 1, 1), date(2024, 8, 31))
    assert framework.id in in_force(august)


def test_same_day_extensions_the_one_recorded_last_decides(o3):
    framework = expiring_2024(o3)
    extend(o3, framework, date(2024, 5, 1), date(2024, 7, 31))
    last = extend(o3, framework, date(2024, 5, 1), date(2025, 7, 31))
    assert framework.id in in_force()
    assert counting.framework_expiry(framework.id, date(2024, 12, 31)).set_by_id == last.id


def test_extension_without_end_date_leaves_it_open_ended(o3):
    framework = expiring_2024(o3)
    extension = extend(o3, framework, date(2024, 6, 1), None)
    assert framework.id in in_force()
    assert framework.id in in_force(Period.year(2090))
    expiry = counting.framework_expiry(framework.id, date(2090, 12, 31))
    assert expiry.open_ended and expiry.set_by_id == extension.id


def test_addendum_and_amendment_change_nothing(o3):
    framework = expiring_2024(o3)
    extend(o3, framework, date(2024, 6, 1), date(2028, 1, 1), kind="addendum")
    extend(o3, framework, date(2024, 6, 1), None, kind="amendment")
    assert framework.id not in in_force()
    assert counting.framework_expiry(framework.id, date(2024, 12, 31)).on == date(2024, 6, 30)


def test_extension_in_draft_void_or_archived_changes_nothing(o3):
    framework = expiring_2024(o3)
    extend(o3, framework, date(2024, 6, 1), date(2028, 1, 1), status="draft")
    extend(o3, framework, date(2024, 6, 1), date(2028, 1, 1), status="negotiation")
    extend(o3, framework, date(2024, 6, 1), date(2028, 1, 1), status="void")
    extend(o3, framework, date(2024, 6, 1), date(2028, 1, 1), archived=True)
    assert framework.id not in in_force()
    assert counting.framework_expiry(framework.id, date(2024, 12, 31)).set_by_id is None


def test_a_later_draft_does_not_hide_a_signed_extension(o3):
    framework = expiring_2024(o3)
    extend(o3, framework, date(2024, 6, 1), date(2026, 1, 1))
    extend(o3, framework, date(2024, 11, 1), date(2024, 7, 1), status="draft")
    assert framework.id in in_force()


def test_counted_asks_the_counting_rule(o3):
    counted = o3.framework()
    archived = o3.framework(archived=True)
    void = o3.framework(status="void")
    amendment = o3.framework(amends=counted)
    assert counting.framework_counts(counted.id)
    assert not counting.framework_counts(archived.id)
    assert not counting.framework_counts(void.id)
    assert not counting.framework_counts(amendment.id)
    held = o3.engagement()
    archived_engagement = o3.engagement(archived=True)
    planned = o3.engagement(status="planned")
    assert counting.engagement_counts(held.id)
    assert not counting.engagement_counts(archived_engagement.id)
    assert not counting.engagement_counts(planned.id)
