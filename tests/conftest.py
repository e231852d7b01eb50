"""Fixtures for every test: the app, a database rolled back after each test, clients
and factories.

Tests run on SQLite, or on PostgreSQL when CRM_TEST_DATABASE_URL names a server:
a fresh database is created there for the run and dropped at the end.
"""

from __future__ import annotations

import importlib
import os
import pkgutil
import secrets
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import scoped_session, sessionmaker

from crm import create_app
from crm.auth.models import User, UserSession
from crm.auth.passwords import hash_password
from crm.auth.services import token_hash
from crm.codes import Role
from crm.crypto import new_key_string
from crm.extensions import db as _db

TEST_PASSWORD = "Correct-Horse-Battery-Staple-42"


@contextmanager
def throwaway_database(prefix: str, tmp_dir: Path) -> Iterator[str]:
    """A new, empty database: a SQLite file, or one created on the PostgreSQL
    server that CRM_TEST_DATABASE_URL names (and dropped afterwards)."""
    server = os.environ.get("CRM_TEST_DATABASE_URL")
    if not server:
        yield f"sqlite:///{tmp_dir / (prefix + '.sqlite')}"
        return
    url = make_url(server)
    name = f"{prefix}_{os.getpid()}_{secrets.token_hex(3)}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with throwaway_database("crm_test", tmp_path_factory.mktemp("db")) as url:
        yield url


def app_config(database_url: str, instance_path: str) -> dict[str, Any]:
    return {
        "TESTING": True,
        "INSTANCE_PATH": instance_path,
        "SQLALCHEMY_DATABASE_URI": database_url,
        "SECRET_KEY": secrets.token_urlsafe(48),
        "DATA_KEY": new_key_string("test1"),
        "WTF_CSRF_ENABLED": False,
        "RATELIMIT_ENABLED": True,
        "BABEL_DEFAULT_LOCALE": "en",
    }


@pytest.fixture(scope="session")
def app(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    instance = str(tmp_path_factory.mktemp("instance"))
    application = create_app(app_config(database_url, instance))

    @application.teardown_request
    def _end_request_session(_exc: BaseException | None) -> None:
        _db.session.remove()  # the request's own session (see _scope)

    with application.app_context():
        _db.create_all()
    yield application
    with application.app_context():
        _db.session.remove()
        _db.engine.dispose()


def _scope() -> Any:
    """One session for the test itself and one per request.

    Test-client requests reuse the test's app context, so scoping by app context
    alone would give a request the test's session, and a request's rollback would
    undo the test's own data.
    """
    from flask import has_request_context, request
    from flask.globals import _cv_app

    base = id(_cv_app.get(None))
    return (base, id(request._get_current_object())) if has_request_context() else base


@pytest.fixture(autouse=True)
def db(app: Flask) -> Iterator[Any]:
    """Each test inside one outer transaction, rolled back at the end.

    The app's commits become savepoint releases, so what a request commits is
    visible to the test, and nothing survives it.
    """
    with app.app_context():
        connection = _db.engine.connect()
        outer = connection.begin()
        original = _db.session
        factory = sessionmaker(
            bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False
        )
        _db.session = scoped_session(factory, scopefunc=_scope)
        try:
            yield _db
        finally:
            _db.session.remove()
            _db.session = original
            if outer.is_active:
                outer.rollback()
            connection.close()


@pytest.fixture
def csrf(app: Flask) -> Iterator[None]:
    """CSRF protection on, as in production (off elsewhere to keep tests short)."""
    app.config["WTF_CSRF_ENABLED"] = True
    yield
    app.config["WTF_CSRF_ENABLED"] = False


class Client(FlaskClient):
    """A test client that asks for English unless told otherwise."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
        self.environ_base["REMOTE_ADDR"] = "198.51.100.7"

    def open(self, *args: Any, **kwargs: Any) -> Any:
        from flask import g

        # In production every request has its own app context and so its own `g`;
        # here requests share the test's context, so start each with an empty one.
        g.__dict__.clear()
        response = super().open(*args, **kwargs)
        g.__dict__.clear()
        # What the request committed is in the database; the test's session must
        # not answer from its stale identity map.
        _db.session.expire_all()
        return response

    def set_language(self, language: str) -> None:
        self.environ_base["HTTP_ACCEPT_LANGUAGE"] = language
        with self.session_transaction() as session:
            session["locale"] = language


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    app.test_client_class = Client
    return app.test_client()


@pytest.fixture
def runner(app: Flask) -> Any:
    return app.test_cli_runner()


def csrf_token(html: str) -> str:
    """The CSRF token of the first form on a page, as a browser would send it."""
    import re

    match = re.search(r'<input[^>]*name="csrf_token"[^>]*>', html)
    assert match, "no CSRF token on the page"
    value = re.search(r'value="([^"]+)"', match.group(0))
    assert value
    return value.group(1)


_HASH_CACHE: dict[str, str] = {}


def password_hash(password: str = TEST_PASSWORD) -> str:
    """argon2id is slow by design; tests hash each password once."""
    if password not in _HASH_CACHE:
        _HASH_CACHE[password] = hash_password(password)
    return _HASH_CACHE[password]


@pytest.fixture
def make_user(db: Any) -> Callable[..., User]:
    counter = iter(range(1, 10_000))

    def make(**overrides: Any) -> User:
        n = next(counter)
        role = Role(overrides.pop("role", Role.OUTREACH))
        password = overrides.pop("password", TEST_PASSWORD)
        values: dict[str, Any] = {
            "email": f"{role.value}{n}-{secrets.token_hex(2)}@example.org",
            "name": f"Test {role.value} {n}",
            "role": role,
            "locale": "en",
            "password_hash": password_hash(password),
        }
        values.update(overrides)
        user = User(**values)
        db.session.add(user)
        db.session.flush()
        return user

    return make


def sign_in(client: FlaskClient, user: User) -> str:
    """Open a server-side session for ``user`` in ``client`` without a password hash."""
    token = secrets.token_urlsafe(32)
    _db.session.add(UserSession(user_id=user.id, token_hash=token_hash(token)))
    _db.session.flush()
    with client.session_transaction() as session:
        session["_user_id"] = token
        session["_fresh"] = True
    return token


@pytest.fixture
def login_as(client: FlaskClient, make_user: Callable[..., User]) -> Callable[..., User]:
    """``login_as("focal_point")`` signs the client in as a new user of that role."""

    def login(role: str | Role = Role.OUTREACH, **overrides: Any) -> User:
        user = make_user(role=role, **overrides)
        sign_in(client, user)
        return user

    return login


# Each area adds its factory fixtures in tests/fixtures/<area>.py; they are all
# loaded here so any test can use any factory.
for _module in pkgutil.iter_modules([os.path.join(os.path.dirname(__file__), "fixtures")]):
    _loaded = importlib.import_module(f"tests.fixtures.{_module.name}")
    globals().update({k: v for k, v in vars(_loaded).items() if not k.startswith("_")})
