"""The portal's request plumbing: the signed-in page context, forms checked for CSRF, calls of
the Management API's own route functions (so the portal has no second copy of their rules),
and rendering with Jinja."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.templating import Jinja2Templates
from pydantic import ValidationError
from sqlalchemy.orm import Session

from tenantsync.api import shapes
from tenantsync.api.errors import ApiError
from tenantsync.api.service import DbSession, ServiceConfig
from tenantsync.controller.registry import Registry, RegistryError
from tenantsync.portal import sessions

HERE = Path(__file__).parent
templates = Jinja2Templates(directory=HERE / "templates")
templates.env.filters["iso"] = lambda v: (shapes.iso(v) or "")[:19].replace("T", " ")
PAGE_SIZE = 50


class Failed(Exception):
    """An action the API refused: its status, its message, and messages per form field."""

    def __init__(self, status: int, message: str, fields: dict[str, str] | None = None):
        super().__init__(message)
        self.status, self.message, self.fields = status, message, fields or {}


class Missing(Exception):
    """Not found, or another application's: the page answers 404 (never a form message)."""


class Ctx:
    """One signed-in request: the session's application's registry and the service config."""

    def __init__(self, request: Request, s: Session, signed: sessions.Signed):
        self.request, self.s, self.signed = request, s, signed
        self.reg = Registry(s, signed.application_id)
        self.cfg: ServiceConfig = request.app.state.config

    @property
    def app_id(self) -> str:
        return self.signed.application_id

    def render(self, template: str, status: int = 200, **values: Any) -> HTMLResponse:
        return templates.TemplateResponse(self.request, template, {
            "csrf": self.signed.csrf, "application_id": self.app_id,
            "message": self.request.query_params.get("msg"), **values}, status_code=status)

    def call(self, fn: Callable[..., Any], **kwargs: Any) -> Any:
        """An API route function on this session's registry; a refusal becomes `Failed`, a
        404 `Missing` (the thing is not this application's)."""
        try:
            return fn(reg=self.reg, cfg=self.cfg, **kwargs) if _takes_cfg(fn) \
                else fn(reg=self.reg, **kwargs)
        except ApiError as exc:
            self.s.rollback()
            if exc.status == 404:
                raise Missing(exc.detail) from None
            raise Failed(exc.status, exc.detail) from None
        except RegistryError as exc:
            self.s.rollback()
            raise Failed(400, str(exc)) from None


def _takes_cfg(fn: Callable[..., Any]) -> bool:
    return "cfg" in inspect.signature(fn).parameters


def body(model: type, doc: dict[str, Any]) -> Any:
    """A route's request model from form values; messages per field (dotted path) if not."""
    try:
        return model.model_validate(doc)
    except ValidationError as exc:
        fields = {".".join(str(p) for p in e["loc"]): e["msg"] for e in exc.errors()}
        raise Failed(400, "please correct the fields marked below", fields) from None


def redirect(path: str, message: str | None = None, **query: str) -> RedirectResponse:
    query = {k: v for k, v in query.items() if v}
    if message:
        query["msg"] = message
    return RedirectResponse(path + ("?" + urlencode(query) if query else ""), status_code=303)


def page_ctx(request: Request, s: DbSession) -> Ctx:
    return Ctx(request, s, sessions.current(s, request))


async def form_values(request: Request) -> dict[str, Any]:
    form = await request.form()
    return {k: (form.getlist(k) if len(form.getlist(k)) > 1 else v) for k, v in form.items()}


def form_ctx(ctx: Annotated[Ctx, Depends(page_ctx)],
             form: Annotated[dict[str, Any], Depends(form_values)]) -> Ctx:
    """A signed-in POST whose form carries the session's CSRF token."""
    sessions.check_csrf(ctx.signed, form.get("csrf") if isinstance(form.get("csrf"), str)
                        else None)
    ctx.form = form  # type: ignore[attr-defined]
    return ctx


Page = Annotated[Ctx, Depends(page_ctx)]
Action = Annotated[Ctx, Depends(form_ctx)]


def field(ctx: Ctx, name: str) -> str:
    value = ctx.form.get(name, "")  # type: ignore[attr-defined]
    return (value[0] if isinstance(value, list) else value).strip()


def optional(ctx: Ctx, name: str) -> str | None:
    return field(ctx, name) or None
