"""Authenticators for HttpClient: an OAuth2 refresh-token grant (with rotation handed to token
sinks) and a fixed access token."""

from __future__ import annotations

import base64
import logging
import time
from collections.abc import Callable, Iterable, Mapping
from typing import Any
from urllib.parse import urlsplit

from tenantsync.tapkit import observed
from tenantsync.tapkit.errors import AuthError, FatalHttpError, TokenSinkError
from tenantsync.tapkit.http import HttpClient
from tenantsync.tapkit.tokens import TokenSink, TokenUpdate, fingerprint

log = logging.getLogger("tenantsync.tapkit.oauth")

EXPIRY_MARGIN_SECONDS = 60  # refresh this long before a declared expiry


class RefreshTokenAuth:
    """OAuth2 `refresh_token` grant. Refreshes lazily (first use), on a declared expiry, and when
    the provider rejects the session; hands a rotated refresh token to every sink."""

    def __init__(
        self,
        *,
        http: HttpClient,
        token_url: str,
        client_id: str,
        client_secret: str | None,
        refresh_token: str,
        provider: str,
        origin_token: str | None = None,
        sinks: Iterable[TokenSink] = (),
        extra_keys: Iterable[str] = (),
        clock: Callable[[], float] = time.monotonic,
        expiry_margin_seconds: float = EXPIRY_MARGIN_SECONDS,
        basic_client_auth: bool = False,
        grant_in_query: bool = False,
        form: Mapping[str, str] | None = None,
    ):
        self._http = http
        self._margin = expiry_margin_seconds
        self.token_url = token_url
        self._client_id = client_id
        self._client_secret = client_secret
        self._refresh_token = refresh_token
        self._origin = fingerprint(origin_token or refresh_token)
        self.provider = provider
        self._sinks = list(sinks)
        self._extra_keys = tuple(extra_keys)  # non-secret response fields sinks also get
        # RFC 6749 2.3.1: client credentials in an HTTP Basic header instead of the form.
        self._basic = basic_client_auth or grant_in_query
        # Gong: the grant goes in the URL query (client as HTTP Basic), the body stays empty
        self._in_query = grant_in_query
        self._form = dict(form or {})  # what else the grant needs (Entra's `scope`)
        self._clock = clock
        self._access_token: str | None = None
        self._expires_at: float | None = None
        self.token_response: dict[str, Any] = {}  # last response, secrets removed
        self.refreshes = 0

    def secrets(self) -> tuple[str | None, ...]:
        return (self._client_secret, self._refresh_token, self._access_token, self._client_id)

    def apply(self, headers: dict[str, str]) -> None:
        if self._access_token is None or (
                self._expires_at is not None and self._clock() >= self._expires_at):
            self.refresh()
        headers["Authorization"] = f"Bearer {self._access_token}"

    def refresh(self) -> None:
        form = {"grant_type": "refresh_token", "refresh_token": self._refresh_token,
                **self._form}
        headers = {"Accept": "application/json"}
        if self._basic:
            pair = f"{self._client_id}:{self._client_secret or ''}".encode()
            headers["Authorization"] = "Basic " + base64.b64encode(pair).decode()
        else:
            form["client_id"] = self._client_id
            if self._client_secret:
                form["client_secret"] = self._client_secret
        try:
            where = {"params": form} if self._in_query else {"data": form}
            body = self._http.request("POST", self.token_url, authenticate=False,
                                      headers=headers, **where)
        except FatalHttpError as exc:
            host = urlsplit(self.token_url).netloc  # which server: the one-line error says it
            if exc.status is None or exc.status >= 500:  # down or unreachable: no refusal
                raise FatalHttpError(f"{self.provider} token endpoint {host}: {exc}",
                                     status=exc.status, code=exc.code) from None
            raise AuthError(
                f"{self.provider} refused the refresh token at {host} ({exc}). Re-authorize the "
                "connection; with refresh-token rotation on, make sure the rotated token is "
                "persisted between runs (token store or token sink).") from None
        if not isinstance(body, dict) or not isinstance(body.get("access_token"), str):
            raise AuthError(f"{self.provider} token endpoint answered without an access_token")
        self.refreshes += 1
        self._access_token = body["access_token"]
        expires_in = body.get("expires_in")
        self._expires_at = (self._clock() + max(0.0, float(expires_in) - self._margin)
                            if isinstance(expires_in, (int, float, str)) and str(expires_in)
                            else None)
        self.token_response = {k: v for k, v in body.items()
                               if k not in ("access_token", "refresh_token", "id_token")}
        observed.saw_token(self.token_response)
        rotated = body.get("refresh_token")
        if isinstance(rotated, str) and rotated and rotated != self._refresh_token:
            self._rotate(rotated)

    def _rotate(self, new_token: str) -> None:
        update = TokenUpdate(
            provider=self.provider, refresh_token=new_token, origin=self._origin,
            replaces=fingerprint(self._refresh_token),
            extra={k: str(self.token_response[k]) for k in self._extra_keys
                   if k in self.token_response})
        self._refresh_token = new_token
        log.info("%s rotated the refresh token (now %s); handing it to %d sink(s).",
                 self.provider, fingerprint(new_token), len(self._sinks))
        if not self._sinks:
            log.warning("%s rotated the refresh token but no token sink or token store is "
                        "configured: the next run will fail with invalid_grant.", self.provider)
        for sink in self._sinks:
            try:
                sink(update)
            except TokenSinkError:
                raise
            except Exception as exc:
                raise TokenSinkError(
                    f"token sink {getattr(sink, '__name__', type(sink).__name__)} failed to "
                    f"store the rotated {self.provider} refresh token "
                    f"({type(exc).__name__})") from None


class StaticTokenAuth:
    """A fixed access token: nothing to refresh, so an expired session is a clear error."""

    def __init__(self, access_token: str, provider: str):
        self._access_token = access_token
        self.provider = provider
        self.token_response: Mapping[str, Any] = {}

    def secrets(self) -> tuple[str | None, ...]:
        return (self._access_token,)

    def apply(self, headers: dict[str, str]) -> None:
        headers["Authorization"] = f"Bearer {self._access_token}"

    def refresh(self) -> None:
        raise AuthError(f"{self.provider} rejected the configured access_token (expired or "
                        "revoked); configure client_id, client_secret and refresh_token so the "
                        "tap can renew sessions itself")
