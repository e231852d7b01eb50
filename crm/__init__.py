"""The outreach CRM: partners, cooperation frameworks, engagements with victims and
survivors, and the Outcome 3 figures, in Arabic and English."""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

from flask import Flask, g
from flask_login import AnonymousUserMixin

ROOT = Path(__file__).resolve().parent.parent


def create_app(config: dict[str, Any] | None = None) -> Flask:
    """Build the application; each step below is one part of it."""
    app = Flask(
        __name__,
        instance_path=(config or {}).get("INSTANCE_PATH")
        or os.environ.get("CRM_INSTANCE_PATH", str(ROOT / "instance")),
        instance_relative_config=True,
    )
    configure(app, config)
    init_extensions(app)
    init_transactions(app)
    init_i18n(app)
    init_security(app)
    register_blueprints(app)
    register_error_pages(app)
    register_cli(app)
    return app


def configure(app: Flask, config: dict[str, Any] | None) -> None:
    from crm.config import configure as load_settings

    load_settings(app, config)
    if app.config["PROXY_COUNT"]:
        # Behind a TLS proxy: the client's own address (for sign-in throttling and
        # the audit trail) and scheme (for HSTS) come from the proxy's headers.
        from werkzeug.middleware.proxy_fix import ProxyFix

        count = app.config["PROXY_COUNT"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=count, x_proto=count)  # type: ignore[method-assign]
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    logging.getLogger("alembic").setLevel(logging.WARNING)


class Anonymous(AnonymousUserMixin):
    locale = None
    digits = "latn"
    role = None

    def can(self, _permission: Any) -> bool:
        return False


def init_extensions(app: Flask) -> None:
    from flask_babel import lazy_gettext as _l

    from crm import models  # noqa: F401  (every table on the metadata)
    from crm.db import init_database
    from crm.extensions import csrf, db, limiter, login_manager, migrate

    init_database(app)
    migrate.init_app(app, db, directory=str(ROOT / "migrations"), render_as_batch=True)
    csrf.init_app(app)
    limiter.init_app(app)
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = _l("Please sign in to see this page.")
    login_manager.login_message_category = "info"
    login_manager.session_protection = None  # sessions are checked server-side
    login_manager.anonymous_user = Anonymous


def init_transactions(app: Flask) -> None:
    """One transaction per request: committed at the end, rolled back on any error."""
    from crm.extensions import db

    @app.after_request
    def _finish(response: Any) -> Any:
        if g.get("crm_rollback") or response.status_code >= 400:
            db.session.rollback()
        else:
            try:
                db.session.commit()
            except Exception:
                db.session.rollback()
                raise
        return response


def init_i18n(app: Flask) -> None:
    from crm.i18n import init_i18n as setup

    setup(app)


def init_security(app: Flask) -> None:
    from crm.navigation import init_navigation
    from crm.security import init_security as setup

    setup(app)
    init_navigation(app)


def register_blueprints(app: Flask) -> None:
    from crm.admin import bp as admin_bp
    from crm.api import bp as api_bp
    from crm.auth import bp as auth_bp
    from crm.engagements import bp as engagements_bp
    from crm.followups import bp as followups_bp
    from crm.frameworks import bp as frameworks_bp
    from crm.imports import bp as imports_bp
    from crm.main import bp as main_bp
    from crm.partners import bp as partners_bp
    from crm.people import bp as people_bp
    from crm.reports import bp as reports_bp

    for blueprint in (
        main_bp,
        auth_bp,
        admin_bp,
        partners_bp,
        frameworks_bp,
        engagements_bp,
        people_bp,
        followups_bp,
        reports_bp,
        imports_bp,
        api_bp,
    ):
        app.register_blueprint(blueprint)


def register_error_pages(app: Flask) -> None:
    from crm.errors import register_error_pages as setup

    setup(app)


def register_cli(app: Flask) -> None:
    from crm.cli import register

    register(app)
