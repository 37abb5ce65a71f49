"""The Management Portal: server-rendered pages at /portal on the service's own app, signed in
with an application's API key, acting through the Management API's route functions."""

from __future__ import annotations

import contextlib
import secrets
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles

from tenantsync.api.service import DbSession
from tenantsync.portal import admin_pages, config_pages, customer_pages, sessions, sync_pages
from tenantsync.portal.web import HERE, Failed, Missing, form_values, templates

PREFIX = "/portal"
LOGIN_COOKIE = "tenantsync_portal_login"  # double-submit token of the sign-in form
HEADERS = {"Content-Security-Policy": "default-src 'self'; img-src 'self' data:; "
                                      "frame-ancestors 'none'; form-action 'self'",
           "X-Frame-Options": "DENY", "X-Content-Type-Options": "nosniff",
           "Referrer-Policy": "same-origin", "Cache-Control": "no-store"}

auth = APIRouter()


def _secure(request: Request) -> bool:
    return request.app.state.config.public_url.startswith("https://")


def _login_page(request: Request, status: int = 200, error: str | None = None) -> Response:
    token = secrets.token_urlsafe(24)
    page = templates.TemplateResponse(request, "login.html", {"login_csrf": token,
                                                              "error": error},
                                      status_code=status)
    page.set_cookie(LOGIN_COOKIE, token, httponly=True, samesite="strict", path=PREFIX,
                    secure=_secure(request))
    return page


@auth.get("/login")
def login_form(request: Request) -> Response:
    return _login_page(request)


Form = Annotated[dict[str, Any], Depends(form_values)]


@auth.post("/login")
def login(request: Request, s: DbSession, form: Form) -> Response:
    expected = request.cookies.get(LOGIN_COOKIE)
    if not expected or not secrets.compare_digest(str(form.get("csrf", "")), expected):
        return _login_page(request, 403, "the sign-in form expired: please try again")
    token = sessions.sign_in(s, str(form.get("api_key", "")))
    if token is None:
        return _login_page(request, 401, "invalid or revoked API key")
    done = RedirectResponse(f"{PREFIX}/", status_code=303)
    done.set_cookie(sessions.COOKIE, token, httponly=True, samesite="lax", path=PREFIX,
                    max_age=int(sessions.LIFETIME.total_seconds()), secure=_secure(request))
    done.delete_cookie(LOGIN_COOKIE, path=PREFIX)
    return done


@auth.post("/logout")
def logout(request: Request, s: DbSession, form: Form) -> Response:
    with contextlib.suppress(sessions.SignedOut):  # already signed out: nothing to end
        sessions.check_csrf(sessions.current(s, request), form.get("csrf"))
    sessions.sign_out(s, request)
    done = RedirectResponse(f"{PREFIX}/login", status_code=303)
    done.delete_cookie(sessions.COOKIE, path=PREFIX)
    return done


ROUTERS = (auth, sync_pages.router, config_pages.router, customer_pages.router,
           admin_pages.router)


def install(app: FastAPI) -> None:
    """Mount the portal on the service's app (same process, registry and keys as the API)."""
    for router in ROUTERS:
        app.include_router(router, prefix=PREFIX, include_in_schema=False)
    app.mount(f"{PREFIX}/static", StaticFiles(directory=HERE / "static"), name="portal-static")

    @app.exception_handler(sessions.SignedOut)
    async def _signed_out(request: Request, _exc: sessions.SignedOut) -> Response:
        if request.method == "GET" and "fragment" not in request.query_params:
            return RedirectResponse(f"{PREFIX}/login", status_code=303)
        return HTMLResponse("signed out", status_code=401)

    @app.exception_handler(sessions.BadCsrf)
    async def _bad_csrf(request: Request, _exc: sessions.BadCsrf) -> Response:
        return templates.TemplateResponse(request, "error.html", {
            "status": 403, "text": "this form is missing its security token: reload the page "
                                   "and try again"}, status_code=403)

    @app.exception_handler(Failed)
    async def _failed(request: Request, exc: Failed) -> Response:
        return templates.TemplateResponse(request, "error.html", {
            "status": exc.status, "text": exc.message}, status_code=exc.status)

    @app.exception_handler(Missing)
    async def _missing(request: Request, exc: Missing) -> Response:
        return templates.TemplateResponse(request, "error.html", {
            "status": 404, "text": str(exc)}, status_code=404)

    @app.middleware("http")
    async def _headers(request: Request, call_next):
        response = await call_next(request)
        if request.url.path.startswith(PREFIX):
            for name, value in HEADERS.items():
                response.headers.setdefault(name, value)
        return response
