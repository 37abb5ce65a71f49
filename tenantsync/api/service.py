"""The service's configuration and the request dependencies: a registry session per request,
the caller's application from `x-api-key`, and re-rendering the Meltano config after changes."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated

from fastapi import Depends, Header, Request
from fastapi.security import APIKeyHeader
from sqlalchemy.orm import Session

from tenantsync.api import egress, keys
from tenantsync.api.errors import ApiError
from tenantsync.controller import db, render
from tenantsync.controller.registry import Registry

_render_lock = threading.Lock()
# The tenant of tenant-scoped routes (syncs, connection sync configs, data listings).
CustomerHeader = Header(..., alias="x-customer-id", min_length=1)
ProviderHeader = Header(..., alias="x-provider-name", min_length=1)
# The same headers as optional filters of listings (GET /syncs, /sync-runs)
CustomerFilterHeader = Header(None, alias="x-customer-id", min_length=1)
ProviderFilterHeader = Header(None, alias="x-provider-name", min_length=1)
api_key_header = APIKeyHeader(name="x-api-key", auto_error=False,
                              description="An application's API key (`tenantsync api-keys "
                                          "create`).")


@dataclass
class ServiceConfig:
    registry_url: str
    project: Path
    public_url: str  # where browsers reach this service (OAuth redirect URI, magic links)
    state_ttl_seconds: int = 600
    run_on_trigger: bool = True  # `_trigger` starts `meltano run` in the background
    # Internal hosts/addresses webhooks may reach (TENANTSYNC_WEBHOOK_ALLOWED_HOSTS: comma-
    # separated host names, IP addresses, CIDR networks); empty: public addresses only.
    webhook_allowed_hosts: egress.AllowList = field(default_factory=egress.AllowList.from_env)
    # The same for destinations' hosts (TENANTSYNC_DESTINATION_ALLOWED_HOSTS).
    destination_allowed_hosts: egress.AllowList = field(
        default_factory=egress.AllowList.destinations_from_env)


def config(request: Request) -> ServiceConfig:
    return request.app.state.config


def session(request: Request) -> Iterator[Session]:
    s = db.session(config(request).registry_url)
    try:
        yield s
    finally:
        s.close()


DbSession = Annotated[Session, Depends(session)]
ApiKeyHeader = Annotated[str | None, Depends(api_key_header)]


def registry(s: DbSession, key: str | None = Depends(api_key_header)
             ) -> Registry:
    """The caller's application, from its API key; everything it reaches is scoped to it."""
    app_id = keys.application_of(s, key)
    if app_id is None:
        raise ApiError(401, "Unauthorized",
                       "missing x-api-key header" if not key else "invalid or revoked API key")
    return Registry(s, app_id)


AppRegistry = Annotated[Registry, Depends(registry)]
Config = Annotated[ServiceConfig, Depends(config)]


def rerender(s: Session, cfg: ServiceConfig,
             customers: list[tuple[str, str]] | None = None) -> None:
    """A registry change re-renders the Meltano config (one writer at a time); a change to
    these (application, customer) pairs alone, only their syncs."""
    with _render_lock:
        render.render(s, cfg.project, customers)
