"""`/mgmt/v2/schemas` and `/mgmt/v2/field_mappings`: shapes, errors and tenant scoping (the
mapping of real syncs is tests/api/test_e2e_field_mappings.py)."""

from __future__ import annotations

from .test_mgmt import app_a  # noqa: F401 (fixture)

DEAL = {"name": "deal-api", "config": {"fields": [{"name": "revenue"},
                                                  {"name": "title", "mapped_name": "Name"}],
                                       "allow_additional_field_mappings": False}}


def detail(r) -> str:
    return r.json()["errors"][0]["detail"]


def test_schema_crud_is_scoped_to_the_application(a, b):
    r = a.post("/mgmt/v2/schemas", json=DEAL)
    assert r.status_code == 200, r.text
    schema = r.json()
    assert schema == {"id": schema["id"], "application_id": "app-a", **DEAL}
    assert a.post("/mgmt/v2/schemas", json=DEAL).status_code == 400  # the name is taken
    assert b.get(f"/mgmt/v2/schemas/{schema['id']}").status_code == 404
    assert schema["id"] not in {s["id"] for s in b.get("/mgmt/v2/schemas").json()}
    renamed = {**DEAL, "name": "deal-api-2"}
    r = a.put(f"/mgmt/v2/schemas/{schema['id']}", json=renamed)
    assert r.status_code == 200 and r.json()["name"] == "deal-api-2"
    r = a.post("/mgmt/v2/schemas", json={"name": "bad", "config": {"fields": [{"name": "a b"}]}})
    assert r.status_code == 400 and "must be a name of letters" in detail(r)
    assert b.delete(f"/mgmt/v2/schemas/{schema['id']}").status_code == 404
    assert a.delete(f"/mgmt/v2/schemas/{schema['id']}").status_code == 204
    assert a.get(f"/mgmt/v2/schemas/{schema['id']}").status_code == 404


def test_field_mappings_need_a_connection_and_an_object_with_a_schema(a, b, app_a):  # noqa: F811
    cid = app_a["customer"]
    headers = {"x-customer-id": cid, "x-provider-name": "salesforce"}
    assert a.get("/mgmt/v2/field_mappings", headers=headers).json() == []
    assert b.get("/mgmt/v2/field_mappings", headers=headers).status_code == 404
    r = a.put("/mgmt/v2/field_mappings", headers=headers,
              json={"name": "contact", "type": "common", "field_mappings": []})
    assert r.status_code == 400 and "common objects keep their fixed schema" in detail(r)
    r = a.put("/mgmt/v2/field_mappings/_update_object", headers=headers,
              json={"name": "Account", "type": "standard", "field_mappings": []})
    assert r.status_code == 400 and "has no schema attached" in detail(r)
    r = a.put("/mgmt/v2/field_mappings", headers={**headers, "x-customer-id": "nobody"},
              json={"name": "Account", "field_mappings": []})
    assert r.status_code == 404
