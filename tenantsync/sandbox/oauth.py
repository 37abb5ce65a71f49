"""OAuth 2.0 state shared by every twin: registered clients, codes, refresh and access tokens.

The mechanics (grants, expiry, rotation, revocation) are the same across providers; a twin owns
the wire: endpoint paths, token formats and the exact response and error bodies. Auth faults live
here: `expire_access_tokens_after(n)` makes every access token die after n authenticated calls,
`revoke_refresh_tokens()` makes refreshes fail, and advancing the sandbox clock expires tokens
with a lifetime.
"""

from __future__ import annotations

import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from tenantsync.sandbox.clock import Clock

CODE_LIFETIME = timedelta(minutes=10)


class OAuthError(Exception):
    """A refused OAuth request; `reason` is one of the REASONS, a twin maps it to its own body."""

    REASONS = ("invalid_client", "invalid_code", "invalid_refresh_token", "redirect_mismatch",
               "unsupported_grant_type", "invalid_request")

    def __init__(self, reason: str, detail: str = ""):
        assert reason in self.REASONS, reason
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason
        self.detail = detail


@dataclass
class OAuthClient:
    client_id: str
    client_secret: str
    redirect_uris: list[str] | None = None  # None: any redirect URI is accepted


@dataclass
class Grant:
    """What a token or code stands for: a client, acting as a user, with scopes."""

    client_id: str
    user: str
    scope: str = ""
    redirect_uri: str | None = None


@dataclass
class AccessToken:
    token: str
    grant: Grant
    issued_at: datetime
    expires_at: datetime | None
    calls: int = 0
    revoked: bool = False


@dataclass
class _Store:
    clients: dict[str, OAuthClient] = field(default_factory=dict)
    codes: dict[str, tuple[Grant, datetime]] = field(default_factory=dict)
    refresh: dict[str, Grant] = field(default_factory=dict)
    revoked_refresh: set[str] = field(default_factory=set)
    access: dict[str, AccessToken] = field(default_factory=dict)


def default_token(kind: str) -> str:
    """An opaque random token (twins override `Sandbox.new_token` for provider formats)."""
    return secrets.token_urlsafe(32 if kind != "code" else 24)


class OAuthRegistry:
    def __init__(self, clock: Clock, *, token_factory: Callable[[str], str] = default_token,
                 access_lifetime: timedelta | None = None, rotate_refresh_tokens: bool = False,
                 default_user: str = "user"):
        self.clock = clock
        self.token_factory = token_factory
        self.access_lifetime = access_lifetime
        self.rotate_refresh_tokens = rotate_refresh_tokens
        self.default_user = default_user
        self.calls_per_access_token: int | None = None
        self._s = _Store()
        self._lock = threading.Lock()

    # -- clients -------------------------------------------------------------------------------

    def register_client(self, client_id: str | None = None, client_secret: str | None = None,
                        redirect_uris: list[str] | None = None) -> OAuthClient:
        client = OAuthClient(client_id or self.token_factory("client_id"),
                             client_secret or self.token_factory("client_secret"), redirect_uris)
        with self._lock:
            self._s.clients[client.client_id] = client
        return client

    def client(self, client_id: str | None) -> OAuthClient | None:
        with self._lock:
            return self._s.clients.get(client_id or "")

    def _authenticate(self, client_id: str | None, client_secret: str | None,
                      require_secret: bool) -> OAuthClient:
        client = self.client(client_id)
        if client is None:
            raise OAuthError("invalid_client", "unknown client_id")
        if (client_secret is not None or require_secret) and client_secret != client.client_secret:
            raise OAuthError("invalid_client", "client secret does not match")
        return client

    # -- authorization code flow --------------------------------------------------------------

    def check_redirect(self, client_id: str | None, redirect_uri: str | None) -> OAuthClient:
        client = self._authenticate(client_id, None, require_secret=False)
        if not redirect_uri:
            raise OAuthError("invalid_request", "redirect_uri is required")
        if client.redirect_uris is not None and redirect_uri not in client.redirect_uris:
            raise OAuthError("redirect_mismatch", "redirect_uri is not registered for this client")
        return client

    def issue_code(self, client_id: str, redirect_uri: str, scope: str = "",
                   user: str | None = None) -> str:
        client = self.check_redirect(client_id, redirect_uri)
        code = self.token_factory("code")
        grant = Grant(client.client_id, user or self.default_user, scope, redirect_uri)
        with self._lock:
            self._s.codes[code] = (grant, self.clock.now() + CODE_LIFETIME)
        return code

    def exchange_code(self, client_id: str | None, client_secret: str | None, code: str | None,
                      redirect_uri: str | None) -> tuple[AccessToken, str]:
        """Redeem a code (once) for an access token and a refresh token."""
        client = self._authenticate(client_id, client_secret, require_secret=True)
        with self._lock:
            entry = self._s.codes.pop(code or "", None)
        if entry is None or entry[1] < self.clock.now() or entry[0].client_id != client.client_id:
            raise OAuthError("invalid_code", "expired authorization code")
        grant = entry[0]
        if redirect_uri is not None and redirect_uri != grant.redirect_uri:
            raise OAuthError("redirect_mismatch", "redirect_uri does not match the authorization")
        return self._new_access(grant), self._new_refresh(grant)

    # -- refresh -------------------------------------------------------------------------------

    def refresh(self, client_id: str | None, client_secret: str | None,
                refresh_token: str | None, *, require_secret: bool = True
                ) -> tuple[AccessToken, str | None]:
        """A new access token; plus a new refresh token (the old one dies) when rotating."""
        client = self._authenticate(client_id, client_secret, require_secret)
        with self._lock:
            grant = self._s.refresh.get(refresh_token or "")
            usable = (grant is not None and refresh_token not in self._s.revoked_refresh
                      and grant.client_id == client.client_id)
            if usable and self.rotate_refresh_tokens:
                del self._s.refresh[refresh_token]
        if not usable:
            raise OAuthError("invalid_refresh_token", "expired access/refresh token")
        new_refresh = self._new_refresh(grant) if self.rotate_refresh_tokens else None
        return self._new_access(grant), new_refresh

    def mint_refresh_token(self, client_id: str | None = None, user: str | None = None,
                           scope: str = "") -> str:
        """A valid refresh token without the browser flow (tests, demo)."""
        return self._new_refresh(Grant(self._mint_client(client_id), user or self.default_user,
                                       scope))

    def mint_access_token(self, client_id: str | None = None, user: str | None = None) -> str:
        """A valid access token without any flow (tests)."""
        grant = Grant(self._mint_client(client_id), user or self.default_user)
        return self._new_access(grant).token

    def _mint_client(self, client_id: str | None) -> str:
        if client_id is None:
            with self._lock:
                if not self._s.clients:
                    raise ValueError("register an OAuth client first")
                return next(iter(self._s.clients))
        if self.client(client_id) is None:
            raise ValueError(f"unknown OAuth client_id {client_id!r}")
        return client_id

    def _new_refresh(self, grant: Grant) -> str:
        token = self.token_factory("refresh")
        with self._lock:
            self._s.refresh[token] = grant
        return token

    def _new_access(self, grant: Grant) -> AccessToken:
        now = self.clock.now()
        expires = now + self.access_lifetime if self.access_lifetime else None
        token = AccessToken(self.token_factory("access"), grant, now, expires)
        with self._lock:
            self._s.access[token.token] = token
        return token

    # -- resource access -----------------------------------------------------------------------

    def use(self, token: str | None) -> AccessToken | None:
        """Count one API call on `token`; None if it is unknown, revoked or expired."""
        with self._lock:
            entry = self._s.access.get(token or "")
            if entry is None or entry.revoked:
                return None
            if entry.expires_at is not None and entry.expires_at <= self.clock.now():
                return None
            limit = self.calls_per_access_token
            if limit is not None and entry.calls >= limit:
                return None
            entry.calls += 1
            return entry

    def peek(self, token: str | None) -> AccessToken | None:
        """The access token's entry without counting a call (None if never issued), so a twin
        can tell an expired token from an unknown one in its error."""
        with self._lock:
            return self._s.access.get(token or "")

    # -- auth faults ---------------------------------------------------------------------------

    def expire_access_tokens_after(self, calls: int | None) -> None:
        """Every access token dies after `calls` authenticated calls (None: no such limit)."""
        if calls is not None and calls < 0:
            raise ValueError(f"calls must be >= 0, got {calls}")
        self.calls_per_access_token = calls

    def expire_access_tokens(self) -> int:
        """Kill every access token issued so far; returns how many."""
        with self._lock:
            for entry in self._s.access.values():
                entry.revoked = True
            return len(self._s.access)

    def revoke_access_token(self, token: str) -> bool:
        """Kill one access token; False if it is unknown."""
        with self._lock:
            entry = self._s.access.get(token)
            if entry is not None:
                entry.revoked = True
            return entry is not None

    def revoke_refresh_tokens(self, token: str | None = None) -> int:
        """Revoke one refresh token, or all of them; returns how many."""
        with self._lock:
            victims = [token] if token is not None else list(self._s.refresh)
            victims = [t for t in victims if t in self._s.refresh]
            self._s.revoked_refresh.update(victims)
            return len(victims)
