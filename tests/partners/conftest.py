import pytest


@pytest.fixture(autouse=True)
def _per_request_globals(fresh_request_globals, english_locale):
    """See tests/fixtures/partners.py: per-request `g`, English outside requests."""
    yield
