"""Changing the HubSpot twin's data (Python API and /_sandbox/ control API) and what the wire
shows afterwards: archiving, restoring, new properties, the lagging search index, the 10k cap."""

from __future__ import annotations

import json

import pytest
import requests
from hubspot import HubSpot
from hubspot.crm.contacts import ApiException

from tap_hubspot.sandbox import HubSpotSandbox


@pytest.fixture
def hs():
    with HubSpotSandbox(records=150, seed=5) as sandbox:
        yield sandbox


@pytest.fixture
def client(hs):
    return HubSpot(access_token=hs.mint_private_app_token(), host=hs.base_url)


def _search_email(client, email: str):
    body = {"filterGroups": [{"filters": [{"propertyName": "email", "operator": "EQ",
                                           "value": email}]}],
            "properties": ["email", "firstname"]}
    return client.crm.contacts.search_api.do_search(public_object_search_request=body)


def test_create_update_archive_restore_through_the_control_api(hs, client):
    base = hs.base_url + "/_sandbox/objects/contacts"
    created = requests.post(base, json={"email": "ada@example.org", "firstname": "Ada",
                                        "lifecyclestage": "lead"}, timeout=10).json()
    cid = created["id"]
    assert created["properties"]["createdate"] == created["properties"]["lastmodifieddate"]
    got = client.crm.contacts.basic_api.get_by_id(cid, properties=["email", "firstname"])
    assert got.properties["firstname"] == "Ada"

    r = requests.patch(f"{base}/{cid}", json={"firstname": "Augusta"}, timeout=10)
    assert r.status_code == 200
    updated = client.crm.contacts.basic_api.get_by_id(cid, properties=["firstname"])
    assert updated.properties["firstname"] == "Augusta"
    assert updated.updated_at > got.updated_at

    assert requests.delete(f"{base}/{cid}", timeout=10).status_code == 204
    live = {c.id for c in client.crm.contacts.get_all()}
    assert cid not in live
    archived = client.crm.contacts.basic_api.get_page(archived=True, limit=100).results
    assert [a.id for a in archived] == [cid]
    assert archived[0].archived and archived[0].archived_at is not None
    with pytest.raises(ApiException) as err:
        client.crm.contacts.basic_api.get_by_id(cid)
    assert err.value.status == 404
    assert _search_email(client, "ada@example.org").total == 0  # search never shows archived

    assert requests.post(f"{base}/{cid}/restore", timeout=10).status_code == 200
    assert cid in {c.id for c in client.crm.contacts.get_all()}
    assert _search_email(client, "ada@example.org").results[0].id == cid


@pytest.mark.parametrize(("fields", "message"), [
    ({"nosuch": "x"}, "contacts has no property 'nosuch'"),
    ({"lifecyclestage": "royalty"}, "'royalty' is not one of its options"),
    ({"associatedcompanyid": "12"}, "read-only"),
    ({"hs_object_id": "12"}, "read-only"),
])
def test_bad_mutations_say_what_is_wrong(hs, fields, message):
    r = requests.post(hs.base_url + "/_sandbox/objects/contacts", json=fields, timeout=10)
    assert r.status_code == 400
    assert message in r.json()["error"]
    r = requests.post(hs.base_url + "/_sandbox/objects/widgets", json={}, timeout=10)
    assert r.status_code == 404 and "widgets" in r.json()["error"]


def test_values_are_stored_as_hubspot_strings(hs):
    deal = hs.create("deals", {"dealname": "Big one", "amount": 1250.5, "dealstage": "closedwon",
                               "closedate": "2024-06-30"})
    p = deal["properties"]
    assert p["amount"] == "1250.5"
    assert p["closedate"] == "2024-06-30T00:00:00.000Z"
    assert (p["hs_is_closed"], p["hs_is_closed_won"]) == ("true", "true")
    with pytest.raises(ValueError, match="'lots' is not a number"):
        hs.create("deals", {"amount": "lots"})


def test_added_property_shows_in_properties_and_records(hs, client):
    r = requests.post(hs.base_url + "/_sandbox/objects/contacts/fields", json={
        "name": "favorite_color", "type": "enumeration", "label": "Favorite color",
        "options": [{"value": "red", "label": "Red"}, {"value": "blue", "label": "Blue"}]},
        timeout=10)
    assert r.status_code == 200, r.text
    prop = client.crm.properties.core_api.get_by_name("contacts", "favorite_color")
    assert (prop.type, prop.field_type, prop.hubspot_defined) == ("enumeration", "select", False)
    first = client.crm.contacts.basic_api.get_page(limit=1).results[0]
    hs.update("contacts", first.id, {"favorite_color": "blue"})
    again = client.crm.contacts.basic_api.get_by_id(first.id, properties=["favorite_color"])
    assert again.properties["favorite_color"] == "blue"
    hits = client.crm.contacts.search_api.do_search(public_object_search_request={
        "filterGroups": [{"filters": [{"propertyName": "favorite_color", "operator": "EQ",
                                       "value": "blue"}]}]})
    assert [h.id for h in hits.results] == [first.id]
    r = requests.post(hs.base_url + "/_sandbox/objects/contacts/fields",
                      json={"name": "Bad Name", "type": "string"}, timeout=10)
    assert r.status_code == 400 and "lower-case" in r.json()["error"]


def test_search_index_lags_writes_by_the_configured_time(hs, client):
    hs.set_search_lag(5)
    created = hs.create("contacts", {"email": "late@example.org", "firstname": "Late"})
    assert _search_email(client, "late@example.org").total == 0
    assert client.crm.contacts.basic_api.get_by_id(created["id"]).id == created["id"]
    hs.advance_clock(5)
    assert _search_email(client, "late@example.org").total == 1

    hs.update("contacts", created["id"], {"firstname": "Later"})
    stale = _search_email(client, "late@example.org").results[0]
    assert stale.properties["firstname"] == "Late"  # the index still has the old version
    hs.delete("contacts", created["id"])
    assert _search_email(client, "late@example.org").total == 1
    hs.advance_clock(5)
    assert _search_email(client, "late@example.org").total == 0


@pytest.mark.slow
def test_search_refuses_to_page_past_10000_results():
    with HubSpotSandbox(records=0, counts={"contact": 10_050, "company": 10}) as hs:
        token = hs.mint_private_app_token()
        url = hs.base_url + "/crm/v3/objects/contacts/search"
        headers = {"Authorization": f"Bearer {token}"}
        body = {"filterGroups": [{"filters": [{"propertyName": "email",
                                               "operator": "HAS_PROPERTY"}]}], "limit": 200}
        page = requests.post(url, json={**body, "after": "9800"}, headers=headers, timeout=30)
        data = page.json()
        assert data["total"] == 10_050 and len(data["results"]) == 200
        assert data["paging"]["next"]["after"] == "10000"
        beyond = requests.post(url, json={**body, "after": "10000"}, headers=headers, timeout=30)
        assert beyond.status_code == 400
        err = beyond.json()
        assert err["category"] == "VALIDATION_ERROR" and "10000" in err["message"]
        # the way around it: narrow the query by id
        last_id = data["results"][-1]["id"]
        narrowed = requests.post(url, json={"limit": 200, "filterGroups": [{"filters": [
            {"propertyName": "hs_object_id", "operator": "GT", "value": last_id}]}],
            "sorts": [{"propertyName": "hs_object_id", "direction": "ASCENDING"}]},
            headers=headers, timeout=30).json()
        assert narrowed["total"] == 10_050 - 10_000
        assert int(narrowed["results"][0]["id"]) == int(last_id) + 1
        assert json.loads(json.dumps(narrowed))["results"][-1]["properties"]["hs_object_id"]
