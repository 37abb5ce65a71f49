"""singer-sdk's standard tap tests, run against the Salesforce sandbox.

The suite discovers streams while pytest collects it, so its org starts at import time (small
and fast) and stops when the interpreter exits.
"""

from __future__ import annotations

import atexit

from singer_sdk.testing import SuiteConfig, get_tap_test_class

from tap_salesforce.sandbox import SalesforceSandbox
from tap_salesforce.tap import TapSalesforce
from tests.taps.conftest import tap_config

_ORG = SalesforceSandbox(records=200, seed=5).start()
atexit.register(_ORG.stop)

TestTapSalesforceStandard = get_tap_test_class(
    TapSalesforce,
    config=tap_config(_ORG, standard_objects=["Account", "Task"], custom_objects=["Invoice__c"],
                      common_objects=["account", "opportunity"]),
    suite_config=SuiteConfig(max_records_limit=50))
