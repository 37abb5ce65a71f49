"""Rendering: deterministic, minimal diffs, hand edits survive, no secrets, tenants spread."""

from __future__ import annotations

import difflib
import itertools
import random

import yaml

from tenantsync.controller import db, render, render_splice, sync_index
from tenantsync.controller.registry import Registry

from .conftest import DESTINATION, SALESFORCE, SYNC_CONFIG, seed

HUBSPOT = {"provider_name": "hubspot", "auth_type": "oauth2", "category": "crm",
           "config": {"oauth": {"oauth_scopes": ["crm.objects.contacts.read"],
                                "credentials": {"client_id": "hs-client",
                                                "client_secret": "hs-secret-value"}}}}
HUBSPOT_SYNC = {"provider_name": "hubspot", "destination_name": "my production postgres",
                "default_config": {"period_ms": 3_600_000, "strategy": "full then incremental",
                                   "full_sync_every_n_incrementals": 4},
                "standard_objects": [{"object": "deals"}, {"object": "tickets",
                                      "sync_strategy_override": {"strategy": "full only"}}]}


def build(tmp_path, name, customers, *, shuffle_seed=None):
    """A registry with `customers` x (salesforce, hubspot), inserted in a shuffled order."""
    reg = Registry(db.session(f"sqlite:///{tmp_path}/{name}.db"), "app")
    order = list(customers)
    if shuffle_seed is not None:
        random.Random(shuffle_seed).shuffle(order)
    reg.apply([SALESFORCE, HUBSPOT, DESTINATION, SYNC_CONFIG, HUBSPOT_SYNC,
               *({"customer_id": c} for c in order)])
    reg.apply([{"customer_id": c, "provider_name": p, "refresh_token": f"tok-{c}-{p}"}
               for c in order for p in ("hubspot", "salesforce")])
    reg.s.commit()
    return reg


def test_same_registry_gives_byte_identical_files(tmp_path, secret_key):
    customers = [f"cust{i:04d}" for i in range(1000)]
    a = build(tmp_path, "a", customers, shuffle_seed=1)
    b = build(tmp_path, "b", customers, shuffle_seed=2)
    ra = render.render(a.s, tmp_path / "pa")
    rb = render.render(b.s, tmp_path / "pb")
    assert ra.syncs == rb.syncs == 2000
    assert ra.path.read_bytes() == rb.path.read_bytes()
    assert (tmp_path / "pa" / "meltano.yml").read_bytes() == \
        (tmp_path / "pb" / "meltano.yml").read_bytes()
    again = render.render(a.s, tmp_path / "pa")
    assert not again.changed
    doc = yaml.safe_load(ra.path.read_text())
    assert len(doc["jobs"]) == len(doc["schedules"]) == 2000
    assert len({s["env"]["MELTANO_RUN_STATE_ID_SUFFIX"] for s in doc["schedules"]}) == 2000
    # Tenants are spread over the hour rather than firing together.
    minutes = {s["interval"].split()[0] for s in doc["schedules"]
               if s["job"].endswith("--hubspot")}
    assert len(minutes) >= 50


def test_a_change_gives_a_minimal_diff(tmp_path, secret_key):
    reg = build(tmp_path, "r", ["acme", "globex", "initech"])
    before = render.render(reg.s, tmp_path / "p").path.read_text().splitlines()
    reg.sync("globex", "hubspot").paused = True
    reg.s.commit()
    after = render.render(reg.s, tmp_path / "p").path.read_text().splitlines()
    changed = [line for line in difflib.unified_diff(before, after, lineterm="", n=0)
               if line[:1] in "+-" and not line.startswith(("+++", "---"))]
    assert len(changed) == 2  # one line: the sync's schedule, before and after
    (before_entry,), (after_entry,) = (yaml.safe_load(line[1:]) for line in changed)
    assert after_entry["name"].endswith("--globex--hubspot")
    assert after_entry == {**before_entry, "interval": "@manual"}


def test_the_include_file_reads_back_as_its_document_whatever_the_ids():
    """Jobs and schedules are written as one-line flow mappings (not by PyYAML): PyYAML and
    Meltano's ruamel.yaml read back exactly the document, for any id a customer may have."""
    from ruamel.yaml import YAML

    odd = ['plain', 'quote " and \\ backslash', "colon: hash # amp & star *", " spaced ",
           "tab\there", "nel\x85line", "line\u2028sep", "café", "emoji \U0001f600", "",
           "@manual", "yes", "null", "0123", "- dash", "{brace}", "[bracket]", "new\nline"]
    doc = {"plugins": {"extractors": [], "loaders": []},
           "jobs": [{"name": text, "tasks": [text, "b"]} for text in odd],
           "schedules": [{"name": "s", "job": text, "interval": "*/15 * * * *",
                          "env": {"KEY": text, text or "k": "v"}} for text in odd]}
    text = render.dump(doc)
    assert yaml.safe_load(text) == doc
    assert YAML(typ="rt").load(text) == doc
    assert render.dump({**doc, "jobs": [], "schedules": []}).endswith("jobs: []\nschedules: []\n")


def test_hand_edits_of_meltano_yml_survive(tmp_path, secret_key):
    reg = build(tmp_path, "r", ["acme"])
    project = tmp_path / "p"
    render.render(reg.s, project)
    meltano_yml = project / "meltano.yml"
    edited = meltano_yml.read_text() + "env:\n  MY_SETTING: kept\n"
    meltano_yml.write_text(edited)
    reg.apply({"customer_id": "globex"})
    reg.apply({"customer_id": "globex", "provider_name": "salesforce", "refresh_token": "t"})
    reg.s.commit()
    assert render.render(reg.s, project).changed
    assert meltano_yml.read_text() == edited


def test_existing_project_without_include_paths_gets_them(tmp_path, secret_key):
    reg = build(tmp_path, "r", ["acme"])
    project = tmp_path / "p"
    project.mkdir()
    (project / "meltano.yml").write_text("project_id: mine\nplugins: {}\n")
    render.render(reg.s, project)
    doc = yaml.safe_load((project / "meltano.yml").read_text())
    assert doc["project_id"] == "mine"
    assert doc["include_paths"] == [f"./{render.INCLUDE_FILE}"]


def test_no_secret_is_rendered(tmp_path, secret_key):
    reg = build(tmp_path, "r", ["acme", "globex"])
    text = render.render(reg.s, tmp_path / "p").path.read_text()
    for secret in ("tok-acme-salesforce", "hs-secret-value", "admin-password-xyz",
                   "941b846a-5a8c-48b8-b0e1-41b6d4bc4f1a", secret_key):
        assert secret not in text
    loader = yaml.safe_load(text)["plugins"]["loaders"][0]
    assert loader["config"]["password"] == "$TENANTSYNC_DESTINATION_PASSWORD"
    assert loader["config"]["customer_id"] == "$TENANTSYNC_CUSTOMER_ID"


def test_strategies_and_objects_reach_the_taps(tmp_path, secret_key):
    reg = build(tmp_path, "r", ["acme"])
    doc = yaml.safe_load(render.render(reg.s, tmp_path / "p").path.read_text())
    taps = {t["name"]: t for t in doc["plugins"]["extractors"]}
    assert set(taps) == {"tap-hubspot--app", "tap-hubspot--app--full-only",
                         "tap-salesforce--app"}
    assert taps["tap-hubspot--app"]["config"] == {
        "credential_source": "tenantsync.controller.credentials:load",
        "connection_id": "$TENANTSYNC_CONNECTION_ID", "sync_strategy": "full then incremental",
        "full_sync_every_n_incrementals": 4, "standard_objects": ["deals"],
        "batch_config": render.BATCH_CONFIG, "batch_pending_files": render.BATCH_PENDING_FILES}
    assert taps["tap-hubspot--app--full-only"]["config"]["standard_objects"] == ["tickets"]
    assert taps["tap-hubspot--app--full-only"]["config"]["sync_strategy"] == "full only"
    sf = taps["tap-salesforce--app"]["config"]
    assert sf["sync_strategy"] == "full only"  # the docs' "full refresh"
    assert sf["common_objects"] == ["contact", "account"]
    assert sf["custom_objects"] == ["MyCustomObject__c"]
    jobs = {j["name"]: j["tasks"] for j in doc["jobs"]}
    loader = render.loader_name("app", "my production postgres")
    assert loader.startswith("target-postgres--app--my-production-postgres-")
    assert jobs["app--acme--hubspot"] == [f"tap-hubspot--app {loader}",
                                          f"tap-hubspot--app--full-only {loader}"]


def test_applications_never_share_plugins(tmp_path, secret_key):
    reg = build(tmp_path, "r", ["acme"])
    other = Registry(reg.s, "other-app")
    other.apply([SALESFORCE, {**DESTINATION, "id": None,
                              "credentials": {"host": "elsewhere", "schema": "theirs"}},
                 {**SYNC_CONFIG, "id": None, "provider_id": None, "destination_id": None,
                  "provider_name": "salesforce", "destination_name": "my production postgres",
                  "default_config": {"strategy": "full then incremental"}},
                 {"customer_id": "acme"},
                 {"customer_id": "acme", "provider_name": "salesforce", "refresh_token": "t"}])
    reg.s.commit()
    doc = render.document(reg.s)
    loaders = {p["name"]: p["config"] for p in doc["plugins"]["loaders"]}
    assert loaders[render.loader_name("other-app", "my production postgres")]["host"] == \
        "elsewhere"
    assert loaders[render.loader_name("app", "my production postgres")]["host"].startswith("db.")
    jobs = {j["name"]: j["tasks"] for j in doc["jobs"]}
    assert jobs["other-app--acme--salesforce"] == [
        f"tap-salesforce--other-app {render.loader_name('other-app', 'my production postgres')}"]


def test_cron_intervals():
    assert render.cron_interval(3600, "k") == "* * * * *"  # the docs' 3.6 s: every minute
    every15 = render.cron_interval(900_000, "tenant-a")
    minutes = [int(m) for m in every15.split()[0].split(",")]
    assert [b - a for a, b in itertools.pairwise(minutes)] == [15, 15, 15]
    assert render.cron_interval(900_000, "tenant-a") == every15  # stable
    hourly = {render.cron_interval(3_600_000, f"t{i}") for i in range(2000)}
    assert len(hourly) == 60  # every minute of the hour is used by someone
    assert render.cron_interval(6 * 3_600_000, "x").split()[1].count(",") == 3
    assert render.cron_interval(2 * 86_400_000, "x").split()[2] == "*/2"


def test_slugs_keep_distinct_ids_distinct():
    assert render.slug("acme") == "acme"
    assert render.slug("Acme Corp") != render.slug("acme-corp")
    assert render.slug("a--b") != "a--b"  # '--' separates name parts
    assert render.slug("ACME").startswith("acme-")


def test_template_is_the_repository_meltano_yml():
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    assert (root / "meltano.yml").read_text() == render.TEMPLATE.read_text()


def test_seed_registry_renders(registry):
    seed(registry)
    doc = render.document(registry.s)
    assert [j["name"] for j in doc["jobs"]] == ["app--acme--salesforce",
                                                "app--globex--salesforce"]


def test_a_connection_sync_config_reaches_the_tenant_job_and_env(tmp_path, secret_key):
    reg = build(tmp_path, "r", ["acme", "globex"])
    reg.set_connection_sync_config("acme", "hubspot", {
        "destination_config": {"type": "postgres", "schema": "acme_data"},
        "standard_objects": [{"object": "deals"}]})
    reg.s.commit()
    doc = yaml.safe_load(render.render(reg.s, tmp_path / "p").path.read_text())
    env = {s["name"]: s["env"] for s in doc["schedules"]}
    assert env["app--acme--hubspot"][render.SCHEMA_ENV] == "acme_data"
    assert env["app--globex--hubspot"][render.SCHEMA_ENV] == "supaglue"  # the destination's
    assert env["app--acme--salesforce"][render.SCHEMA_ENV] == "supaglue"
    # bookmarks are kept per schema: in its own, acme's sync starts over (under any runner)
    assert env["app--acme--hubspot"][render.STATE_SUFFIX_ENV] == "app--acme--hubspot--in-acme_data"
    assert env["app--globex--hubspot"][render.STATE_SUFFIX_ENV] == "app--globex--hubspot"
    jobs = {j["name"]: j["tasks"] for j in doc["jobs"]}
    loader = "target-postgres--app--my-production-postgres-"
    # acme chose none of the full-only group's objects (tickets): that extractor is left out
    assert [t.split()[0] for t in jobs["app--acme--hubspot"]] == ["tap-hubspot--app"]
    assert [t.split()[0] for t in jobs["app--globex--hubspot"]] == [
        "tap-hubspot--app", "tap-hubspot--app--full-only"]
    assert all(t.split()[1].startswith(loader) for t in jobs["app--acme--hubspot"])
    (target,) = doc["plugins"]["loaders"]
    assert target["config"]["schema"] == f"${render.SCHEMA_ENV}"


def splice_and_whole(reg, tmp_path, customers):
    """The include file and sync index after rendering only `customers`' syncs into the
    project rendered before, and after a whole render of the same registry elsewhere."""
    reg.s.commit()
    spliced = render_splice.texts(reg.s, tmp_path / "p", set(customers))
    render.render(reg.s, tmp_path / "p", customers)
    if spliced is not None:  # the splice is what render wrote
        assert (tmp_path / "p" / render.INCLUDE_FILE).read_text() == spliced[0]
    render.render(reg.s, tmp_path / "whole")
    return [tuple((tmp_path / d / f).read_text() for f in (render.INCLUDE_FILE,
                                                           sync_index.INDEX_FILE))
            for d in ("p", "whole")]


def test_rendering_a_customer_s_change_alone_gives_the_whole_render(tmp_path, secret_key):
    odd = 'Ünïcode "quoted" \\ customer'  # escaped in the file, slugged with a hash
    reg = build(tmp_path, "r", ["acme", "globex", "initech", odd, "acme--b"])
    render.render(reg.s, tmp_path / "p")
    app = reg.app_id

    def gone(customer):
        for conn in list(reg.customer(customer).connections):
            reg.delete_connection(customer, conn.provider.name)
        reg.delete_customer(customer)
    changes = [
        ("pause one sync", lambda: setattr(reg.sync("globex", "hubspot"), "paused", True),
         ["globex"]),
        ("a connection sync config", lambda: reg.set_connection_sync_config(
            "acme", "hubspot", {"destination_config": {"type": "postgres", "schema": "own"},
                                "standard_objects": [{"object": "deals"}]}), ["acme"]),
        ("a new customer and its connection", lambda: reg.apply([
            {"customer_id": "aaa-first"},
            {"customer_id": "aaa-first", "provider_name": "hubspot", "refresh_token": "t"}]),
         ["aaa-first"]),
        ("an odd customer's connection deleted", lambda: reg.delete_connection(odd, "hubspot"),
         [odd]),
        ("two customers at once", lambda: (gone("initech"),
                                           reg.delete_connection("globex", "salesforce")),
         ["initech", "globex"]),
        ("the last ones", lambda: [gone(c) for c in
                                   ("acme", "globex", odd, "acme--b", "aaa-first")],
         ["acme", "globex", odd, "acme--b", "aaa-first"]),
        ("and back", lambda: reg.apply([{"customer_id": "zed"}, {
            "customer_id": "zed", "provider_name": "salesforce", "refresh_token": "t"}]),
         ["zed"]),
    ]
    for what, change, customers in changes:
        change()
        reg.s.commit()
        assert render_splice.texts(reg.s, tmp_path / "p", {(app, c) for c in customers})
        spliced, whole = splice_and_whole(reg, tmp_path, [(app, c) for c in customers])
        assert spliced == whole, what
    assert "zed--salesforce" in spliced[0] and "acme" not in spliced[1]


def test_a_splice_with_nothing_to_splice_into_renders_whole(tmp_path, secret_key):
    reg = build(tmp_path, "r", ["acme", "globex"])
    spliced, whole = splice_and_whole(reg, tmp_path, [(reg.app_id, "acme")])  # first render
    assert spliced == whole
    include = tmp_path / "p" / render.INCLUDE_FILE  # a hand edit: not render's shape
    include.write_text(include.read_text().replace("jobs:\n", "jobs:\n# mine\n"))
    assert render_splice.texts(reg.s, tmp_path / "p", {(reg.app_id, "acme")}) is None
    spliced, whole = splice_and_whole(reg, tmp_path, [(reg.app_id, "acme")])
    assert spliced == whole
