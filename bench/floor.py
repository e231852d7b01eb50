"""The floor: the aggregates of ``outcome3()`` written by hand in plain SQL.

What the database alone needs to answer the report of [:start, :end]; the
benchmark compares ``outcome3()`` with it. Constant text, bound parameters.
"""

# ruff: noqa: E501, S608 - long constant SQL, no value is formatted into it

CONCLUDED = (
    "f.archived_at IS NULL AND f.status IN ('in_force','suspended','expired','terminated') "
    "AND f.signed_on IS NOT NULL AND f.amends_id IS NULL"
)
HELD = (
    "e.archived_at IS NULL AND e.category = 'victims_survivors' AND e.status = 'held' "
    "AND e.start_date >= :start AND e.start_date <= :end"
)
CIVIL = (
    "EXISTS (SELECT 1 FROM framework_partners fp JOIN partners p ON p.id = fp.partner_id "
    "WHERE fp.framework_id = f.id AND p.archived_at IS NULL "
    "AND p.type IN ('syrian_cso','victims_association','international_ngo'))"
)
FLOOR_QUERIES = [
    f"SELECT count(*) FROM frameworks f WHERE {CONCLUDED} AND f.signed_on <= :end",
    f"SELECT count(*) FROM frameworks f WHERE {CONCLUDED} AND f.signed_on >= :start AND f.signed_on <= :end",
    f"SELECT count(*) FROM frameworks f WHERE {CONCLUDED} AND coalesce(f.in_force_from, f.signed_on) <= :end "
    "AND (f.terminated_on IS NULL OR f.terminated_on > :end) AND (f.expires_on IS NULL OR f.expires_on >= :end)",
    f"SELECT count(*) FROM frameworks f WHERE {CONCLUDED} AND f.signed_on <= :end AND {CIVIL}",
    "SELECT p.type, count(DISTINCT f.id) FROM frameworks f JOIN framework_partners fp ON fp.framework_id = f.id "
    f"JOIN partners p ON p.id = fp.partner_id WHERE {CONCLUDED} AND f.signed_on <= :end AND p.archived_at IS NULL GROUP BY p.type",
    f"SELECT f.instrument, count(*) FROM frameworks f WHERE {CONCLUDED} AND f.signed_on <= :end GROUP BY f.instrument",
    f"SELECT count(*) FROM engagements e WHERE {HELD}",
    "SELECT coalesce(sum(coalesce(e.women,0)),0), coalesce(sum(coalesce(e.men,0)),0), "
    "coalesce(sum(coalesce(e.unspecified,0)),0), coalesce(sum(coalesce(e.under_18,0)),0) "
    f"FROM engagements e WHERE {HELD}",
    "SELECT count(DISTINCT ep.person_id) FROM engagement_people ep JOIN people pe ON pe.id = ep.person_id "
    f"JOIN engagements e ON e.id = ep.engagement_id WHERE pe.archived_at IS NULL AND {HELD}",
    f"SELECT e.type, count(*) FROM engagements e WHERE {HELD} GROUP BY e.type",
    f"SELECT e.format, count(*) FROM engagements e WHERE {HELD} GROUP BY e.format",
    "SELECT v.code, count(*) FROM engagements e JOIN engagement_victim_groups v ON v.engagement_id = e.id "
    f"WHERE {HELD} GROUP BY v.code",
    f"SELECT e.country, count(*) FROM engagements e WHERE {HELD} AND e.country IS NOT NULL GROUP BY e.country",
]
