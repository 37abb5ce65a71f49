"""Fixtures of the controller's unit tests: a migrated registry in a temporary SQLite file."""

from __future__ import annotations

import pytest

from tenantsync.controller import crypto, db
from tenantsync.controller.registry import Registry

SECRET_KEY = "unit-test-secret-key-0123456789"


@pytest.fixture
def secret_key(monkeypatch):
    monkeypatch.setenv(crypto.KEY_ENV, SECRET_KEY)
    return SECRET_KEY


@pytest.fixture
def registry(tmp_path, secret_key):
    session = db.session(f"sqlite:///{tmp_path}/registry.db")
    yield Registry(session, "app")
    session.close()


SALESFORCE = {  # the managed-syncs docs' provider configuration, as it is
    "provider_name": "salesforce", "auth_type": "oauth2", "category": "crm",
    "config": {"oauth": {"oauth_scopes": ["api", "id", "refresh_token"],
                         "credentials": {"client_id": "7393b5a4-5e20-4648-87af-b7b297793fd1",
                                         "client_secret": "941b846a-5a8c-48b8-b0e1-41b6d4bc4f1a"}}}}
DESTINATION = {  # the docs' Postgres destination configuration
    "id": 2, "name": "my production postgres", "type": "postgres",
    "credentials": {"host": "db.jqmzyaitgfisezefyosx.supabase.co", "port": 5432,
                    "database": "postgres", "schema": "supaglue", "user": "admin",
                    "password": "admin-password-xyz"}}
SYNC_CONFIG = {  # the docs' sync configuration (ids as the registry assigned them)
    "id": 1, "name": "my salesforce sync", "destination_id": 2, "provider_id": 1,
    "default_config": {"period_ms": 3600, "strategy": "full refresh"},
    "common_objects": [{"object": "contact"}, {"object": "account"}],
    "standard_objects": [{"object": "Opportunity"}],
    "custom_objects": [{"object": "MyCustomObject__c"}]}


def seed(registry: Registry, customers=("acme", "globex")) -> None:
    registry.apply([SALESFORCE, DESTINATION, SYNC_CONFIG,
                    *({"customer_id": c, "name": c.title()} for c in customers),
                    *({"customer_id": c, "provider_name": "salesforce", "type": "oauth2",
                       "refresh_token": f"refresh-{c}-secret", "instance_url":
                       f"https://{c}.my.salesforce.com"} for c in customers)])
    registry.s.commit()
