"""API keys and application scoping: no key or a wrong one is 401; an application never sees
another's customers, connections or data."""

from __future__ import annotations

import uuid

from tenantsync.api import keys


def _customer(client, name=None) -> str:
    cid = name or f"cust-{uuid.uuid4().hex[:8]}"
    r = client.put("/mgmt/v2/customers", json={"customer_id": cid, "name": "Acme"})
    assert r.status_code == 200, r.text
    return cid


def test_missing_key_is_401(service):
    with service.client() as anon:
        r = anon.get("/mgmt/v2/customers")
    assert r.status_code == 401
    err = r.json()["errors"][0]
    assert err["title"] == "Unauthorized" and "missing x-api-key" in err["detail"]


def test_wrong_key_is_401(service):
    with service.client("tsk_not-a-real-key") as wrong:
        r = wrong.get("/mgmt/v2/customers")
    assert r.status_code == 401 and "invalid" in r.json()["errors"][0]["detail"]


def test_revoked_key_is_401(service):
    with service.session() as s:
        key = keys.create_key(s, "app-a")
        s.commit()
    with service.client(key) as client:
        assert client.get("/mgmt/v2/customers").status_code == 200
        with service.session() as s:
            assert keys.revoke(s, key[:10]) == 1
            s.commit()
        assert client.get("/mgmt/v2/customers").status_code == 401


def test_keys_are_stored_as_digests_only(service):
    with service.session() as s:
        key = keys.create_key(s, "app-a")
        s.commit()
        from sqlalchemy import text

        stored = [tuple(r) for r in s.execute(text("SELECT digest, prefix FROM api_keys"))]
    assert all(key not in row for row in stored)
    assert (keys.digest(key), key[:10]) in stored


def test_other_applications_customer_is_404(a, b):
    cid = _customer(a)
    assert a.get(f"/mgmt/v2/customers/{cid}").status_code == 200
    r = b.get(f"/mgmt/v2/customers/{cid}")
    assert r.status_code == 404 and r.json()["errors"][0]["title"] == "Not found"
    assert cid not in {c["customer_id"] for c in b.get("/mgmt/v2/customers").json()}
    assert b.get(f"/mgmt/v2/customers/{cid}/connections").status_code == 404
    assert b.delete(f"/mgmt/v2/customers/{cid}").status_code == 404
    # the same customer id in app-b is another customer
    _customer(b, cid)
    assert b.get(f"/mgmt/v2/customers/{cid}").json()["application_id"] == "app-b"
    assert a.get(f"/mgmt/v2/customers/{cid}").json()["application_id"] == "app-a"


def test_other_applications_data_is_404(a, b):
    cid = _customer(a)
    r = b.get("/data/v2/salesforce/accounts", headers={"x-customer-id": cid})
    assert r.status_code == 404
    r = b.get("/crm/v2/accounts", headers={"x-customer-id": cid, "x-provider-name": "hubspot"})
    assert r.status_code == 404


def test_openapi_is_served_without_key(service):
    with service.client() as anon:
        spec = anon.get("/openapi.json").json()
    assert "/mgmt/v2/customers" in spec["paths"] and "/data/v2/{provider_name}/{object_name}" \
        in spec["paths"]
    assert spec["components"]["securitySchemes"]["APIKeyHeader"]["name"] == "x-api-key"
