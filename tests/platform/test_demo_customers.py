"""The demo's customers cover every provider with a twin by its category (chosen from the
registry, never by name), and its engagement customer syncs every engagement common object."""

from __future__ import annotations

from tenantsync import demo, providers
from tenantsync.common_schema import COMMON_OBJECTS


def test_every_provider_with_a_twin_has_a_demo_customer_of_its_category():
    for spec in providers.with_twins():
        customers = [c for c, (_, categories) in demo.CUSTOMERS.items()
                     if spec.category in categories]
        assert customers, f"no demo customer connects {spec.name} ({spec.category})"


def test_the_engagement_customer_syncs_every_engagement_common_object():
    engagement = [s for s in providers.with_twins() if s.category == "engagement"]
    assert engagement
    assert any("engagement" in categories for _, categories in demo.CUSTOMERS.values())
    every = sorted(o.name for o in COMMON_OBJECTS.values() if o.category == "engagement")
    for spec in engagement:
        objects = demo.demo_objects(spec)
        assert sorted(o["object"] for o in objects["common_objects"]) == every, spec.name
