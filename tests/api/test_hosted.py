"""Where the hosted destination lives, and the schema each application gets."""

from __future__ import annotations

import pytest

from tenantsync.api import hosted
from tenantsync.controller import db


@pytest.mark.parametrize("app_id, schema", [("acme", "acme"), ("app_1", "app_1")])
def test_plain_application_ids_are_their_schema(app_id, schema):
    assert hosted.schema_for(app_id) == schema


def test_rewritten_ids_stay_distinct():
    names = {hosted.schema_for(a) for a in ("App-A", "app-a", "app_a", "1app", "a" * 80)}
    assert len(names) == 5
    assert all(len(n) <= 63 and n.replace("_", "").isalnum() for n in names)


def test_embedded_by_default(monkeypatch, tmp_path):
    monkeypatch.delenv(hosted.URL_ENV, raising=False)
    monkeypatch.delenv(hosted.DIR_ENV, raising=False)
    monkeypatch.setenv(db.PROJECT_ENV, str(tmp_path))
    assert hosted.target_settings("acme") == {
        "schema": "acme", "embedded_data_dir": str(tmp_path / ".tenantsync" / "hosted-pg")}
    monkeypatch.setenv(hosted.DIR_ENV, "/srv/pg")
    assert hosted.target_settings("acme")["embedded_data_dir"] == "/srv/pg"


def test_a_server_by_url(monkeypatch):
    monkeypatch.setenv(hosted.URL_ENV, "postgresql+psycopg2://u:pw@db:5432/hosted")
    assert hosted.target_settings("acme") == {
        "schema": "acme", "sqlalchemy_url": "postgresql+psycopg2://u:pw@db:5432/hosted"}
    assert hosted.dsn() == "postgresql://u:pw@db:5432/hosted"
