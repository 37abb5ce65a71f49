"""Who may start a browser connection (`/oauth/connect`).

A connection's credentials decide whose data lands in a customer's tables, so the browser
flow starts only from something an application's key holder issued:

- a connect session: `POST /mgmt/v2/connect_sessions` returns a short-lived, single-use
  signed token and the `/oauth/connect?connect_session=` URL to send the customer to (as
  Nango's connect sessions);
- a magic link (`/links/{id}`, tenantsync.api.link_routes).

Either says whether it may replace an existing connection (`replace`, default false); without
it, a customer that is already connected keeps its connection and the flow ends in an error.
Supaglue's key-less form (`/oauth/connect?application_id=&customer_id=...`) is served only for
an application that turned it on (`tenantsync applications set <id> --public-connect`), and
never replaces a connection: anyone who knows a customer id could otherwise connect their own
account in that customer's name.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from urllib.parse import urlencode

from fastapi import APIRouter
from pydantic import Field
from sqlalchemy.orm import Session

from tenantsync.api import state as signed_state
from tenantsync.api.errors import ApiError, bad_request
from tenantsync.api.mgmt import Name, Strict, missing
from tenantsync.api.service import AppRegistry, Config
from tenantsync.controller.models import Application

router = APIRouter(prefix="/mgmt/v2", tags=["managed authentication"])
DEFAULT_TTL_SECONDS = 30 * 60
ReturnUrl = Field(min_length=1, max_length=2048, pattern=r"^https?://[^\x00\r\n]+$")


@dataclass(frozen=True)
class Grant:
    """What one browser flow may do: connect this customer to this provider, and replace an
    existing connection only if `replace`."""

    application_id: str
    customer_id: str
    provider_name: str
    return_url: str
    replace: bool = False


class ConnectSessionIn(Strict):
    customer_id: str = Name
    provider_name: str = Name
    return_url: str = ReturnUrl
    replace: bool = False
    expiration_secs: int = Field(default=DEFAULT_TTL_SECONDS, ge=60, le=24 * 3600)


@router.post("/connect_sessions", status_code=201)
def create_connect_session(*, body: ConnectSessionIn, reg: AppRegistry, cfg: Config) -> dict:
    """A single-use link that starts the OAuth flow for one customer and provider."""
    missing(reg.customer, body.customer_id)
    provider = missing(reg.provider, body.provider_name)
    if provider.auth_type != "oauth2":
        raise bad_request(f"provider {provider.name!r} uses {provider.auth_type}: import its "
                          "credentials with POST /customers/{customer_id}/connections")
    token = signed_state.sign({"app": reg.app_id, "customer": body.customer_id,
                               "provider": body.provider_name, "return_url": body.return_url,
                               "replace": body.replace}, body.expiration_secs,
                              signed_state.CONNECT_SESSION)
    expires = datetime.now(timezone.utc) + timedelta(seconds=body.expiration_secs)
    return {"token": token, "replace": body.replace,
            "connect_url": f"{cfg.public_url}/oauth/connect?"
                           + urlencode({"connect_session": token}),
            "expires_at": expires.isoformat().replace("+00:00", "Z")}


def from_session(s: Session, token: str) -> Grant:
    """The grant of a connect session token, used up (a second use is refused)."""
    try:
        payload = signed_state.verify(token, signed_state.CONNECT_SESSION)
        signed_state.consume(s, payload)
        s.commit()
    except signed_state.StateError as exc:
        raise ApiError(400, "Invalid connect session", str(exc)) from None
    return Grant(payload["app"], payload["customer"], payload["provider"],
                 payload["return_url"], bool(payload.get("replace")))


def from_query(s: Session, application_id: str | None, customer_id: str | None,
               provider_name: str | None, return_url: str | None) -> Grant:
    """Supaglue's key-less form, for an application that turned it on; never replaces."""
    given = {"application_id": application_id, "customer_id": customer_id,
             "provider_name": provider_name, "return_url": return_url}
    absent = [k for k, v in given.items() if not v]
    if absent:
        raise bad_request(f"connect needs a connect_session (POST /mgmt/v2/connect_sessions), "
                          f"or {', '.join(absent)}")
    app = s.get(Application, application_id)
    if app is None or not app.public_connect:
        raise ApiError(403, "Forbidden", f"application {application_id!r} does not accept "
                       "connections started without a connect session or magic link: its "
                       "key holder creates one (POST /mgmt/v2/connect_sessions)")
    return Grant(str(application_id), str(customer_id), str(provider_name), str(return_url))
