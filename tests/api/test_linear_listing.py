"""Linear through the hosted destination and the Data Listing API: tap-linear's output against
its twin, loaded by target-postgres (a real process), listed at `/data/v2/linear/<object>` with
Linear's fields at the top level and archived issues flagged deleted."""

from __future__ import annotations

import pytest

from tap_linear.sandbox import LinearSandbox
from tap_linear.tests.helpers import run_tap
from tests.api.test_data_listing import run_target

ACME = {"x-customer-id": "acme"}


@pytest.fixture(scope="module")
def listed(service, tmp_path_factory):
    with service.client(service.key_a) as a:
        assert a.post("/mgmt/v2/providers", json={
            "name": "linear", "category": "no_category", "auth_type": "api_key"}
                      ).status_code == 201
        assert a.post("/mgmt/v2/destinations", json={"name": "hosted", "type": "supaglue"}
                      ).status_code == 201
        r = a.post("/mgmt/v2/sync_configs", json={
            "provider_name": "linear", "destination_name": "hosted",
            "config": {"default_config": {"period_ms": 3_600_000},
                       "standard_objects": [{"object": "issues"}, {"object": "teams"}]}})
        assert r.status_code == 201, r.text
        a.put("/mgmt/v2/customers", json={"customer_id": "acme"})
        assert a.post("/mgmt/v2/customers/acme/connections", json={
            "provider_name": "linear", "type": "api_key", "api_key": "lin_api_x"}
                      ).status_code == 200
    with LinearSandbox(records=600, seed=4, tls=False) as sb:
        archived = sb.all_records("issues")[0][0]["id"]
        sb.delete("issues", archived)
        run = run_tap({"api_key": sb.mint_api_key(), "base_url": sb.base_url,
                       "standard_objects": ["issues", "teams"]})
        run_target(service, tmp_path_factory.mktemp("linear"), "acme", run.messages, "linear")
        return {"issues": {doc["id"]: doc for doc, _ in sb.all_records("issues")},
                "archived": archived}


def test_issues_are_listed_with_linear_fields_at_the_top_level(service, a, listed):
    records = a.get("/data/v2/linear/issues", headers=ACME, params={"page_size": 1000}
                    ).json()["records"]
    assert {r["id"] for r in records} == set(listed["issues"])
    for r in records:
        twin = listed["issues"][r["id"]]
        assert (r["identifier"], r["title"], r["team"]) == \
            (twin["identifier"], twin["title"], twin["team"])
        assert r["_supaglue_is_deleted"] is (r["id"] == listed["archived"])
        assert r["raw_data"]["updatedAt"] == twin["updatedAt"]


def test_an_object_not_synced_is_refused(service, a, listed):
    r = a.get("/data/v2/linear/comments", headers=ACME)
    assert r.status_code == 400 and "not synced" in r.json()["errors"][0]["detail"]
