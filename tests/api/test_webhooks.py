"""Webhooks: events posted to a real receiver on 127.0.0.1, signed (HMAC), retried on failure;
a run that failed on revoked credentials pauses its sync and sends `sync.paused`."""

from __future__ import annotations

import json
import time
import uuid

import pytest
from sqlalchemy import select

from tenantsync.api import runs, webhooks
from tenantsync.api.models import WebhookDelivery
from tenantsync.controller.models import SyncRun, utcnow
from tenantsync.controller.registry import Registry

from .receiver import Receiver


@pytest.fixture
def receiver(service):
    r = Receiver()
    yield r
    r.close()
    with service.client(service.key_a) as a:  # no test leaves a subscription behind
        for hook in a.get("/mgmt/v2/webhooks").json():
            a.delete(f"/mgmt/v2/webhooks/{hook['id']}")


@pytest.fixture(scope="module")
def provider(service):
    with service.client(service.key_a) as a:
        assert a.post("/mgmt/v2/providers", json={
            "name": "salesforce", "auth_type": "oauth2", "config": {"oauth": {"credentials": {
                "oauth_client_id": "id", "oauth_client_secret": "s"}}}}).status_code == 201
        assert a.post("/mgmt/v2/destinations", json={"name": "hosted", "type": "supaglue"}
                      ).status_code == 201
        assert a.post("/mgmt/v2/sync_configs", json={
            "provider_name": "salesforce", "destination_name": "hosted",
            "config": {"default_config": {}, "standard_objects": [{"object": "Account"}]}}
        ).status_code == 201


def _subscribe(a, url: str, event_types=()) -> str:
    r = a.post("/mgmt/v2/webhooks", json={"url": url, "event_types": list(event_types)})
    assert r.status_code == 201, r.text
    secret = r.json()["secret"]
    assert secret not in a.get("/mgmt/v2/webhooks").text
    return r.json()


def _connect(a) -> str:
    cid = f"c-{uuid.uuid4().hex[:8]}"
    a.put("/mgmt/v2/customers", json={"customer_id": cid})
    r = a.post(f"/mgmt/v2/customers/{cid}/connections", json={
        "provider_name": "salesforce", "type": "oauth2", "refresh_token": "rt-secret-31337",
        "instance_url": "https://x.my.salesforce.com"})
    assert r.status_code == 200, r.text
    return cid


def test_connection_events_are_signed(a, provider, receiver):
    hook = _subscribe(a, receiver.url)
    cid = _connect(a)
    (created,) = [e for e in receiver.events("connection.created")
                  if e["customer_id"] == cid]
    assert created["provider_name"] == "salesforce" and created["result"] == "SUCCESS"
    headers, body = next((h, b) for h, b in receiver.received
                         if json.loads(b)["customer_id"] == cid)
    assert webhooks.verify(hook["secret"], headers[webhooks.SIGNATURE_HEADER], body)
    assert not webhooks.verify("whsec_wrong", headers[webhooks.SIGNATURE_HEADER], body)
    assert not webhooks.verify(hook["secret"], headers[webhooks.SIGNATURE_HEADER], body + b" ")
    assert b"rt-secret-31337" not in body
    assert a.delete(f"/mgmt/v2/customers/{cid}/connections/salesforce").status_code == 204
    deleted = [e for e in receiver.events("connection.deleted") if e["customer_id"] == cid]
    assert deleted[0]["connection_id"] == created["connection_id"]
    assert a.delete(f"/mgmt/v2/webhooks/{hook['id']}").status_code == 204


def test_failed_deliveries_are_retried(a, provider, service):
    flaky = Receiver(fail=2)
    try:
        hook = _subscribe(a, flaky.url, ["connection.created"])
        cid = _connect(a)
        assert [e for e in flaky.events("connection.created") if e["customer_id"] == cid]
        # the receiver holds the event before the dispatcher records its answer
        for _ in range(200):
            with service.session() as s:
                delivery = s.scalars(select(WebhookDelivery).where(
                    WebhookDelivery.endpoint_id == int(hook["id"]))).one()
                if delivery.status == "sent":
                    break
            time.sleep(0.05)
        assert (delivery.status, delivery.attempts) == ("sent", 3)
        a.delete(f"/mgmt/v2/webhooks/{hook['id']}")
    finally:
        flaky.close()


def test_subscription_filters_event_types(a, provider, receiver):
    hook = _subscribe(a, receiver.url, ["sync.paused"])
    _connect(a)
    other = Receiver()
    try:
        probe = _subscribe(a, other.url, ["connection.created"])
        _connect(a)
        other.events("connection.created")  # by then the first endpoint had its chance too
    finally:
        other.close()
    assert receiver.received == []
    for h in (hook, probe):
        a.delete(f"/mgmt/v2/webhooks/{h['id']}")


def _failed_run(service, cid: str, error: str) -> tuple[Registry, SyncRun]:
    reg = service.registry()
    sync = reg.sync(cid, "salesforce")
    run = SyncRun(sync_id=sync.id, status="FAILURE", strategy="incremental", records={},
                  num_records=0, error=error, ended_at=utcnow())
    reg.s.add(run)
    reg.s.commit()
    return reg, run


def test_revoked_credentials_pause_the_sync(a, provider, receiver, service):
    _subscribe(a, receiver.url)
    cid = _connect(a)
    reg, run = _failed_run(service, cid, "meltano run exited with 1: tenantsync.tapkit.errors."
                           "AuthError: salesforce refused the refresh token: invalid_grant")
    runs.after_run(reg, run)
    reg.s.close()
    (paused,) = [e for e in receiver.events("sync.paused") if e["customer_id"] == cid]
    assert paused["run_id"] == str(run.id) and "no longer authenticated" in \
        paused["pause_reason"]
    (complete,) = [e for e in receiver.events("sync.complete") if e["customer_id"] == cid]
    assert complete["result"] == "ERROR" and "invalid_grant" in complete["error_message"]
    (sync,) = a.get("/mgmt/v2/syncs", params={"customer_id": cid}).json()["results"]
    assert sync["paused"] is True


def test_other_failures_do_not_pause(a, provider, receiver, service):
    _subscribe(a, receiver.url)
    cid = _connect(a)
    reg, run = _failed_run(service, cid, "meltano run exited with 1: FatalHttpError: 500")
    runs.after_run(reg, run)
    reg.s.close()
    assert [e for e in receiver.events("sync.complete") if e["customer_id"] == cid]
    (sync,) = a.get("/mgmt/v2/syncs", params={"customer_id": cid}).json()["results"]
    assert sync["paused"] is False
    assert not [e for _, b in receiver.received if (e := json.loads(b))["webhook_event_type"]
                == "sync.paused" and e["customer_id"] == cid]
