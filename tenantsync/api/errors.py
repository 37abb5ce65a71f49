"""Errors in Supaglue's shape: `{"errors": [{"id", "title", "detail", "code", "status"}]}`."""

from __future__ import annotations

import uuid

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from tenantsync.controller.crypto import CryptoError
from tenantsync.controller.registry import RegistryError

CODES = {400: "BAD_REQUEST", 401: "UNAUTHORIZED", 403: "FORBIDDEN", 404: "NOT_FOUND",
         405: "METHOD_NOT_ALLOWED", 409: "CONFLICT", 410: "GONE", 422: "BAD_REQUEST",
         500: "INTERNAL_SERVER_ERROR", 502: "BAD_GATEWAY"}


class ApiError(Exception):
    def __init__(self, status: int, title: str, detail: str | None = None):
        super().__init__(title)
        self.status, self.title, self.detail = status, title, detail or title


def not_found(detail: str) -> ApiError:
    return ApiError(404, "Not found", detail)


def bad_request(detail: str) -> ApiError:
    return ApiError(400, "Bad request", detail)


def body(status: int, title: str, detail: str) -> dict:
    return {"errors": [{"id": str(uuid.uuid4()), "title": title, "detail": detail,
                        "code": CODES.get(status, "ERROR"), "status": str(status)}]}


def respond(status: int, title: str, detail: str) -> JSONResponse:
    return JSONResponse(body(status, title, detail), status_code=status)


def _validation_detail(exc: RequestValidationError) -> str:
    parts = []
    for err in exc.errors():
        where = ".".join(str(p) for p in err.get("loc", ()) if p != "body") or "body"
        parts.append(f"{where}: {err.get('msg', 'invalid')}")
    return "; ".join(parts) or "invalid request"


def install(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def _api(_: Request, exc: ApiError) -> JSONResponse:
        return respond(exc.status, exc.title, exc.detail)

    @app.exception_handler(RegistryError)
    async def _registry(_: Request, exc: RegistryError) -> JSONResponse:
        return respond(400, "Bad request", str(exc))

    @app.exception_handler(CryptoError)
    async def _crypto(_: Request, exc: CryptoError) -> JSONResponse:
        return respond(500, "Server misconfigured", str(exc))

    @app.exception_handler(RequestValidationError)
    async def _validation(_: Request, exc: RequestValidationError) -> JSONResponse:
        return respond(400, "Invalid request", _validation_detail(exc))

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        return respond(exc.status_code, str(exc.detail), str(exc.detail))
