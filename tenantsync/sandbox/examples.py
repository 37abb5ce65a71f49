"""examples/<provider>/: the registry documents of one customer's sync of a provider, pointed
at the provider's local twin, for every registered provider that has one. Written by
`tenantsync sandbox examples` from the provider's spec (its OAuth app as the twin registers
it, its demo objects); the connection, whose tokens the running twin mints, is written by
`tenantsync sandbox serve <provider> --write-connection <file>`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tenantsync import providers
from tenantsync.providers import ProviderSpec
from tenantsync.sandbox.server import twin_client

CUSTOMER = {"customer_id": "acme", "name": "Acme Inc", "email": "it@acme.example"}
# target-postgres's embedded PostgreSQL, in the project (relative to it: Meltano runs the
# target there); `tenantsync db uri --data-dir .tenantsync/postgres` prints its URI.
DESTINATION = {"name": "local-postgres", "type": "postgres",
               "credentials": {"embedded_data_dir": ".tenantsync/postgres",
                               "schema": "supaglue"}}


def documents(spec: ProviderSpec) -> dict[str, dict[str, Any]]:
    """File name -> document, for one provider with a twin."""
    assert spec.twin is not None
    return {
        "provider.json": providers.registry_provider(spec, *twin_client(spec.name)),
        "destination.json": DESTINATION,
        "sync_config.json": {"provider_name": spec.name, "destination_name": DESTINATION["name"],
                             "default_config": {"period_ms": 3_600_000,
                                                "strategy": "full then incremental"},
                             **spec.twin.demo_objects},
        "customer.json": CUSTOMER,
    }


def render(spec: ProviderSpec) -> dict[str, str]:
    return {name: json.dumps(doc, indent=2) + "\n" for name, doc in documents(spec).items()}


def write(root: Path) -> list[Path]:
    """Write examples/<provider>/ for every provider with a twin; returns the files changed."""
    changed = []
    for spec in providers.with_twins():
        folder = root / spec.name
        folder.mkdir(parents=True, exist_ok=True)
        for name, text in render(spec).items():
            path = folder / name
            if not path.exists() or path.read_text() != text:
                path.write_text(text)
                changed.append(path)
    return changed
