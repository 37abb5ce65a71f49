"""Events and webhooks: `sync.complete`, `sync.paused`, `connection.created`,
`connection.deleted`, `object.field_mapping.created|updated`, recorded as events and posted
to each subscribed endpoint of the application, signed and retried.

Signature header `x-tenantsync-signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of
"<t>.<body>">` under the endpoint's secret (returned once, when the endpoint is created).
A delivery that fails (network error or a non-2xx answer) is retried with exponential backoff
until MAX_ATTEMPTS, then marked failed. Each attempt first checks the URL again
(`tenantsync.api.egress`: its DNS answer or the allow-list may have changed since it was
registered), and the connection goes only to an address that passed the check (no DNS
rebinding); a refused URL is never posted to and the attempt fails with the reason. Redirects
are not followed (a public URL could redirect to an internal one).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import secrets
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from tenantsync.api.models import Event, WebhookDelivery, WebhookEndpoint
from tenantsync.controller import crypto
from tenantsync.controller.models import utcnow

if TYPE_CHECKING:  # delivery imports them when it runs: recording an event, as every
    import httpx  # `tenantsync run` does at its end, does not pay for HTTP clients

    from tenantsync.api import egress

EVENT_TYPES = ("sync.complete", "sync.paused", "connection.created", "connection.deleted",
               "object.field_mapping.created", "object.field_mapping.updated")
SIGNATURE_HEADER = "x-tenantsync-signature"
log = logging.getLogger(__name__)
MAX_ATTEMPTS = 6
BASE_DELAY_SECONDS = 0.5
TIMEOUT_SECONDS = 10.0
PARALLEL_DELIVERIES = 8


def new_secret() -> str:
    return "whsec_" + secrets.token_urlsafe(24)


def signature(secret: str, timestamp: int, body: bytes) -> str:
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"t={timestamp},v1={mac.hexdigest()}"


def verify(secret: str, header: str, body: bytes) -> bool:
    """What a receiver does: recompute the signature and compare in constant time."""
    parts = dict(p.split("=", 1) for p in header.split(",") if "=" in p)
    try:
        expected = signature(secret, int(parts.get("t", "")), body)
    except ValueError:
        return False
    return hmac.compare_digest(expected, header)


def emit(session: Session, application_id: str, event_type: str,
         payload: dict[str, Any]) -> Event:
    """Record an event and queue one delivery per subscribed endpoint (committed by the
    caller, with the change it reports)."""
    if event_type not in EVENT_TYPES:
        raise ValueError(f"unknown event type {event_type!r}")
    event = Event(application_id=application_id, type=event_type, payload=payload)
    session.add(event)
    session.flush()
    for endpoint in session.scalars(select(WebhookEndpoint).where(
            WebhookEndpoint.application_id == application_id)):
        if not endpoint.event_types or event_type in endpoint.event_types:
            session.add(WebhookDelivery(event_id=event.id, endpoint_id=endpoint.id,
                                        status="pending", attempts=0,
                                        next_attempt_at=utcnow()))
    session.flush()
    return event


def envelope(event: Event) -> dict[str, Any]:
    return {"id": str(event.id), "webhook_event_type": event.type,
            "created_at": event.created_at.isoformat() + "Z", **event.payload}


def _post(client: httpx.Client, allowed: egress.AllowList, url: str, body: bytes,
          headers: dict[str, str]) -> str | None:
    """None when the endpoint accepted the event, else why not (never the body). The URL is
    checked here (a kept-alive connection is reused without a new one being vetted) and the
    dispatcher's transport vets each address it connects to (DNS may answer differently)."""
    import httpx

    from tenantsync.api import egress

    try:
        egress.check(url, allowed)
        answer = client.post(url, content=body, headers=headers, timeout=TIMEOUT_SECONDS,
                             follow_redirects=False)
    except egress.Refused as exc:
        return f"not sent: {exc}"
    except httpx.HTTPError as exc:
        return f"{type(exc).__name__}: {str(exc)[:200]}"
    if answer.is_redirect:
        return f"endpoint answered HTTP {answer.status_code}, a redirect (not followed)"
    return None if answer.is_success else f"endpoint answered HTTP {answer.status_code}"


def deliver_due(session: Session, client: httpx.Client, allowed: egress.AllowList) -> int:
    """Attempt every delivery that is due, in parallel (a slow endpoint must not hold up the
    others), to the URLs `allowed` lets through; returns how many were attempted."""
    due = list(session.scalars(
        select(WebhookDelivery).where(WebhookDelivery.status == "pending",
                                      WebhookDelivery.next_attempt_at <= utcnow())
        .order_by(WebhookDelivery.id).limit(100)))
    requests = {}
    for delivery in due:
        endpoint = session.get(WebhookEndpoint, delivery.endpoint_id)
        event = session.get(Event, delivery.event_id)
        if endpoint is None or event is None:
            delivery.status = "failed"
            continue
        body = json.dumps(envelope(event), separators=(",", ":")).encode()
        secret = crypto.unseal(endpoint.sealed_secret)["secret"]
        headers = {"content-type": "application/json",
                   SIGNATURE_HEADER: signature(secret, int(time.time()), body),
                   "x-tenantsync-event-id": str(event.id),
                   "x-tenantsync-event-type": event.type}
        requests[delivery.id] = (endpoint.url, body, headers)
    with ThreadPoolExecutor(max_workers=PARALLEL_DELIVERIES) as pool:
        outcomes = dict(zip(requests, pool.map(lambda r: _post(client, allowed, *r),
                                               requests.values()), strict=True))
    for delivery in due:
        if delivery.id not in outcomes:
            continue
        error = outcomes[delivery.id]
        delivery.attempts += 1
        if error is None:
            delivery.status, delivery.last_error = "sent", None
        else:
            delivery.last_error = error
            if delivery.attempts >= MAX_ATTEMPTS:
                delivery.status = "failed"
            else:
                delay = BASE_DELAY_SECONDS * 2 ** (delivery.attempts - 1)
                delivery.next_attempt_at = utcnow() + timedelta(seconds=delay)
    session.commit()
    return len(due)


class Dispatcher:
    """A background thread delivering due webhooks every `interval` seconds, to the URLs
    `allowed()` (read each round: the service's current allow-list) lets through."""

    def __init__(self, open_session: Callable[[], Session], *,
                 allowed: Callable[[], egress.AllowList], interval: float = 0.2):
        self._open, self._allowed, self._interval = open_session, allowed, interval
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="webhooks", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def wake(self) -> None:
        self._wake.set()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        self._thread.join(timeout=15)

    def _loop(self) -> None:
        import httpx

        from tenantsync.api import egress

        transport = egress.guarded_transport(self._allowed)
        with httpx.Client(transport=transport, follow_redirects=False) as client:
            while not self._stop.is_set():
                try:
                    with self._open() as session:
                        deliver_due(session, client, self._allowed())
                except Exception as exc:  # a broken round must not end delivery
                    log.warning("webhook delivery round failed: %s", type(exc).__name__)
                self._wake.wait(self._interval)
                self._wake.clear()
