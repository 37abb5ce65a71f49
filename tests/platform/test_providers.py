"""The provider registry: every provider registered through the `tenantsync.providers` entry
points is a well-formed ProviderSpec whose tap, console script and twin exist."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest

from tenantsync import providers
from tenantsync.providers import OAuth2, Objects, ProviderSpec
from tenantsync.sandbox.server import Sandbox

SPECS = providers.all_specs()


def test_providers_are_registered_by_entry_points():
    assert len(SPECS) >= 2
    assert providers.names() == sorted(providers.names())
    for spec in SPECS:
        assert providers.get(spec.name) is spec is providers.find(spec.name)


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s.name)
def test_a_spec_names_a_tap_its_script_and_a_twin_that_exist(spec):
    tap = spec.tap_class()
    assert tap.name == spec.executable
    assert shutil.which(spec.executable, path=str(Path(sys.executable).parent))
    assert spec.namespace == tap.__module__.partition(".")[0]
    properties = tap.config_jsonschema["properties"]
    for kind in ("standard", "common", "custom"):
        assert f"{kind}_objects" in properties
    assert spec.label and spec.description
    assert set(spec.objects.common.values()) <= set(spec.objects.standard)
    if spec.oauth is not None:
        assert spec.oauth.base_setting in properties
        assert spec.oauth.authorize_path.startswith("/")
    assert set(spec.connection_settings) - {"instance_url"} <= set(properties)
    if spec.twin is not None:
        assert issubclass(spec.twin.sandbox_class(), Sandbox)
        assert set(spec.twin.objects) <= set(spec.objects.standard)


def test_an_unknown_provider_is_refused_naming_the_registered_ones():
    with pytest.raises(providers.UnknownProvider) as err:
        providers.get("nosuch")
    assert "nosuch" in str(err.value)
    assert all(name in str(err.value) for name in providers.names())
    assert providers.find("nosuch") is None


def test_a_spec_is_checked_when_declared():
    auth = (OAuth2(authorize_url="https://x.example/oauth/authorize",
                   token_url="https://api.x.example/oauth/token"),)
    with pytest.raises(ValueError, match="category 'sales'"):
        ProviderSpec(name="x", category="sales", auth=auth, tap="tap_x.tap:TapX",
                     executable="tap-x", objects=Objects(standard=()))
    with pytest.raises(ValueError, match="no auth kind"):
        ProviderSpec(name="x", category="none", auth=(), tap="tap_x.tap:TapX",
                     executable="tap-x", objects=Objects(standard=()))
    spec = ProviderSpec(name="x", category="none", auth=auth, tap="tap_x.tap:TapX",
                        executable="tap-x", objects=Objects(standard=()))
    assert (spec.namespace, spec.oauth.token_path, spec.auth_kind("api_key")) == \
        ("tap_x", "/oauth/token", None)
    assert spec.projection({"a": 1}) == {"a": 1}
    assert spec.oauth.token_settings({"anything": 1}) == {}
    with pytest.raises(ValueError, match="is not 'package"):
        providers.load_object("tap_x.tap")
