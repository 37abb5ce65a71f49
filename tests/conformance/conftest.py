"""The conformance suite runs for every registered provider that has a twin
(tenantsync.providers): a new provider gets all of it by registering."""

from __future__ import annotations

import pytest

from tenantsync import providers
from tests.proof.conftest import deploy  # noqa: F401 (the deployment fixture)

SPECS = providers.with_twins()


@pytest.fixture(params=SPECS, ids=lambda spec: spec.name)
def spec(request) -> providers.ProviderSpec:
    return request.param
