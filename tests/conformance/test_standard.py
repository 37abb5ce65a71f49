"""singer-sdk's standard tap tests, for every registered provider's tap against its twin (the
suite builds its classes at import, so each twin starts at collection, small, and stops when
the interpreter exits). Objects: the twin's standard objects and the spec's common ones."""

from __future__ import annotations

import atexit

from singer_sdk.testing import SuiteConfig, get_tap_test_class

from tests.conformance.conftest import SPECS


def _standard_class(spec):
    twin = spec.twin.start("sync", records=150, seed=5)
    atexit.register(twin.stop)
    config = {**spec.twin.tap_config(twin), "standard_objects": list(spec.twin.objects),
              "common_objects": list(spec.objects.common)}
    return get_tap_test_class(spec.tap_class(), config=config,
                              suite_config=SuiteConfig(max_records_limit=50))


for _spec in SPECS:
    globals()[f"TestStandard_{_spec.name}"] = _standard_class(_spec)
