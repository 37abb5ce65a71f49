"""Engagement providers end to end through the service: the managed OAuth flow connects each
OAuth engagement provider that has a twin (consent page -> callback -> sealed refresh token that
refreshes at the twin), `_trigger` syncs its engagement common objects (real `meltano run`, the
tap, target-postgres) into the hosted destination, and the Data Listing API serves
`/engagement/v2/<object>` for that customer, the records referencing each other."""

from __future__ import annotations

import httpx
import pytest

from tenantsync import providers
from tenantsync.common_schema import COMMON_OBJECTS
from tenantsync.controller import crypto

from .conftest import running_service
from .test_e2e_service import wait_for_run
from .test_oauth import RETURN_URL, consent

pytestmark = pytest.mark.slow
SPECS = [s for s in providers.with_twins()
         if s.category == "engagement" and s.auth[0].kind == "oauth2"]


@pytest.fixture(scope="module")
def svc(api_env, tmp_path_factory):
    with running_service(tmp_path_factory.mktemp("engagement")) as service:
        with service.client(service.key_a) as a:
            assert a.post("/mgmt/v2/destinations", json={"name": "hosted", "type": "supaglue"}
                          ).status_code == 201
        yield service


def listed(a, obj: str, customer: str, provider: str) -> dict[str, dict]:
    out, cursor = {}, None
    while True:
        page = a.get(f"/engagement/v2/{obj}", headers={"x-customer-id": customer,
                                                       "x-provider-name": provider},
                     params={"page_size": 100, **({"cursor": cursor} if cursor else {})})
        assert page.status_code == 200, page.text
        out.update({r["id"]: r for r in page.json()["records"]})
        cursor = page.json()["pagination"]["next"]
        if cursor is None:
            return out


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s.name)
def test_connect_sync_and_list_engagement_objects(svc, spec):
    oauth = spec.auth[0]
    with spec.twin.start("sync", records=80, seed=12) as sb, svc.client(svc.key_a) as a:
        assert a.post("/mgmt/v2/providers", json={
            "name": spec.name, "category": "engagement", "auth_type": "oauth2",
            # the twin serves the provider's OAuth server and API on one host
            "config": {"settings": {k: sb.base_url for k in (oauth.base_setting,
                                                               *spec.connection_settings)},
                       "oauth": {"credentials": {"oauth_client_id": sb.client_id,
                                                 "oauth_client_secret": sb.client_secret}}}
        }).status_code == 201
        assert a.post("/mgmt/v2/sync_configs", json={
            "provider_name": spec.name, "destination_name": "hosted",
            "config": {"default_config": {"period_ms": 3_600_000},
                       "common_objects": [{"object": o} for o in spec.objects.common]}
        }).status_code == 201
        customer = f"eng-{spec.name}"
        assert a.put("/mgmt/v2/customers", json={"customer_id": customer}).status_code == 200

        link = a.post("/mgmt/v2/connect_sessions", json={
            "customer_id": customer, "provider_name": spec.name, "return_url": RETURN_URL})
        with svc.client() as browser:
            start = browser.get(link.json()["connect_url"][len(svc.url):])
            assert start.headers["location"].startswith(sb.base_url + oauth.authorize_path)
            done = browser.get(consent(start.headers["location"])[len(svc.url):])
        assert "result=SUCCESS" in done.headers["location"]
        secrets = crypto.unseal(svc.registry().connection(customer, spec.name)
                                .sealed_credentials)
        refreshed = httpx.post(sb.base_url + oauth.token_path, data={
            "grant_type": "refresh_token", "refresh_token": secrets["refresh_token"],
            "client_id": sb.client_id, "client_secret": sb.client_secret})
        assert refreshed.status_code == 200 and refreshed.json()["access_token"]

        headers = {"x-customer-id": customer, "x-provider-name": spec.name}
        assert a.post("/mgmt/v2/syncs/_trigger", headers=headers).status_code == 200
        run = wait_for_run(a, customer, 1)
        assert run["status"] == "SUCCESS", run["error_message"]

        paths = {c.name: c.table.split("_", 1)[1] for c in COMMON_OBJECTS.values()
                 if c.category == "engagement"}  # contact -> contacts, ...
        got = {o: listed(a, paths[o], customer, spec.name) for o in spec.objects.common}
        for obj, standard in spec.objects.common.items():
            truth = {k for k, (_, gone) in spec.twin.records(sb, standard).items() if not gone}
            assert set(got[obj]) == truth, obj
        for state in got["sequence_state"].values():
            assert state["contact_id"] in got["contact"]
            assert state["sequence_id"] in got["sequence"]
            assert state["user_id"] in got["user"]
            assert state["mailbox_id"] is None or state["mailbox_id"] in got["mailbox"]
        contact = next(iter(got["contact"].values()))
        assert contact["email_addresses"] and contact["account_id"] in got["account"]
