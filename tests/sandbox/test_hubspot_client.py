"""The official HubSpot client (`hubspot-api-client`), unchanged except for its host, reads the
HubSpot twin; results are checked against the twin's data world."""

from __future__ import annotations

import json
from datetime import datetime

import pytest
from hubspot import HubSpot
from hubspot.crm.objects import ApiException as ObjectsApiException
from hubspot.crm.objects import PublicObjectSearchRequest

from tap_hubspot.sandbox import HubSpotSandbox
from tap_hubspot.sandbox.world import OWNER_BASE

SEED = 3


@pytest.fixture(scope="module")
def hs():
    with HubSpotSandbox(records=400, seed=SEED) as sandbox:
        yield sandbox


@pytest.fixture(scope="module")
def client(hs):
    return HubSpot(access_token=hs.mint_private_app_token(), host=hs.base_url)


@pytest.fixture(scope="module")
def contacts(client):
    """Every contact, paged through by the client's own fetch-all (limit 100 + after)."""
    return client.crm.contacts.get_all(properties=["email", "firstname", "lifecyclestage",
                                                   "lastmodifieddate", "createdate"])


def test_list_pages_through_every_contact_with_world_values(hs, contacts):
    w = hs.world
    assert len(contacts) == w.counts["contact"] + w.counts["lead"]
    ids = [int(c.id) for c in contacts]
    assert ids == sorted(set(ids))
    first = w.get("contact", 0)
    assert contacts[0].properties["email"] == first["email"]
    assert contacts[0].properties["firstname"] == first["first_name"]
    lead = contacts[w.counts["contact"]]  # leads follow the contacts
    assert lead.properties["email"] == w.get("lead", 0)["email"]
    assert lead.properties["lifecyclestage"] == "lead"
    for c in contacts:
        assert all(v is None or isinstance(v, str) for v in c.properties.values())
        assert c.properties["hs_object_id"] == c.id
        assert c.updated_at.isoformat(timespec="milliseconds")[:23] == \
            c.properties["lastmodifieddate"][:23]


def test_list_defaults_limit_and_paging_link(hs, client):
    page = client.crm.objects.basic_api.get_page("companies")
    assert len(page.results) == 10  # HubSpot's default limit
    assert set(page.results[0].properties) == {"createdate", "domain", "hs_lastmodifieddate",
                                               "hs_object_id", "name"}
    assert page.results[0].properties["name"] == hs.world.company_name(0)
    nxt = page.paging.next
    assert "after=" in nxt.link and "limit" not in nxt.link
    second = client.crm.objects.basic_api.get_page("companies", after=nxt.after)
    assert int(second.results[0].id) == int(page.results[-1].id) + 1


def test_list_limit_above_100_is_refused(client):
    with pytest.raises(ObjectsApiException) as err:
        client.crm.objects.basic_api.get_page("contacts", limit=101)
    assert err.value.status == 400
    assert json.loads(err.value.body)["category"] == "VALIDATION_ERROR"


def test_custom_object_by_every_spelling(hs, client):
    names = ["pet_name", "species", "age_years", "vaccinated", "adopted_on"]
    pets = client.crm.objects.basic_api.get_page("p_pets", limit=100, properties=names).results
    assert len(pets) == min(100, hs.world.counts["contact"] // 4)
    by_id = client.crm.objects.basic_api.get_page("2-1234567", limit=100).results
    by_fqn = client.crm.objects.basic_api.get_page(f"p{hs.portal_id}_pets", limit=100).results
    assert [p.id for p in pets] == [p.id for p in by_id] == [p.id for p in by_fqn]
    for p in pets:
        assert p.properties["vaccinated"] in ("true", "false")
        assert p.properties["age_years"].isdigit()
        assert p.properties["species"] in ("dog", "cat", "rabbit", "parrot")


def test_search_filters_sorts_and_pages_like_the_list(client, contacts):
    cutoff = sorted(c.properties["createdate"] for c in contacts)[len(contacts) // 3]
    cutoff_ms = int(datetime.fromisoformat(cutoff.replace("Z", "+00:00")).timestamp() * 1000)
    expected = [c for c in contacts if c.properties["lifecyclestage"] == "lead"
                and c.properties["createdate"] >= cutoff]
    expected.sort(key=lambda c: c.properties["lastmodifieddate"], reverse=True)
    assert len(expected) > 14  # several pages
    body = {"filterGroups": [{"filters": [
        {"propertyName": "lifecyclestage", "operator": "EQ", "value": "lead"},
        {"propertyName": "createdate", "operator": "GTE", "value": str(cutoff_ms)}]}],
        "sorts": [{"propertyName": "lastmodifieddate", "direction": "DESCENDING"}],
        "properties": ["email"], "limit": 7}
    seen, after = [], None
    while True:
        page = client.crm.contacts.search_api.do_search(
            public_object_search_request={**body, **({"after": after} if after else {})})
        assert page.total == len(expected)
        seen += page.results
        if page.paging is None:
            break
        after = page.paging.next.after
        assert after == str(len(seen))  # search paging is a numeric offset
    assert [r.id for r in seen] == [c.id for c in expected]
    assert set(seen[0].properties) == {"email", "hs_object_id", "createdate", "lastmodifieddate"}


def test_search_or_groups_in_and_token_operators(hs, client, contacts):
    target = contacts[5]
    domain = target.properties["email"].split("@")[1]
    req = PublicObjectSearchRequest(filter_groups=[
        {"filters": [{"propertyName": "email", "operator": "CONTAINS_TOKEN",
                      "value": f"*@{domain}"}]},
        {"filters": [{"propertyName": "hs_object_id", "operator": "IN",
                      "values": [contacts[0].id, contacts[1].id]}]}], limit=100)
    got = {r.id for r in client.crm.objects.search_api.do_search("contacts", req).results}
    expected = {c.id for c in contacts if c.properties["email"].endswith("@" + domain)}
    assert got == expected | {contacts[0].id, contacts[1].id}


def test_search_refuses_bad_requests_with_validation_errors(client):
    bad = {"filterGroups": [{"filters": [{"propertyName": "nope", "operator": "EQ",
                                          "value": "1"}]}]}
    with pytest.raises(ObjectsApiException) as err:
        client.crm.objects.search_api.do_search("contacts", bad)
    body = json.loads(err.value.body)
    assert (err.value.status, body["category"]) == (400, "VALIDATION_ERROR")
    assert "nope" in body["message"]


def test_get_by_id_batch_read_and_not_found(hs, client, contacts):
    one = client.crm.contacts.basic_api.get_by_id(contacts[3].id, properties=["email"])
    assert one.properties["email"] == contacts[3].properties["email"]
    batch = client.crm.contacts.batch_api.read(
        {"inputs": [{"id": contacts[0].id}, {"id": "999"}], "properties": ["email"],
         "propertiesWithHistory": []})
    assert [r.id for r in batch.results] == [contacts[0].id]
    assert batch.errors[0].context == {"ids": ["999"]}
    with pytest.raises(ObjectsApiException) as err:
        client.crm.objects.basic_api.get_by_id("contacts", "999")
    assert err.value.status == 404
    assert json.loads(err.value.body)["category"] == "OBJECT_NOT_FOUND"


def test_properties_describe_every_object_type(hs, client):
    props = {p.name: p for p in client.crm.properties.core_api.get_all("contacts").results}
    assert props["email"].type == "string" and props["email"].has_unique_value
    assert props["createdate"].type == "datetime"
    assert props["lastmodifieddate"].modification_metadata.read_only_value
    assert {o.value for o in props["lifecyclestage"].options} >= {"lead", "customer"}
    pets = {p.name: p for p in client.crm.properties.core_api.get_all("p_pets").results}
    assert not pets["species"].hubspot_defined and pets["vaccinated"].type == "bool"
    for name in ("companies", "deals", "tickets", "line_items", "products", "notes", "tasks",
                 "calls", "emails", "meetings", "quotes"):
        names = {p.name for p in client.crm.properties.core_api.get_all(name).results}
        t = hs.portal.types.resolve(name)
        assert {"hs_object_id", t.created_prop, t.modified_prop} <= names


def test_owners_are_the_world_users(hs, client):
    users = list(hs.world.iter("user"))
    active = client.crm.owners.owners_api.get_page(limit=500).results
    archived = client.crm.owners.owners_api.get_page(limit=500, archived=True).results
    assert [o.email for o in active] == [u["email"] for u in users if u["active"]]
    assert len(active) + len(archived) == len(users)
    first = client.crm.owners.owners_api.get_page(limit=1)
    assert first.paging.next.after and int(first.results[0].id) >= OWNER_BASE


def test_custom_object_schema(hs, client):
    schemas = client.crm.schemas.core_api.get_all().results
    assert [s.object_type_id for s in schemas] == ["2-1234567"]
    pets = schemas[0]
    assert pets.fully_qualified_name == f"p{hs.portal_id}_pets"
    assert pets.primary_display_property == "pet_name"
    assert "species" in {p.name for p in pets.properties}
    assert {a.to_object_type_id for a in pets.associations} == {"0-1"}


def test_associations_v3_and_v4_agree(hs, client):
    deals = client.crm.deals.basic_api.get_page(limit=50, associations=["contacts"]).results
    deal = next(d for d in deals if d.associations and d.associations["contacts"].results)
    v3 = {a.id for a in deal.associations["contacts"].results}
    v4 = client.crm.associations.v4.basic_api.get_page("deals", deal.id, "contacts")
    assert {r.to_object_id for r in v4.results} == v3
    assert {t.type_id for r in v4.results for t in r.association_types} == {3}
    world_contact = hs.world.get("deal", int(deal.id) - hs.portal.types.resolve("deals").id_base)
    assert str(hs.portal.types.resolve("contacts").id_base + world_contact["contact"]) in v3
    batch = client.crm.associations.v4.batch_api.get_page(
        "deals", "contacts", {"inputs": [{"id": deal.id}]})
    assert {t.to_object_id for t in batch.results[0].to} == v3
