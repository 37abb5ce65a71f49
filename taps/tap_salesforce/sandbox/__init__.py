"""The Salesforce twin: REST API, SOQL, Bulk API 2.0 and OAuth on 127.0.0.1."""

from tap_salesforce.sandbox.sandbox import SalesforceSandbox

__all__ = ["SalesforceSandbox"]
