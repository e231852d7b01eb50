"""The `crm` command as an administrator uses it."""

from __future__ import annotations

from sqlalchemy import select

from crm.auth.models import User


def test_users_create_with_password_on_stdin(runner, db):
    result = runner.invoke(
        args=[
            "users",
            "create",
            "amal@example.org",
            "--role",
            "admin",
            "--name",
            "Amal",
            "--password-stdin",
        ],
        input="Pomegranate-Season-In-Homs-3\n",
    )
    assert result.exit_code == 0, result.output
    assert "amal@example.org" in result.output
    user = db.session.execute(select(User).where(User.email == "amal@example.org")).scalar_one()
    assert user.role == "admin" and user.name == "Amal"
    assert user.password_hash.startswith("$argon2id$")
    assert "m=65536,t=3,p=1" in user.password_hash


def test_users_create_refuses_a_weak_password_with_exit_1(runner, db):
    result = runner.invoke(
        args=["users", "create", "weak@example.org", "--role", "viewer", "--password-stdin"],
        input="123456789012\n",
    )
    assert result.exit_code == 1
    assert "not only digits" in result.output
    assert db.session.execute(select(User).where(User.email == "weak@example.org")).first() is None


def test_users_create_speaks_arabic(runner, db, monkeypatch):
    monkeypatch.setenv("CRM_LANG", "ar")
    result = runner.invoke(
        args=["users", "create", "x@example.org", "--role", "viewer", "--password-stdin"],
        input="short\n",
    )
    assert result.exit_code == 1
    assert "12" in result.output and any("\u0600" <= ch <= "\u06ff" for ch in result.output)


def test_wrong_usage_exits_2(runner):
    result = runner.invoke(args=["users", "create", "x@example.org", "--role", "emperor"])
    assert result.exit_code == 2


def test_console_script_answers_help():
    import subprocess
    import sys

    done = subprocess.run(
        [sys.executable, "-c", "from crm.cli import main; main()", "--help"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0
    for command in ("serve", "db", "users", "audit"):
        assert command in done.stdout


def test_users_create_on_a_fresh_installation_makes_the_schema(tmp_path):
    """The README's first run: no `crm serve` yet, no database file yet."""
    import os
    import subprocess
    import sys

    import pytest

    if os.environ.get("CRM_TEST_DATABASE_URL"):
        pytest.skip("the default database is SQLite")
    env = {k: v for k, v in os.environ.items() if not k.startswith("CRM_")}
    env.update(CRM_INSTANCE_PATH=str(tmp_path), CRM_LANG="en")
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            "from crm.cli import main; main()",
            "users",
            "create",
            "first@example.org",
            "--role",
            "admin",
            "--password-stdin",
        ],
        input="Pomegranate-Season-In-Homs-3\n",
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "Created the account first@example.org" in done.stdout
    assert (tmp_path / "crm.sqlite").exists()
