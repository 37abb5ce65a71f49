"""Every registered engagement provider with a twin, through the whole pipeline (registry ->
render -> `tenantsync run` -> meltano -> tap -> target-postgres): a sync config with all six
engagement common objects lands every `engagement_*` table, and the rows refer to each other
as the twin's data does (checked in SQL): every sequence state's contact, sequence and mailbox
are in their tables for that customer and provider, and contacts carry their emails."""

from __future__ import annotations

import pytest

from tenantsync import providers
from tenantsync.common_schema import COMMON_OBJECTS
from tests.proof.harness import Tenant

pytestmark = pytest.mark.slow

ENGAGEMENT = [s for s in providers.with_twins() if s.category == "engagement"]
TABLES = {o.name: o.table for o in COMMON_OBJECTS.values() if o.category == "engagement"}

# (what must hold, SQL counting the rows that break it; {s} is the schema, the two parameters
# the customer and the provider)
_SAME = "_supaglue_customer_id = %s AND _supaglue_provider_name = %s"
BROKEN = [
    ("every sequence state's contact exists",
     "SELECT count(*) FROM {s}.engagement_sequence_states ss WHERE ss." + _SAME +
     " AND NOT EXISTS (SELECT 1 FROM {s}.engagement_contacts c "
     "WHERE c.id = ss.contact_id AND c._supaglue_customer_id = ss._supaglue_customer_id AND "
     "c._supaglue_provider_name = ss._supaglue_provider_name)"),
    ("every sequence state's sequence exists",
     "SELECT count(*) FROM {s}.engagement_sequence_states ss WHERE ss." + _SAME +
     " AND NOT EXISTS (SELECT 1 FROM {s}.engagement_sequences q WHERE q.id = ss.sequence_id "
     "AND q._supaglue_customer_id = ss._supaglue_customer_id AND "
     "q._supaglue_provider_name = ss._supaglue_provider_name)"),
    ("every sequence state's mailbox exists (where the provider names one)",
     "SELECT count(*) FROM {s}.engagement_sequence_states ss WHERE ss." + _SAME +
     " AND ss.mailbox_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM {s}.engagement_mailboxes m "
     "WHERE m.id = ss.mailbox_id AND m._supaglue_customer_id = ss._supaglue_customer_id AND "
     "m._supaglue_provider_name = ss._supaglue_provider_name)"),
    ("every mailbox's user exists",
     "SELECT count(*) FROM {s}.engagement_mailboxes m WHERE m." + _SAME +
     " AND m.user_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM {s}.engagement_users u "
     "WHERE u.id = m.user_id AND u._supaglue_customer_id = m._supaglue_customer_id AND "
     "u._supaglue_provider_name = m._supaglue_provider_name)"),
    ("every contact's account exists",
     "SELECT count(*) FROM {s}.engagement_contacts c WHERE c." + _SAME +
     " AND c.account_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM {s}.engagement_accounts a "
     "WHERE a.id = c.account_id AND a._supaglue_customer_id = c._supaglue_customer_id AND "
     "a._supaglue_provider_name = c._supaglue_provider_name)"),
    ("every contact has an email address",
     "SELECT count(*) FROM {s}.engagement_contacts c WHERE c." + _SAME +
     " AND NOT EXISTS (SELECT 1 FROM jsonb_array_elements(c.email_addresses) e "
     "WHERE e->>'email_address' LIKE '%%@%%')"),
]


def test_there_is_an_engagement_provider_to_test():
    assert ENGAGEMENT, "no engagement provider with a twin is registered"


@pytest.mark.parametrize("spec", ENGAGEMENT, ids=lambda s: s.name)
def test_engagement_common_objects_land_and_refer_to_each_other(spec, deploy):
    offered = [name for name in TABLES if name in spec.objects.common]
    assert offered == list(TABLES), f"{spec.name} offers {sorted(spec.objects.common)}"
    with spec.twin.start("sync", seed=31) as sb:
        tenant = Tenant("initech", spec.name, sb)
        d = deploy([tenant], objects={spec.name: ()}, common={spec.name: offered})
        run = d.run(tenant)
    assert run.code == 0, run.output[-3000:]
    args = (tenant.customer, spec.name)
    for name, table in TABLES.items():
        rows = d.query(f"SELECT count(*), count(*) FILTER (WHERE raw_data IS NOT NULL) "
                       f"FROM {{schema}}.{table} WHERE {_SAME}", *args)[0]
        assert rows[0] > 0 and rows[0] == rows[1], (name, rows)
    states = d.query(f"SELECT count(DISTINCT contact_id), count(DISTINCT sequence_id) "
                     f"FROM {{schema}}.engagement_sequence_states WHERE {_SAME}", *args)[0]
    assert states[0] > 1 and states[1] > 1, states  # states of many contacts and sequences
    problems = {what: n for what, sql in BROKEN
                if (n := d.query(sql.replace("{s}", "{schema}"), *args)[0][0])}
    assert problems == {}
