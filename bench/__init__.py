"""Benchmarks: the Outcome 3 figures and the report page on a large database.

``python -m bench`` (or ``make bench``) generates a throwaway database with a
million engagements (``--engagements N`` to scale down), then times

- ``crm.reports.counting.outcome3()`` against the same aggregates written by hand
  in plain SQL (the floor: what the database alone needs), and
- a request for the report page against a request for a bare Flask response
  (the floor of the web stack),

and prints the times and their ratios. The database is a SQLite file in /tmp,
or a fresh database on the PostgreSQL server named by ``CRM_BENCH_DATABASE_URL``
(created for the run and dropped after it). Nothing is asserted: the numbers are
for reading.
"""
