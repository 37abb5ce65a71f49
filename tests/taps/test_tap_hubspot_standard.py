"""singer-sdk's standard tap test suite, run against a HubSpot sandbox started at collection
(the suite's classes are built at import, with the config that names the sandbox)."""

from __future__ import annotations

import atexit

from singer_sdk.testing import get_tap_test_class

from tap_hubspot.sandbox import HubSpotSandbox
from tap_hubspot.tap import TapHubSpot

_SANDBOX = HubSpotSandbox(records=120, seed=9).start()
atexit.register(_SANDBOX.stop)

TestTapHubSpotStandard = get_tap_test_class(
    TapHubSpot,
    config={
        "client_id": _SANDBOX.client_id,
        "client_secret": _SANDBOX.client_secret,
        "refresh_token": _SANDBOX.mint_refresh_token(),
        "base_url": _SANDBOX.base_url,
        "common_objects": ["account", "contact", "opportunity", "user"],
        "standard_objects": ["contact", "company", "deal", "line_item", "note", "owner"],
        "custom_objects": ["pets"],
    },
)
