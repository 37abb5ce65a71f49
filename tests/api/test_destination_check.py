"""`POST /mgmt/v2/destinations/{id}/_test` connects as the target would: the hosted destination
answers with its server version; a server that refuses says so without the password; another
application's destination is a 404."""

from __future__ import annotations


def test_the_hosted_destination_answers(a):
    made = a.post("/mgmt/v2/destinations", json={"name": "hosted-check", "type": "supaglue"})
    r = a.post(f"/mgmt/v2/destinations/{made.json()['id']}/_test")
    assert r.status_code == 200
    assert r.json()["success"] is True and r.json()["message"].startswith("connected: PostgreSQL")


def test_a_refusing_server_is_reported_without_secrets(a, b):
    made = a.post("/mgmt/v2/destinations", json={"name": "nowhere", "type": "postgres", "config": {
        "host": "127.0.0.1", "port": 1, "database": "d", "user": "u",
        "password": "pw-never-shown"}})
    r = a.post(f"/mgmt/v2/destinations/{made.json()['id']}/_test")
    assert r.status_code == 200 and r.json()["success"] is False
    assert "127.0.0.1" in r.json()["message"] and "pw-never-shown" not in r.text
    assert b.post(f"/mgmt/v2/destinations/{made.json()['id']}/_test").status_code == 404
