"""Field encryption (AES-GCM with a key id) and the blind index."""

from __future__ import annotations

import base64

import pytest
from cryptography.exceptions import InvalidTag
from django.core.exceptions import ImproperlyConfigured
from hypothesis import given
from hypothesis import strategies as st

from leaven.core import crypto


def test_round_trip(use_keys):
    """A value encrypts to something else and decrypts back to itself, accents included."""
    use_keys(f"k1:{crypto.generate_key()}")
    plain = "María José Muñoz · +13125550123"
    stored = crypto.encrypt(plain)
    assert plain not in stored
    assert "Muñoz" not in stored
    assert crypto.decrypt(stored) == plain


@given(st.text(max_size=200))
def test_round_trip_any_text(text):
    """Any text, however odd, survives the round trip."""
    assert crypto.decrypt(crypto.encrypt(text)) == text


def test_same_value_encrypts_differently_each_time():
    """A fresh nonce each time: equal plaintexts do not give equal ciphertexts."""
    assert crypto.encrypt("same") != crypto.encrypt("same")


def test_stored_value_names_its_key(use_keys):
    """A stored value starts with the format version and the id of the key that wrote it."""
    use_keys(f"k7:{crypto.generate_key()}")
    stored = crypto.encrypt("hello")
    assert stored.startswith("v1:k7:")
    assert crypto.key_id_of(stored) == "k7"


def test_key_id_of_plain_text_is_an_error():
    """Something that is not an encrypted value has no key id."""
    with pytest.raises(ValueError):
        crypto.key_id_of("just text")
    with pytest.raises(ValueError):
        crypto.key_id_of("v0:k1:abc")


def test_old_key_still_decrypts_after_new_primary(use_keys):
    """With a new key put first, new values use it and values written with the old key read."""
    old = f"k1:{crypto.generate_key()}"
    use_keys(old)
    written_before = crypto.encrypt("old secret")

    use_keys(f"k2:{crypto.generate_key()},{old}")
    written_after = crypto.encrypt("new secret")
    assert crypto.key_id_of(written_before) == "k1"
    assert crypto.key_id_of(written_after) == "k2"
    assert crypto.decrypt(written_before) == "old secret"
    assert crypto.decrypt(written_after) == "new secret"


def test_unknown_key_id_is_an_error(use_keys):
    """A value written with a key that is no longer configured cannot be read, loudly."""
    use_keys(f"k1:{crypto.generate_key()}")
    stored = crypto.encrypt("secret")
    use_keys(f"k2:{crypto.generate_key()}")
    with pytest.raises(ImproperlyConfigured, match="k1"):
        crypto.decrypt(stored)


def test_wrong_key_material_under_same_id_is_an_error(use_keys):
    """A key id pointing at different key material fails authentication, not silently."""
    use_keys(f"k1:{crypto.generate_key()}")
    stored = crypto.encrypt("secret")
    use_keys(f"k1:{crypto.generate_key()}")
    with pytest.raises(InvalidTag):
        crypto.decrypt(stored)


def test_tampered_value_is_an_error():
    """Changing one character of the ciphertext makes decryption fail."""
    stored = crypto.encrypt("secret value")
    prefix, kid, token = stored.split(":", 2)
    flipped = token[:-2] + ("A" if token[-2] != "A" else "B") + token[-1]
    with pytest.raises(InvalidTag):
        crypto.decrypt(f"{prefix}:{kid}:{flipped}")


def test_blind_index_is_stable():
    """The same normalized value always gives the same index, a short hex string."""
    first = crypto.blind_index("+13125550123")
    assert first == crypto.blind_index("+13125550123")
    assert len(first) == 32
    int(first, 16)
    assert "3125550123" not in first
    assert crypto.blind_index("+13125550124") != first


def test_blind_index_is_keyed(use_keys):
    """The index depends on the blind-index key: without it nobody can compute it."""
    use_keys(f"k1:{crypto.generate_key()}", blind=crypto.generate_key())
    one = crypto.blind_index("ana@example.org")
    use_keys(f"k1:{crypto.generate_key()}", blind=crypto.generate_key())
    assert crypto.blind_index("ana@example.org") != one


def test_blind_index_does_not_change_with_encryption_keys(use_keys):
    """Rotating encryption keys leaves the blind index (and so every lookup) unchanged."""
    blind = crypto.generate_key()
    use_keys(f"k1:{crypto.generate_key()}", blind=blind)
    one = crypto.blind_index("ana@example.org")
    use_keys(f"k2:{crypto.generate_key()}", blind=blind)
    assert crypto.blind_index("ana@example.org") == one


@pytest.mark.parametrize(
    "spec",
    [
        "",
        "nokey",
        "k1:" + base64.urlsafe_b64encode(b"short").decode(),
        ":" + crypto.generate_key(),
    ],
)
def test_bad_key_spec_is_refused(spec):
    """Malformed LEAVEN_ENCRYPTION_KEYS values are configuration errors."""
    with pytest.raises(ImproperlyConfigured):
        crypto.parse_keys(spec)


def test_first_key_is_primary():
    """The first key listed is the one new values are written with."""
    primary, keys = crypto.parse_keys(f"b:{crypto.generate_key()}, a:{crypto.generate_key()}")
    assert primary == "b"
    assert set(keys) == {"a", "b"}
    assert all(len(key) == 32 for key in keys.values())


def test_production_without_keys_refuses(settings):
    """Without configured keys, and without the development fallback, nothing is encrypted."""
    settings.LEAVEN_ENCRYPTION_KEYS = ""
    settings.LEAVEN_BLIND_INDEX_KEY = ""
    settings.LEAVEN_DERIVE_DEV_KEYS = False
    crypto.reset_keyring()
    try:
        with pytest.raises(ImproperlyConfigured):
            crypto.encrypt("x")
    finally:
        crypto.reset_keyring()
