"""The home page: the dashboard each area adds its panel to."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import render_template

from crm.main import bp
from crm.security import login_only, public

# Areas add a function returning a panel (template name and context) or None.
DASHBOARD_PANELS: list[Callable[[], tuple[str, dict[str, Any]] | None]] = []


def dashboard_panel(func: Callable[[], tuple[str, dict[str, Any]] | None]) -> Callable[..., Any]:
    DASHBOARD_PANELS.append(func)
    return func


@bp.get("/")
@login_only
def index() -> Any:
    panels = [panel for panel in (make() for make in DASHBOARD_PANELS) if panel]
    return render_template("main/index.html", panels=panels)


@bp.get("/healthz")
@public
def healthz() -> Any:
    """For load balancers: answers without touching personal data."""
    return {"status": "ok"}
