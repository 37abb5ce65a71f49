"""Token persistence: where a rotated refresh token goes so that the next run can still log in.

Providers that rotate refresh tokens (Salesforce with rotation on, HubSpot, ...) invalidate the
old token when they issue a new one. A tap hands every new token to its sinks:
- a callback `TokenSink(update)`; the controller plugs in its own (a setting naming
  `module:function`, loaded by `load_sink`);
- `FileTokenStore`, when a tap runs alone: a JSON file written atomically with mode 0600 that
  the next run reads.

A stored token only replaces the configured one while the configuration still holds the token
the chain started from (its fingerprint is kept in the file); after a re-authorization puts a
new token in the configuration, the configuration wins.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib
import json
import os
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from tenantsync.tapkit.errors import TokenSinkError


def fingerprint(token: str) -> str:
    """A short, one-way name for a token: safe to store and log, useless to an attacker."""
    return hashlib.sha256(token.encode()).hexdigest()[:16]


@dataclass(frozen=True)
class TokenUpdate:
    provider: str
    refresh_token: str = field(repr=False)
    origin: str  # fingerprint of the configured refresh token this chain of rotations began with
    replaces: str  # fingerprint of the refresh token this one replaces
    extra: Mapping[str, str] = field(default_factory=dict)  # non-secret extras (instance_url)


TokenSink = Callable[[TokenUpdate], None]


def load_sink(spec: str) -> TokenSink:
    """Resolve a `package.module:function` setting to the callable it names."""
    module_name, sep, attr = spec.partition(":")
    if not sep or not module_name or not attr:
        raise TokenSinkError(f"token sink {spec!r} must look like 'package.module:function'")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise TokenSinkError(
            f"token sink {spec!r}: cannot import {module_name!r} ({exc})") from None
    sink = getattr(module, attr, None)
    if not callable(sink):
        raise TokenSinkError(f"token sink {spec!r}: {module_name} has no callable {attr!r}")
    return sink


class FileTokenStore:
    """A refresh token kept in a JSON file (mode 0600), replaced atomically."""

    def __init__(self, path: str | os.PathLike[str]):
        self.path = Path(path).expanduser()

    def load(self, configured_token: str) -> str | None:
        """The newest token of the chain that began with `configured_token`, if stored."""
        try:
            data = json.loads(self.path.read_text())
        except FileNotFoundError:
            return None
        except (OSError, ValueError) as exc:
            raise TokenSinkError(f"token store {self.path} is unreadable ({exc})") from None
        if not isinstance(data, dict) or not isinstance(data.get("refresh_token"), str):
            raise TokenSinkError(f"token store {self.path} has no 'refresh_token' string")
        if data.get("origin") != fingerprint(configured_token):
            return None  # the configuration was re-authorized since: it wins
        return data["refresh_token"]

    def __call__(self, update: TokenUpdate) -> None:
        body = json.dumps({
            "provider": update.provider,
            "refresh_token": update.refresh_token,
            "origin": update.origin,
            "updated_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            **dict(update.extra),
        }, indent=2)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        # Write a private temp file beside the target, fsync, then rename over it: a reader
        # sees the old token or the new one, never half of one.
        # mkstemp creates the file with mode 0600.
        fd, tmp = tempfile.mkstemp(prefix=".tokens-", dir=self.path.parent)
        try:
            with os.fdopen(fd, "w") as fh:
                fh.write(body)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, self.path)
        except OSError as exc:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise TokenSinkError(f"cannot write token store {self.path} ({exc})") from None
