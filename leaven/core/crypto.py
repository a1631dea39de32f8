"""Field encryption (AES-GCM with a key id) and blind indexes (HMAC-SHA256).

A stored value looks like ``v1:<kid>:<base64 nonce+ciphertext>``. The key id says which key
wrote it, so keys rotate: new values use the first key, old ones still decrypt with theirs
until ``leaven rotate-keys`` rewrites them.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
from dataclasses import dataclass
from functools import cache

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

PREFIX = "v1"


@dataclass(frozen=True)
class Keyring:
    primary_kid: str
    keys: dict[str, bytes]
    blind_index_key: bytes


def _b64decode(text: str) -> bytes:
    padded = text + "=" * (-len(text) % 4)
    return base64.urlsafe_b64decode(padded)


def parse_keys(spec: str) -> tuple[str, dict[str, bytes]]:
    """Parse ``kid:base64key,kid:base64key``; the first key is primary."""
    keys: dict[str, bytes] = {}
    primary = ""
    for item in spec.split(","):
        item = item.strip()
        if not item:
            continue
        kid, sep, material = item.partition(":")
        if not sep or not kid or ":" in kid:
            raise ImproperlyConfigured("LEAVEN_ENCRYPTION_KEYS entries look like kid:base64key")
        key = _b64decode(material)
        if len(key) != 32:
            raise ImproperlyConfigured(f"Encryption key {kid!r} must be 32 bytes")
        keys[kid] = key
        primary = primary or kid
    if not keys:
        raise ImproperlyConfigured("LEAVEN_ENCRYPTION_KEYS holds no key")
    return primary, keys


def generate_key() -> str:
    return base64.urlsafe_b64encode(os.urandom(32)).decode().rstrip("=")


@cache
def keyring() -> Keyring:
    spec = settings.LEAVEN_ENCRYPTION_KEYS
    blind = settings.LEAVEN_BLIND_INDEX_KEY
    if not spec or not blind:
        if not settings.LEAVEN_DERIVE_DEV_KEYS:
            raise ImproperlyConfigured(
                "Set LEAVEN_ENCRYPTION_KEYS and LEAVEN_BLIND_INDEX_KEY (or their _FILE forms)."
            )
        seed = settings.SECRET_KEY.encode()
        if not spec:
            dev = hashlib.sha256(b"leaven-dev-encryption:" + seed).digest()
            spec = "dev:" + base64.urlsafe_b64encode(dev).decode()
        if not blind:
            blind = base64.urlsafe_b64encode(
                hashlib.sha256(b"leaven-dev-blind-index:" + seed).digest()
            ).decode()
    primary, keys = parse_keys(spec)
    return Keyring(primary_kid=primary, keys=keys, blind_index_key=_b64decode(blind))


def reset_keyring() -> None:
    """Forget the cached keys (after settings change, in tests and key rotation)."""
    keyring.cache_clear()


def encrypt(plaintext: str) -> str:
    ring = keyring()
    nonce = os.urandom(12)
    sealed = AESGCM(ring.keys[ring.primary_kid]).encrypt(
        nonce, plaintext.encode("utf-8"), PREFIX.encode()
    )
    token = base64.urlsafe_b64encode(nonce + sealed).decode().rstrip("=")
    return f"{PREFIX}:{ring.primary_kid}:{token}"


def key_id_of(stored: str) -> str:
    parts = stored.split(":", 2)
    if len(parts) != 3 or parts[0] != PREFIX:
        raise ValueError("not an encrypted value")
    return parts[1]


def decrypt(stored: str) -> str:
    ring = keyring()
    prefix, kid, token = stored.split(":", 2)
    if prefix != PREFIX:
        raise ValueError("not an encrypted value")
    try:
        key = ring.keys[kid]
    except KeyError:
        raise ImproperlyConfigured(f"No key with id {kid!r} to decrypt a stored value") from None
    raw = _b64decode(token)
    return AESGCM(key).decrypt(raw[:12], raw[12:], PREFIX.encode()).decode("utf-8")


def blind_index(value: str) -> str:
    """A keyed hash of an already-normalized value, for exact lookups and duplicates."""
    digest = hmac.new(keyring().blind_index_key, value.encode("utf-8"), hashlib.sha256)
    return digest.hexdigest()[:32]
