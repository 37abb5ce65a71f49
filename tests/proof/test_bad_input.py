"""Bad input through the whole pipeline: records with NUL bytes, 1 MB strings, odd unicode
and SQL-looking values, custom fields whose names are SQL words, added to the sandboxes
through their HTTP control API; customer ids with quotes, slashes, backslashes and `$`
carried by the registry, the rendered project and Meltano's environment. Everything is
stored exactly (NUL removed, as documented: PostgreSQL text cannot hold it), nothing else is
lost, and what a provider itself refuses is refused with a clear error.
(target-postgres' own tests cover SQL-looking stream names and lone surrogates, which no
provider API can produce.)"""

from __future__ import annotations

import pytest
import requests

from tap_hubspot.sandbox import HubSpotSandbox
from tap_salesforce.sandbox import SalesforceSandbox
from tests.proof.harness import Tenant

pytestmark = pytest.mark.slow

CUSTOMER = "o'brien/\"corp\" \\ x;--$HOME${TENANTSYNC_CUSTOMER_ID}"
MEGABYTE = "é" * 500_000 + "x" * 100  # 1 MB of UTF-8
ODD = "Ünïcödé 😀 👩‍💻 עברית \u202e RTL e\u0301 \ufeff\u2028\u200b \U0001d518 \t tab\nline \\n"
SQLISH = "Robert'); DROP TABLE salesforce_account; --"


def without_nul(value: str) -> str:
    return value.replace("\x00", "")


def control(sb, method: str, path: str, body: dict) -> requests.Response:
    with requests.Session() as s:
        s.trust_env = False
        return s.request(method, f"{sb.base_url}/_sandbox/{path}", json=body, timeout=60)


def _salesforce_values() -> list[dict]:
    return [{"Name": "Nul\x00Byte Co", "Description": "a\x00b"},
            {"Name": "Big Co", "Description": MEGABYTE, "Select_From__c": MEGABYTE},
            {"Name": ODD, "Description": ODD},
            {"Name": SQLISH, "Select_From__c": "1; DELETE FROM crm_accounts",
             "Drop_Table_Account__c": '"quoted" \\ back \' single'}]


def test_salesforce_bad_records_and_customer_id_stored_exactly(deploy):
    with SalesforceSandbox(records=300, seed=31) as sb:
        for name, kind in (("Select_From__c", "textarea"), ("Drop_Table_Account__c", "string")):
            reply = control(sb, "POST", "objects/Account/fields", {"name": name, "type": kind})
            assert reply.status_code < 300, reply.text
        refused = control(sb, "POST", "objects/Account/fields",
                          {"name": 'x"; DROP TABLE y; --', "type": "string"})
        assert refused.status_code == 400 and "Name__c" in refused.json()["error"]
        ids = []
        for values in _salesforce_values():
            reply = control(sb, "POST", "objects/Account", values)
            assert reply.status_code < 300, reply.text
            ids.append(reply.json()["Id"])
        tenant = Tenant(CUSTOMER, "salesforce", sb)
        d = deploy([tenant])
        first = d.run(tenant)
        assert first.code == 0, first.output[-2000:]
        assert d.check_exact(tenant, stored_as=without_nul) == []
        rows = {r[0]: r[1] for r in d.rows(tenant, "Account")}
        assert rows[ids[0]]["Name"] == "NulByte Co"
        assert rows[ids[1]]["Select_From__c"] == MEGABYTE
        assert rows[ids[2]]["Name"] == ODD and rows[ids[3]]["Name"] == SQLISH
        # every table is intact and holds only this tenant
        assert d.query("SELECT DISTINCT _supaglue_customer_id FROM {schema}.salesforce_account"
                       ) == [(CUSTOMER,)]

        sb.advance_clock(10)
        reply = control(sb, "PATCH", f"objects/Account/{ids[2]}", {"Name": SQLISH + ODD})
        assert reply.status_code < 300, reply.text
        second = d.run(tenant)
        assert second.code == 0, second.output[-2000:]
        assert d.check_exact(tenant, stored_as=without_nul) == []


def test_hubspot_bad_records_stored_exactly(deploy):
    with HubSpotSandbox(records=200, seed=32) as hs:
        reply = control(hs, "POST", "objects/contacts/fields",
                        {"name": "select_from_where", "type": "string"})
        assert reply.status_code < 300, reply.text
        refused = control(hs, "POST", "objects/contacts/fields",
                          {"name": "x'; drop table y", "type": "string"})
        assert refused.status_code == 400 and "property name" in refused.json()["error"]
        values = [{"firstname": "Nul\x00Byte", "lastname": ODD},
                  {"firstname": "Big", "select_from_where": MEGABYTE},
                  {"firstname": SQLISH, "select_from_where": "'; DELETE FROM crm_contacts; --"}]
        for props in values:
            reply = control(hs, "POST", "objects/contacts", props)
            assert reply.status_code < 300, reply.text
        tenant = Tenant(CUSTOMER, "hubspot", hs)
        d = deploy([tenant], objects={"hubspot": ("contact",)})
        run = d.run(tenant)
        assert run.code == 0, run.output[-2000:]
        assert d.check_exact(tenant, stored_as=without_nul) == []
        stored = {r[1].get("firstname") for r in d.rows(tenant, "contact")}
        assert {"NulByte", "Big", SQLISH} <= stored
