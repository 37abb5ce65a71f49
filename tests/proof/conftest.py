"""Fixtures for the proof tests: a deployment (registry + Meltano project) per test, torn
down with its schema."""

from __future__ import annotations

import uuid

import pytest

from tests.proof.harness import Deployment


@pytest.fixture
def deploy(tmp_path, pg_server_uri):
    """deploy(tenants, **options) -> a Deployment into a fresh schema, dropped afterwards."""
    made: list[Deployment] = []

    def make(tenants, **options) -> Deployment:
        d = Deployment(tmp_path / f"project{len(made)}", pg_server_uri,
                       f"proof_{uuid.uuid4().hex[:10]}", tenants, **options)
        made.append(d)
        return d

    yield make
    for d in made:
        d.drop()
