"""Every registered provider through the whole pipeline (registry -> render -> `tenantsync run`
-> meltano -> tap -> target-postgres) against its twin: discovery; a full sync, then changes
and an incremental one, each leaving the destination equal to the twin's own records (every
field, deletes flagged), with rotated refresh tokens sealed back into the registry."""

from __future__ import annotations

import io
import json
from contextlib import redirect_stdout

from tenantsync.contract import slug
from tenantsync.controller import crypto
from tests.proof.harness import Tenant, reference
from tests.proof.scenarios import mutate


def test_discovery_lists_the_twins_objects_with_keys(spec):
    with spec.twin.start("sync", records=60, seed=3) as sb:
        tap = spec.tap_class()(config={**spec.twin.tap_config(sb),
                                       "standard_objects": list(spec.twin.objects),
                                       "common_objects": list(spec.objects.common)})
        out = io.StringIO()
        with redirect_stdout(out):
            tap.run_discovery()
    streams = {s["tap_stream_id"]: s for s in json.loads(out.getvalue())["streams"]}
    for obj in spec.twin.objects:
        assert obj in streams, sorted(streams)
        assert streams[obj]["key_properties"], obj
    if spec.objects.common:  # a provider of category none (Gong) has no common objects
        common = {f"crm_{slug(o)}" for o in spec.objects.common} | {
            n for n in streams if n.startswith(("crm_", "engagement_"))}
        assert common & set(streams), sorted(streams)


def _incremental_streams(spec, sb) -> set[str]:
    """The twin's objects the tap reads incrementally (the others are full only: every run
    reads them whole)."""
    tap = spec.tap_class()(config={**spec.twin.tap_config(sb),
                                   "standard_objects": list(spec.twin.objects)})
    return {name for name, stream in tap.streams.items()
            if stream.replication_key} & set(spec.twin.objects)


def test_full_then_incremental_sync_is_exact_and_rotated_tokens_are_sealed(spec, deploy):
    """Two runs; the twin rotates refresh tokens (each refresh kills the token it used), so
    the second run can only log in if the first sealed its rotated token into the registry.
    (A provider without OAuth keeps its sealed API key as imported; so does one whose tokens
    never expire: no refresh token, the sealed access token stays.)"""
    rotating = spec.oauth is not None and spec.oauth.expiring
    with spec.twin.start("sync", seed=21) as sb:
        tenant = Tenant("acme", spec.name, sb)
        d = deploy([tenant])
        sb.oauth.rotate_refresh_tokens = True
        secret = spec.auth[0].secrets[0]  # refresh_token, access_token or an API key

        def sealed() -> str:
            with d.registry() as reg:
                return crypto.unseal(reg.connection(tenant.customer, spec.name)
                                     .sealed_credentials)[secret]

        imported = sealed()
        full = d.run(tenant)
        assert full.code == 0, full.output[-3000:]
        assert d.check_exact(tenant) == []
        rotated = sealed()
        assert (rotated != imported) == rotating
        for step in (0, 1):  # a create and an update; then one more, deleted
            mutate(tenant, step)
        incremental = d.run(tenant)
        assert incremental.code == 0, incremental.output[-3000:]
        assert d.check_exact(tenant) == []  # every field, every deleted flag
        if rotating:
            assert sealed() not in (imported, rotated)
        # incremental: it read the changes, not the whole twin again (full-only objects
        # are read whole by every run)
        streams = _incremental_streams(spec, sb)
        read = sum(n for name, n in incremental.records.items() if name in streams)
        whole = sum(len(reference(tenant, obj)) for obj in streams)
        assert not streams or 0 < read < whole / 2, incremental.records
        assert any(gone for obj in d.objects[spec.name]
                   for _fields, gone in reference(tenant, obj).values())
