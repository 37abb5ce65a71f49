"""The FastAPI application and `serve` (uvicorn). OpenAPI: `/openapi.json`, docs: `/docs`, `/redoc`
(served offline)."""

from __future__ import annotations

import logging
import os
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI
from fastapi_offline import FastAPIOffline

from tenantsync import portal
from tenantsync.api import (
    connect_sessions,
    data,
    destination_check,
    errors,
    limits,
    link_routes,
    mgmt,
    oauth,
    runs,
    schema_routes,
    sync_routes,
)
from tenantsync.api.service import ServiceConfig
from tenantsync.api.webhooks import Dispatcher
from tenantsync.controller import db

PUBLIC_URL_ENV = "TENANTSYNC_PUBLIC_URL"
# Browser routes carry authorization codes and states in their query: never log those.
_REDACTED_PREFIXES = ("/oauth/", "/links/")


class RedactQueries(logging.Filter):
    """Strips the query string of browser routes from uvicorn's access log lines."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and len(args) >= 3 and isinstance(args[2], str) \
                and args[2].startswith(_REDACTED_PREFIXES) and "?" in args[2]:
            record.args = (*args[:2], args[2].split("?", 1)[0] + "?[redacted]", *args[3:])
        return True


def _redact_access_log() -> None:
    access = logging.getLogger("uvicorn.access")
    if not any(isinstance(f, RedactQueries) for f in access.filters):
        access.addFilter(RedactQueries())


def create_app(cfg: ServiceConfig | None = None, *, webhooks: bool = True) -> FastAPI:
    cfg = cfg or default_config()
    runs.install(cfg.registry_url)
    _redact_access_log()
    dispatcher = Dispatcher(lambda: db.session(cfg.registry_url),
                            allowed=lambda: cfg.webhook_allowed_hosts) if webhooks else None

    @asynccontextmanager
    async def lifespan(_app: FastAPI):
        db.session(cfg.registry_url).close()  # migrate before the first request
        if dispatcher:
            dispatcher.start()
        yield
        if dispatcher:
            dispatcher.stop()

    # FastAPIOffline: FastAPI whose /docs and /redoc load their assets from the installed
    # package, so they work without internet
    app = FastAPIOffline(title="tenantsync", version="2", lifespan=lifespan,
                         description="Supaglue-compatible management, managed "
                                     "authentication and Data Listing APIs.")
    app.state.config = cfg
    app.add_middleware(limits.RequestLimits)
    errors.install(app)
    for router in (mgmt.router, sync_routes.router, schema_routes.router, link_routes.router,
                   connect_sessions.router, oauth.router, data.router,
                   destination_check.router):
        app.include_router(router)

    portal.install(app)

    @app.get("/health", tags=["service"])
    def health() -> dict:
        return {"status": "ok"}

    return app


def default_config(host: str = "127.0.0.1", port: int = 8080) -> ServiceConfig:
    return ServiceConfig(registry_url=db.registry_url(), project=db.project_dir(),
                         public_url=(os.environ.get(PUBLIC_URL_ENV)
                                     or f"http://{host}:{port}").rstrip("/"))


def serve(host: str = "127.0.0.1", port: int = 8080, project: Path | None = None) -> None:
    import uvicorn

    cfg = default_config(host, port)
    if project is not None:
        cfg.project = project
    uvicorn.run(create_app(cfg), host=host, port=port, log_level="info")
