"""The catalogs a sync keeps between runs (controller/catalog_cache.py): handed to Meltano
only while current, keyed on everything of the registry that shapes them."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest
from meltano.core.utils import to_env_var

from tenantsync.controller import catalog_cache, crypto, sync_project
from tenantsync.controller.catalog_cache import Catalogs
from tenantsync.controller.models import utcnow

from .test_render import build
from .test_sync_project import view_of


@pytest.fixture
def sync(tmp_path, secret_key, monkeypatch):
    """acme x salesforce's own project, as `tenantsync run` writes it, and a catalog Meltano
    discovered for each of its extractors in its run folder."""
    monkeypatch.setenv(catalog_cache.MAX_AGE_ENV, "3600")
    reg = build(tmp_path, "r", ["acme", "globex"])
    view = view_of(reg, "acme", "salesforce")
    project = tmp_path / "p"
    own = sync_project.write(reg.s, project, view)
    system = own.parent
    catalogs = catalogs_of(reg, view, project)
    for extractor in catalogs.extractors:
        (system / "run" / extractor).mkdir(parents=True)
        (system / "run" / extractor / catalog_cache.CATALOG_FILE).write_text(
            json.dumps({"streams": [{"tap_stream_id": "Account"}]}))
    return reg, view, project, catalogs


def catalogs_of(reg, view, project):
    own = sync_project.write(reg.s, project, view)
    shaped = catalog_cache.shaping(reg.sync(view.customer_id, view.provider),
                                   {"TENANTSYNC_CUSTOMER_ID": view.customer_id})
    return Catalogs.of(own.parent, own, shaped)


def test_the_variable_is_meltano_s_catalog_extra():
    for name in ("tap-salesforce--app", "tap-hubspot--my.app--full-only"):
        assert catalog_cache.catalog_env(name) == to_env_var(name, "_catalog")


def test_a_kept_catalog_is_handed_over_while_current(sync):
    _reg, _view, _project, catalogs = sync
    assert catalogs.extractors and catalogs.env(refresh=False) == {}  # nothing kept yet
    catalogs.keep({})
    given = catalogs.env(refresh=False)
    assert set(given) == {catalog_cache.catalog_env(e) for e in catalogs.extractors}
    for path in given.values():
        assert json.loads(Path(path).read_text())["streams"][0]["tap_stream_id"] == "Account"
    assert catalogs.env(refresh=True) == {}  # a full refresh discovers
    for path in given.values():  # older than the maximum age: discovered again
        os.utime(path, (time.time() - 3601, time.time() - 3601))
    assert catalogs.env(refresh=False) == {}


def test_a_handed_over_catalog_keeps_its_age(sync):
    _reg, _view, _project, catalogs = sync
    catalogs.keep({})
    given = catalogs.env(refresh=False)
    old = time.time() - 3000
    for path in given.values():
        os.utime(path, (old, old))
    catalogs.keep(given)  # a run that used them: not rewritten, so they still expire
    assert all(os.stat(p).st_mtime == old for p in given.values())


def test_a_failed_run_forgets_them(sync):
    _reg, _view, _project, catalogs = sync
    catalogs.keep({})
    catalogs.forget()
    assert catalogs.env(refresh=False) == {}


def test_by_default_every_run_discovers(sync, monkeypatch):
    reg, view, project, _catalogs = sync
    monkeypatch.delenv(catalog_cache.MAX_AGE_ENV)
    catalogs = catalogs_of(reg, view, project)
    catalogs.keep({})
    assert catalogs.env(refresh=False) == {}
    assert not (catalogs.system / catalog_cache.FOLDER).exists()  # nothing written either


@pytest.mark.parametrize("raw", ["-1", "an hour", "nan"])
def test_a_bad_maximum_age_is_one_line_before_the_run(monkeypatch, raw):
    monkeypatch.setenv(catalog_cache.MAX_AGE_ENV, raw)
    with pytest.raises(catalog_cache.CatalogCacheError, match="TENANTSYNC_CATALOG_MAX_AGE="):
        catalog_cache.max_age()


CHANGES = {
    "connection settings": lambda reg: setattr(
        reg.connection("acme", "salesforce"), "settings", {"instance_url": "https://other"}),
    "field mappings": lambda reg: setattr(
        reg.connection("acme", "salesforce"), "field_mappings",
        {"Account": [{"schema_field": "tier", "mapped_field": "Tier__c"}]}),
    "connection sync config": lambda reg: reg.set_connection_sync_config(
        "acme", "salesforce", {"standard_objects": [{"object": "Opportunity"}]}),
    "paused objects": lambda reg: setattr(
        reg.sync("acme", "salesforce"), "paused_objects", {"standard": ["Opportunity"]}),
    "reconnect": lambda reg: reg.upsert_connection({
        "customer_id": "acme", "provider_name": "salesforce", "type": "oauth2",
        "refresh_token": "another-account", "instance_url": "https://acme.example"}),
}


@pytest.mark.parametrize("change", sorted(CHANGES))
def test_what_shapes_the_catalog_changes_the_key(sync, change):
    reg, view, project, catalogs = sync
    time.sleep(0.001)  # a reconnect's timestamp differs from the first connect's
    CHANGES[change](reg)
    reg.s.flush()
    assert catalogs_of(reg, view, project).key != catalogs.key
    reg.s.rollback()


def test_a_rotated_token_and_other_connections_do_not(sync):
    reg, view, project, catalogs = sync
    reg.connection("globex", "salesforce").settings = {"instance_url": "https://other"}
    reg.upsert_connection({"customer_id": "globex", "provider_name": "hubspot",
                           "refresh_token": "rotated"})
    own = reg.connection("acme", "salesforce")  # a refresh token rotated by the tap
    own.sealed_credentials = crypto.seal({"type": "oauth2", "refresh_token": "next"})
    own.credentials_updated_at = utcnow()
    reg.s.flush()
    assert catalogs_of(reg, view, project).key == catalogs.key
