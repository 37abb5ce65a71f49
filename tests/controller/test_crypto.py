from __future__ import annotations

import pytest

from tenantsync.controller import crypto


def test_round_trip_with_a_fresh_nonce_each_time(secret_key):
    doc = {"refresh_token": "rt-very-secret", "n": 1}
    a, b = crypto.seal(doc), crypto.seal(doc)
    assert a != b and a.startswith("v1:")
    assert "rt-very-secret" not in a
    assert crypto.unseal(a) == crypto.unseal(b) == doc


def test_wrong_key_is_refused_not_garbled(secret_key):
    sealed = crypto.seal({"x": 1})
    with pytest.raises(crypto.CryptoError, match="not the key it was encrypted with"):
        crypto.unseal(sealed, "another-key-of-enough-length")


def test_altered_value_is_refused(secret_key):
    sealed = crypto.seal({"x": 1})
    body = sealed[3:]
    flipped = body[:10] + ("A" if body[10] != "A" else "B") + body[11:]
    with pytest.raises(crypto.CryptoError):
        crypto.unseal("v1:" + flipped)
    with pytest.raises(crypto.CryptoError, match="unknown format"):
        crypto.unseal("plain text")
    with pytest.raises(crypto.CryptoError, match="truncated"):
        crypto.unseal("v1:AAAA")


def test_missing_or_short_key_says_what_to_do(monkeypatch):
    monkeypatch.delenv(crypto.KEY_ENV, raising=False)
    with pytest.raises(crypto.CryptoError, match="TENANTSYNC_SECRET_KEY is not set"):
        crypto.seal({"x": 1})
    with pytest.raises(crypto.CryptoError, match="at least 16"):
        crypto.seal({"x": 1}, "short")


def test_generated_secrets_are_usable_and_distinct():
    a, b = crypto.generate_secret(), crypto.generate_secret()
    assert a != b
    assert crypto.unseal(crypto.seal({"k": "v"}, a), a) == {"k": "v"}
