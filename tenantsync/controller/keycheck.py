"""Which key seals the registry: its fingerprint is stored in the registry (`registry_meta`),
so a process with a different `TENANTSYNC_SECRET_KEY` is refused in one line when it opens the
registry, instead of sealing new secrets under a second key. `rotate` re-seals every secret
under a new key and records the new fingerprint in one transaction.

The fingerprint is an HMAC of a fixed label under the key: it identifies the key without
revealing anything that helps to guess it (the key is 256 random bits, `tenantsync keygen`).
"""

from __future__ import annotations

import hashlib
import hmac
import os
import threading

from sqlalchemy import Table, select, update
from sqlalchemy.exc import IntegrityError, OperationalError, ProgrammingError
from sqlalchemy.orm import Session

from tenantsync.controller import crypto
from tenantsync.controller.models import Base, RegistryMeta

FINGERPRINT = "secret_key_fingerprint"
NEW_KEY_ENV = "TENANTSYNC_NEW_SECRET_KEY"
_verified: set[tuple[str, str]] = set()  # (registry URL, fingerprint) checked in this process
_lock = threading.Lock()


def fingerprint(secret: str) -> str:
    return hmac.new(secret.encode(), b"tenantsync key fingerprint v1",
                    hashlib.sha256).hexdigest()[:32]


def _sealed_columns() -> list[tuple[Table, str]]:
    """Every column that holds sealed secrets (by the models' naming rule: `sealed_*`)."""
    return [(t, c.name) for t in Base.metadata.sorted_tables for c in t.columns
            if c.name.startswith("sealed_")]


def _a_sealed_value(s: Session) -> str | None:
    for table, column in _sealed_columns():
        value = s.execute(select(table.c[column]).where(table.c[column].is_not(None))
                          .limit(1)).scalar()
        if value:
            return value
    return None


def _mismatch(stored: str) -> crypto.CryptoError:
    return crypto.CryptoError(
        f"{crypto.KEY_ENV} is not the key this registry's secrets are sealed with "
        f"(key fingerprint {fingerprint(os.environ[crypto.KEY_ENV])[:12]}, registry's "
        f"{stored[:12]}): set the right key, or change keys with `tenantsync rotate-key`")


def verify(s: Session, url: str) -> None:
    """Refuse a `TENANTSYNC_SECRET_KEY` other than the registry's; the first key used with a
    registry (that opens its existing secrets, if any) becomes its key."""
    secret = os.environ.get(crypto.KEY_ENV)
    if not secret:
        return  # nothing can be sealed or opened; commands that need the key say so
    mine = fingerprint(secret)
    if (url, mine) in _verified:
        return
    with _lock:
        try:
            row = s.get(RegistryMeta, FINGERPRINT)
        except (OperationalError, ProgrammingError):  # opened unmigrated (upgrade=False)
            s.rollback()
            return
        if row is None:
            existing = _a_sealed_value(s)
            if existing is not None:
                try:
                    crypto.unseal(existing, secret)
                except crypto.CryptoError:
                    s.rollback()
                    raise _mismatch("(unrecorded)") from None
            s.add(RegistryMeta(key=FINGERPRINT, value=mine))
            try:
                s.commit()
            except IntegrityError:  # another process recorded it first: compare with that
                s.rollback()
                row = s.get(RegistryMeta, FINGERPRINT)
        if row is not None and not hmac.compare_digest(row.value, mine):
            stored = row.value
            s.rollback()
            raise _mismatch(stored)
        s.commit()
        _verified.add((url, mine))


def rotate(s: Session, url: str, new_secret: str) -> int:
    """Re-seal every secret under `new_secret` and record its fingerprint, atomically (one
    transaction: a failure leaves everything under the old key). Returns how many."""
    old = os.environ.get(crypto.KEY_ENV)
    if not old:
        raise crypto.CryptoError(f"{crypto.KEY_ENV} must hold the current key to rotate it")
    if len(new_secret) < crypto.MIN_SECRET_LENGTH:
        raise crypto.CryptoError(f"{NEW_KEY_ENV} must be at least "
                                 f"{crypto.MIN_SECRET_LENGTH} characters")
    if new_secret == old:
        raise crypto.CryptoError(f"{NEW_KEY_ENV} is the current key: nothing to rotate")
    verify(s, url)
    count = 0
    for table, column in _sealed_columns():
        key = list(table.primary_key.columns)
        rows = s.execute(select(*key, table.c[column]).where(table.c[column].is_not(None)))
        for *ids, value in rows.all():
            resealed = crypto.seal(crypto.unseal(value, old), new_secret)
            s.execute(update(table).where(*(k == v for k, v in zip(key, ids, strict=True)))
                      .values({column: resealed}))
            count += 1
    row = s.get(RegistryMeta, FINGERPRINT)
    if row is None:
        s.add(RegistryMeta(key=FINGERPRINT, value=fingerprint(new_secret)))
    else:
        row.value = fingerprint(new_secret)
    s.commit()
    _verified.discard((url, fingerprint(old)))
    return count
