"""Errors in Supaglue's shape: `{"errors": [{"id", "title", "detail", "code", "problem_type",
"status", "meta": {"origin"}}]}`, with Supaglue's error codes. Request validation answers
400, as Supaglue's OpenAPI request validator did."""

from __future__ import annotations

import uuid

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from tenantsync.controller.crypto import CryptoError
from tenantsync.controller.registry import RegistryError

CODES = {400: "BAD_REQUEST", 401: "UNAUTHORIZED_ERROR", 403: "FORBIDDEN_ERROR",
         404: "NOT_FOUND_ERROR", 405: "METHOD_NOT_ALLOWED", 409: "CONFLICT_ERROR", 410: "GONE",
         413: "PAYLOAD_TOO_LARGE", 422: "UNPROCESSABLE_ENTITY_ERROR",
         500: "INTERNAL_SERVER_ERROR", 501: "NOT_IMPLEMENTED_ERROR",
         502: "REMOTE_PROVIDER_ERROR"}
VALIDATION = "VALIDATION_ERROR"  # Supaglue's problem type for a request its spec refuses


class ApiError(Exception):
    def __init__(self, status: int, title: str, detail: str | None = None):
        super().__init__(title)
        self.status, self.title, self.detail = status, title, detail or title


def not_found(detail: str) -> ApiError:
    return ApiError(404, "Not found", detail)


def bad_request(detail: str) -> ApiError:
    return ApiError(400, "Bad request", detail)


def body(status: int, title: str, detail: str, code: str | None = None) -> dict:
    code = code or CODES.get(status, "ERROR")
    origin = "remote-provider" if status == 502 else "supaglue"
    return {"errors": [{"id": str(uuid.uuid4()), "title": title, "detail": detail,
                        "code": code, "problem_type": code, "status": str(status),
                        "meta": {"origin": origin}}]}


def respond(status: int, title: str, detail: str, code: str | None = None) -> JSONResponse:
    return JSONResponse(body(status, title, detail, code), status_code=status)


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
        return respond(400, "Invalid request", _validation_detail(exc), VALIDATION)

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        return respond(exc.status_code, str(exc.detail), str(exc.detail))
