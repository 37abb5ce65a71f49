"""End to end through the service only: managed OAuth against the Salesforce twin creates the
connection, `_trigger` runs the sync (real `meltano run`, tap-salesforce, target-postgres) into
the hosted destination, the Data Listing API serves what landed and `sync.complete` arrives;
then the customer revokes access, the next run fails on the credentials, the sync pauses
itself and `sync.paused` arrives."""

from __future__ import annotations

import time

import pytest

from tap_salesforce.sandbox import SalesforceSandbox
from tests.taps.conftest import rest_rows

from .conftest import running_service
from .receiver import Receiver
from .test_oauth import RETURN_URL, consent

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def live(api_env, tmp_path_factory):
    with running_service(tmp_path_factory.mktemp("e2e")) as svc:
        sandbox = SalesforceSandbox(records=60, seed=9)
        sandbox.start()
        receiver = Receiver()
        yield svc, sandbox, receiver
        receiver.close()
        sandbox.stop()


def wait_for_run(a, cid: str, count: int) -> dict:
    for _ in range(1200):
        runs = a.get("/mgmt/v2/sync-runs", params={"customer_id": cid}).json()["results"]
        if len(runs) >= count and runs[0]["status"] != "IN_PROGRESS":
            return runs[0]
        time.sleep(0.25)
    raise AssertionError("the triggered run did not finish")


def test_connect_trigger_list_then_revoke_pauses(live):
    svc, sandbox, receiver = live
    with svc.client(svc.key_a) as a:
        assert a.post("/mgmt/v2/webhooks", json={"url": receiver.url}).status_code == 201
        assert a.post("/mgmt/v2/providers", json={
            "name": "salesforce", "auth_type": "oauth2",
            "config": {"settings": {"login_url": sandbox.base_url},
                       "oauth": {"credentials": {"oauth_client_id": sandbox.client_id,
                                                 "oauth_client_secret": sandbox.client_secret}}}
        }).status_code == 201
        assert a.post("/mgmt/v2/destinations", json={"name": "hosted", "type": "supaglue"}
                      ).status_code == 201
        assert a.post("/mgmt/v2/sync_configs", json={
            "provider_name": "salesforce", "destination_name": "hosted",
            "config": {"default_config": {"period_ms": 3_600_000},
                       "standard_objects": [{"object": "Account"}]}}).status_code == 201
        assert a.put("/mgmt/v2/customers", json={"customer_id": "acme"}).status_code == 200

        # managed auth: the application issues a connect session, the customer approves
        # on the twin's consent page
        link = a.post("/mgmt/v2/connect_sessions", json={
            "customer_id": "acme", "provider_name": "salesforce", "return_url": RETURN_URL})
        with svc.client() as browser:
            start = browser.get(link.json()["connect_url"][len(svc.url):])
            done = browser.get(consent(start.headers["location"])[len(svc.url):])
        assert "result=SUCCESS" in done.headers["location"]
        assert receiver.events("connection.created")[0]["customer_id"] == "acme"

        headers = {"x-customer-id": "acme", "x-provider-name": "salesforce"}
        assert a.post("/mgmt/v2/syncs/_trigger", headers=headers).status_code == 200
        run = wait_for_run(a, "acme", 1)
        assert run["status"] == "SUCCESS", run["error_message"]
        (complete,) = receiver.events("sync.complete", polls=1200)
        assert complete["result"] == "SUCCESS" and complete["run_id"] == run["run_id"]

        listed, cursor = [], None
        while True:
            page = a.get("/data/v2/salesforce/accounts", headers={"x-customer-id": "acme"},
                         params={"page_size": 25, **({"cursor": cursor} if cursor else {})}
                         ).json()
            listed += page["records"]
            cursor = page["pagination"]["next"]
            if cursor is None:
                break
        expected = sorted(rest_rows(sandbox, "Account", ["Id"]))
        assert expected and [r["Id"] for r in listed] == expected

        # the customer revokes access: the next run fails on the credentials and pauses
        sandbox.oauth.revoke_refresh_tokens()
        assert a.post("/mgmt/v2/syncs/_trigger", headers=headers).status_code == 200
        failed = wait_for_run(a, "acme", 2)
        assert failed["status"] == "FAILURE" and "invalid_grant" in failed["error_message"]
        (paused,) = receiver.events("sync.paused", polls=1200)
        assert paused["customer_id"] == "acme" and paused["run_id"] == failed["run_id"]
        (sync,) = a.get("/mgmt/v2/syncs", params={"customer_id": "acme"}).json()["results"]
        assert sync["paused"] is True
        r = a.post("/mgmt/v2/syncs/_trigger", headers=headers)
        assert r.status_code == 409  # paused until the customer reconnects and it is resumed
