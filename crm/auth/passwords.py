"""Password hashing (argon2id) and the password policy."""

from __future__ import annotations

import gzip
import re
from collections.abc import Iterable
from functools import cache
from pathlib import Path
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from flask_babel import lazy_gettext as _l

MIN_LENGTH = 12
MAX_LENGTH = 128

# At least m=64 MiB, t=3, p=1 (security.md); raising these rehashes at next login.
hasher = PasswordHasher(time_cost=3, memory_cost=65536, parallelism=1, hash_len=32, salt_len=16)

# Words that anyone attacking this installation would try first, in both scripts.
CONTEXT_WORDS = frozenset(
    {
        "iiim",
        "mechanism",
        "syria",
        "syrian",
        "damascus",
        "aleppo",
        "idlib",
        "geneva",
        "outreach",
        "justice",
        "accountability",
        "survivor",
        "survivors",
        "victim",
        "victims",
        "password",
        "الآلية",
        "الاليه",
        "سوريا",
        "سورية",
        "دمشق",
        "حلب",
        "العدالة",
        "المساءلة",
        "الضحايا",
        "الناجين",
        "كلمةالسر",
        "كلمةالمرور",
    }
)


@cache
def common_passwords() -> frozenset[str]:
    path = Path(__file__).with_name("common-passwords.txt.gz")
    with gzip.open(path, "rt", encoding="utf-8") as handle:
        return frozenset(line.strip() for line in handle if line.strip())


_NOISE = re.compile(r"[\W\d_]+", re.UNICODE)


def _core(password: str) -> str:
    """The password without digits, symbols and spaces, lower-cased."""
    return _NOISE.sub("", password).casefold()


def password_problems(password: str, *, context: Iterable[str] = ()) -> list[Any]:
    """Every reason ``password`` is refused, as translatable messages."""
    if len(password) > MAX_LENGTH:
        # Checked before any hashing: a huge password must not cost a hash.
        return [_l("Use at most 128 characters.")]
    problems: list[Any] = []
    if len(password) < MIN_LENGTH:
        problems.append(_l("Use at least 12 characters."))
    lowered = password.casefold()
    core = _core(password)
    stripped = lowered.rstrip("0123456789!@#$%^&*.?-_ ")
    if len(core) < 4:
        problems.append(_l("Use letters or words, not only digits and symbols."))
    elif (
        lowered in common_passwords()
        or core in common_passwords()
        or stripped in common_passwords()
    ):
        problems.append(_l("This password is too common. Choose one that is hard to guess."))
    words = {w.casefold() for w in CONTEXT_WORDS}
    words |= {w.casefold() for w in context if w and len(w) >= 4}
    if len(set(password)) < 5 or any(
        core == w or (w in lowered and len(core) - len(_core(w)) < 6) for w in words
    ):
        problems.append(_l("This password is built on a name or word that is easy to guess here."))
    return problems


def hash_password(password: str) -> str:
    if len(password) > MAX_LENGTH:
        raise ValueError("password too long")
    return hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    if len(password) > MAX_LENGTH:
        return False
    try:
        return hasher.verify(password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    return hasher.check_needs_rehash(password_hash)


# A real hash of nothing, verified when the account is unknown, so that an unknown
# e-mail costs the same time as a wrong password.
_DUMMY_HASH: str | None = None


def burn_time(password: str) -> None:
    global _DUMMY_HASH
    if _DUMMY_HASH is None:
        _DUMMY_HASH = hasher.hash("not a real password, never matches")
    verify_password(_DUMMY_HASH, password[:MAX_LENGTH])
