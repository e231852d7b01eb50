"""Field encryption for identities: AES-256-GCM under a key kept outside the database.

``CRM_DATA_KEY`` holds one or more keys, ``id:base64url-key`` separated by commas;
the first encrypts, all decrypt, so a key can be rotated without downtime. Each
ciphertext is ``b"v1:" + key id + b":" + nonce + sealed bytes`` and is bound to its
table, column and row by associated data, so a value copied into another row does
not decrypt.
"""

from __future__ import annotations

import base64
import json
import secrets
from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from flask import current_app

PREFIX = b"v1:"


class DecryptionError(Exception):
    """The value cannot be decrypted with any configured key."""


def new_key_string(key_id: str | None = None) -> str:
    key_id = key_id or "k" + secrets.token_hex(3)
    return f"{key_id}:{base64.urlsafe_b64encode(AESGCM.generate_key(bit_length=256)).decode()}"


@dataclass(frozen=True)
class Keyring:
    current_id: str
    keys: dict[str, bytes]

    @classmethod
    def parse(cls, text: str) -> Keyring:
        keys: dict[str, bytes] = {}
        order: list[str] = []
        for part in (p.strip() for p in text.split(",")):
            if not part:
                continue
            key_id, sep, encoded = part.partition(":")
            if not sep:  # a bare key gets the id "k1"
                key_id, encoded = "k1", part
            raw = base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4))
            if len(raw) != 32:
                raise ValueError("each data key must be 32 bytes (AES-256)")
            keys[key_id] = raw
            order.append(key_id)
        if not order:
            raise ValueError("CRM_DATA_KEY is empty")
        return cls(order[0], keys)

    def encrypt(self, plaintext: bytes, aad: bytes) -> bytes:
        nonce = secrets.token_bytes(12)
        sealed = AESGCM(self.keys[self.current_id]).encrypt(nonce, plaintext, aad)
        return PREFIX + self.current_id.encode() + b":" + nonce + sealed

    def decrypt(self, blob: bytes, aad: bytes) -> bytes:
        if not blob.startswith(PREFIX):
            raise DecryptionError("unknown format")
        key_id, sep, rest = blob[len(PREFIX) :].partition(b":")
        key = self.keys.get(key_id.decode(errors="replace"))
        if not sep or key is None or len(rest) < 13:
            raise DecryptionError("no key for this value")
        try:
            return AESGCM(key).decrypt(rest[:12], rest[12:], aad)
        except Exception as exc:  # InvalidTag: wrong key, tampered or moved value
            raise DecryptionError("value does not decrypt") from exc

    def key_id_of(self, blob: bytes) -> str:
        return blob[len(PREFIX) :].partition(b":")[0].decode(errors="replace")


def keyring() -> Keyring:
    cached = current_app.extensions.get("crm_keyring")
    text = current_app.config["DATA_KEY"]
    if cached is None or cached[0] != text:
        cached = (text, Keyring.parse(text))
        current_app.extensions["crm_keyring"] = cached
    return cached[1]


def _aad(context: str) -> bytes:
    return context.encode()


def encrypt_json(value: Any, context: str) -> bytes:
    """Encrypt a JSON-serialisable value; ``context`` names table, column and row."""
    data = json.dumps(value, ensure_ascii=False, sort_keys=True).encode()
    return keyring().encrypt(data, _aad(context))


def decrypt_json(blob: bytes, context: str) -> Any:
    return json.loads(keyring().decrypt(blob, _aad(context)).decode())


def encrypt_text(value: str, context: str) -> bytes:
    return keyring().encrypt(value.encode(), _aad(context))


def decrypt_text(blob: bytes, context: str) -> str:
    return keyring().decrypt(blob, _aad(context)).decode()
