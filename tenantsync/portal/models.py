"""The portal's one table (migration `portal_0001`): signed-in browser sessions.

A session row is found by the SHA-256 digest of its cookie token (a database leak reveals no
usable cookie), belongs to one application, and remembers the API key it was opened with, so
revoking that key ends the session too."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from tenantsync.controller.models import Base, utcnow


class PortalSession(Base):
    __tablename__ = "portal_sessions"
    digest: Mapped[str] = mapped_column(String(64), primary_key=True)
    application_id: Mapped[str] = mapped_column(ForeignKey("applications.id"), index=True)
    api_key_id: Mapped[int] = mapped_column(ForeignKey("api_keys.id", ondelete="CASCADE"))
    csrf: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime] = mapped_column()
