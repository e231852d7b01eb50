"""The password policy, in both languages, and argon2id."""

from __future__ import annotations

from unittest import mock

from argon2 import PasswordHasher
from flask_babel import force_locale

from crm.auth import passwords
from crm.auth.services import authenticate


def messages(password, **kwargs):
    return [str(m) for m in passwords.password_problems(password, **kwargs)]


def test_length_limits(app):
    with app.test_request_context():
        assert "Use at least 12 characters." in messages("Short-pw-1")
        assert messages("Lantern-Morning-Coffee-Bridge") == []
        assert messages("x" * 129) == ["Use at most 128 characters."]


def test_a_too_long_password_is_refused_before_hashing(app, monkeypatch):
    spy = mock.Mock(wraps=passwords.hasher)
    monkeypatch.setattr(passwords, "hasher", spy)
    assert passwords.verify_password("$argon2id$whatever", "y" * 10_000) is False
    spy.verify.assert_not_called()
    spy.hash.assert_not_called()


def test_common_and_context_passwords_are_refused(app):
    with app.test_request_context():
        assert any("too common" in m for m in messages("qwertyuiop123"))
        assert any("easy to guess" in m for m in messages("IIIM-Mechanism-2024"))
        assert any("easy to guess" in m for m in messages("Syria2024Syria!"))
        assert any("easy to guess" in m for m in messages("الآلية2024!!##"))
        assert any(
            "easy to guess" in m
            for m in messages("Hope-Foundation-99", context=["hope-foundation"])
        )


def test_messages_in_arabic(app):
    with app.test_request_context(), force_locale("ar"):
        text = " ".join(messages("short"))
        assert any("\u0600" <= ch <= "\u06ff" for ch in text)


def test_hash_is_argon2id_with_the_required_cost():
    encoded = passwords.hash_password("Lantern-Morning-Coffee-Bridge")
    assert encoded.startswith("$argon2id$") and "m=65536,t=3,p=1" in encoded


def test_rehash_at_sign_in_when_parameters_rise(app, db, make_user):
    weak = PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1)
    user = make_user(password_hash=weak.hash("Lantern-Morning-Coffee-Bridge"))
    with app.test_request_context():
        assert authenticate(user.email, "Lantern-Morning-Coffee-Bridge", "192.0.2.1") is not None
        db.session.commit()  # what the request would commit
    db.session.expire_all()
    assert "m=65536,t=3,p=1" in user.password_hash
