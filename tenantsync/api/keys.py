"""API keys: random, shown once, stored as digests, each scoped to one application."""

from __future__ import annotations

import hashlib
import secrets

from sqlalchemy import select
from sqlalchemy.orm import Session

from tenantsync.api.models import ApiKey
from tenantsync.controller.models import utcnow
from tenantsync.controller.registry import Registry

PREFIX = "tsk_"


def digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def create_key(session: Session, application_id: str) -> str:
    """A new key for `application_id` (created if missing); the only time it is readable."""
    Registry(session, application_id).application()
    key = PREFIX + secrets.token_urlsafe(32)
    session.add(ApiKey(application_id=application_id, digest=digest(key), prefix=key[:10]))
    session.flush()
    return key


def application_of(session: Session, key: str | None) -> str | None:
    """The application a key belongs to, or None for a missing, unknown or revoked key."""
    if not key:
        return None
    row = session.scalar(select(ApiKey).where(ApiKey.digest == digest(key)))
    if row is None or row.revoked_at is not None:
        return None
    return row.application_id


def revoke(session: Session, prefix: str, application_id: str | None = None) -> int:
    """Revoke the active keys with `prefix` (of one application, if given); how many."""
    query = select(ApiKey).where(ApiKey.prefix == prefix, ApiKey.revoked_at.is_(None))
    if application_id is not None:
        query = query.where(ApiKey.application_id == application_id)
    rows = list(session.scalars(query))
    for row in rows:
        row.revoked_at = utcnow()
    return len(rows)
