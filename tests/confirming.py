"""Helpers for the confirmation step of a save (crm/reports/restatements.py)."""

from __future__ import annotations

import html
import re
from typing import Any

_HIDDEN = re.compile(r'<input type="hidden" name="([^"]*)" value="([^"]*)">')


def is_confirmation(page: Any) -> bool:
    return page.status_code in (200, 422) and 'id="confirm-save"' in page.text


def carried(page: Any) -> list[tuple[str, str]]:
    """The hidden fields of the confirmation form, as the browser would send them."""
    start = page.text.index('id="confirm-save"')
    body = page.text[start : page.text.index("</form>", start)]
    return [(html.unescape(n), html.unescape(v)) for n, v in _HIDDEN.findall(body)]


def confirm(client: Any, url: str, page: Any, *, reason: str | None = None, back=False) -> Any:
    """Press "Confirm and save" (or "Back to the form") on a confirmation page."""
    assert is_confirmation(page), page.text[:2000]
    data: list[tuple[str, str]] = carried(page)
    data.append(("_back" if back else "_confirm", "1"))
    if reason is not None:
        data.append(("restatement_reason", reason))
    from werkzeug.datastructures import MultiDict

    return client.post(url, data=MultiDict(data))
