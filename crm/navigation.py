"""The main navigation: one list, shown as far as the user's role and the installed
areas allow."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import current_app, request, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from crm.security import Permission


@dataclass(frozen=True)
class NavEntry:
    endpoint: str
    label: Any
    icon: str
    permission: Permission | None


@dataclass(frozen=True)
class NavItem:
    endpoint: str
    url: str
    label: Any
    icon: str
    active: bool


NAVIGATION = (
    NavEntry("main.index", _l("Home"), "home", None),
    NavEntry("partners.index", _l("Partners"), "partners", Permission.PARTNERS_VIEW),
    NavEntry("frameworks.index", _l("Frameworks"), "framework", Permission.FRAMEWORKS_VIEW),
    NavEntry("engagements.index", _l("Engagements"), "engagement", Permission.ENGAGEMENTS_VIEW),
    NavEntry("people.index", _l("People"), "people", Permission.PEOPLE_VIEW),
    NavEntry("followups.mine", _l("Follow-ups"), "check", Permission.FOLLOWUPS_VIEW),
    NavEntry("reports.index", _l("Reports"), "reports", Permission.REPORTS_VIEW),
    NavEntry("admin.users", _l("Administration"), "admin", Permission.USERS_MANAGE),
)


def navigation() -> list[NavItem]:
    if not current_user or not current_user.is_authenticated:
        return []
    blueprint = request.blueprint
    items = []
    for entry in NAVIGATION:
        if entry.endpoint not in current_app.view_functions:
            continue  # an area that is not installed yet
        if entry.permission and not current_user.can(entry.permission):
            continue
        area = entry.endpoint.split(".")[0]
        items.append(
            NavItem(
                entry.endpoint, url_for(entry.endpoint), entry.label, entry.icon, area == blueprint
            )
        )
    return items


def init_navigation(app: Any) -> None:
    app.context_processor(lambda: {"navigation": navigation()})
