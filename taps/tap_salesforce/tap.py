"""tap-salesforce: standard, custom and CRM common objects of a Salesforce org.

Quota: when Salesforce answers 403 REQUEST_LIMIT_EXCEEDED, or the org's API usage reported in
`Sforce-Limit-Info` reaches `quota_max_percent`, the tap stops cleanly: no further calls, the
last STATE holds every stream's bookmark (an unfinished full sync keeps its version), a warning
says so, and the exit code is 0 so that any runner saves that state. The next run resumes.
"""

from __future__ import annotations

from functools import cached_property

from singer_sdk import typing as th

from tap_salesforce.client import DEFAULT_API_VERSION, DEFAULT_LOGIN_URL, SalesforceClient
from tap_salesforce.discovery import discover, from_catalog
from tap_salesforce.objects import COMMON_OBJECTS
from tap_salesforce.streams import API_TYPES, SalesforceStream
from tenantsync.tapkit.settings import COMMON_SETTINGS
from tenantsync.tapkit.stream import TapkitTap


class TapSalesforce(TapkitTap):
    name = "tap-salesforce"
    dynamic_catalog = True
    config_jsonschema = th.PropertiesList(
        th.Property("client_id", th.StringType, secret=True,
                    description="Connected app consumer key."),
        th.Property("client_secret", th.StringType, secret=True,
                    description="Connected app consumer secret."),
        th.Property("refresh_token", th.StringType, secret=True,
                    description="OAuth refresh token of the connection."),
        th.Property("access_token", th.StringType, secret=True,
                    description="A session token, instead of the refresh-token flow (it cannot "
                                "be renewed: runs fail once it expires)."),
        th.Property("instance_url", th.StringType,
                    description="The org's URL; required with access_token, otherwise taken "
                                "from the token response."),
        th.Property("login_url", th.StringType,
                    description="OAuth host: https://login.salesforce.com, "
                                "https://test.salesforce.com for sandboxes, or My Domain; "
                                "default: instance_url if set, else "
                                f"{DEFAULT_LOGIN_URL}."),
        th.Property("api_version", th.StringType(pattern=r"^\d{2,3}\.0$"),
                    default=DEFAULT_API_VERSION,
                    description="Salesforce API version, e.g. 61.0."),
        th.Property("api_type", th.StringType, default="auto", allowed_values=list(API_TYPES),
                    description="'rest', 'bulk2', or 'auto': REST, switching to Bulk API 2.0 "
                                "when an object has more than bulk_threshold records to read."),
        th.Property("bulk_threshold", th.IntegerType(minimum=0), default=50_000,
                    description="With api_type 'auto': records above which Bulk 2.0 is used."),
        th.Property("quota_max_percent", th.NumberType(exclusive_minimum=0, maximum=100),
                    default=80,
                    description="Stop cleanly before the org's daily API usage passes this "
                                "percentage (exit code 0, state saved, next run resumes)."),
        th.Property("common_objects", th.ArrayType(th.StringType),
                    description="CRM common objects to sync: "
                                f"{', '.join(COMMON_OBJECTS)}."),
        th.Property("standard_objects", th.ArrayType(th.StringType),
                    description="Standard objects (API names, e.g. Account, Task)."),
        th.Property("custom_objects", th.ArrayType(th.StringType),
                    description="Custom objects (API names ending in __c). When all three "
                                "lists are empty, every queryable object is discovered."),
        *COMMON_SETTINGS,
    ).to_dict()

    @cached_property
    def client(self) -> SalesforceClient:
        return SalesforceClient(self.config, self.logger)

    def discover_streams(self) -> list[SalesforceStream]:
        if self.input_catalog is not None:
            return from_catalog(self, self.input_catalog)
        return discover(self, self.client)


if __name__ == "__main__":
    TapSalesforce.cli()
