"""The errors every tap built on tapkit raises, and the one place secrets are scrubbed from text."""

from __future__ import annotations

from collections.abc import Iterable


class TapkitError(Exception):
    """Base of tapkit errors. Messages never contain secrets (see `redact`)."""


class FatalHttpError(TapkitError):
    """A request failed in a way retrying cannot fix (4xx, or retries exhausted)."""

    def __init__(self, message: str, *, status: int | None = None, code: str | None = None):
        super().__init__(message)
        self.status = status
        self.code = code


class AuthError(TapkitError):
    """Credentials were refused (bad refresh token, revoked grant, session rejected twice)."""


class TokenSinkError(TapkitError):
    """A rotated refresh token could not be handed to its sink; the next run would fail."""


class StopSync(TapkitError):
    """Stop the whole run cleanly: the provider's quota (or our guard) says no more calls today.

    Streams finish the records they already fetched, keep their bookmarks and do not complete a
    full sync, so the next run resumes exactly where this one stopped.
    """


class RetriableBodyError(TapkitError):
    """A 2xx response whose body is unusable (truncated JSON, short CSV): fetch it again."""


_MASK = "***"


def redact(text: str, secrets: Iterable[str | None]) -> str:
    """`text` with every known secret value replaced by a mask (short values are left alone,
    they are not secrets and masking them would shred ordinary words)."""
    for secret in secrets:
        if secret and len(secret) >= 8:
            text = text.replace(secret, _MASK)
    return text
