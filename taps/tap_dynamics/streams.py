"""tap-dynamics' streams: an entity read by tapkit's REST engine (the record as Dataverse
sends it, `@odata.etag` dropped), or a common object mapped from it (raw_data = the record)."""

from __future__ import annotations

from singer_sdk import Tap

from tap_dynamics.common import COMMON_BY_TABLE, MAPPINGS
from tap_dynamics.objects import EXPANDED, OPPORTUNITY_EXPAND, Entity, rest_object
from tenantsync.tapkit.common import common_stream_schema
from tenantsync.tapkit.rest import RestStream


class EntityStream(RestStream):
    def __init__(self, tap: Tap, *, entity: Entity, name: str, schema: dict,
                 common: bool = False):
        raw = schema["properties"].get("raw_data", schema) if common else schema
        fields = [f for f in raw.get("properties", {}) if f in entity.fields]
        expand = OPPORTUNITY_EXPAND if common and entity.set == "opportunities" else None
        super().__init__(tap, obj=rest_object(entity, fields, expand), name=name,
                         schema=schema, common=common)


class CommonStream(EntityStream):
    """crm_accounts, crm_contacts, crm_leads, crm_opportunities, crm_users."""

    def __init__(self, tap: Tap, *, entity: Entity, table: str, schema: dict):
        super().__init__(tap, entity=entity, name=table, schema=schema, common=True)
        self.mapping = MAPPINGS[table]

    def to_record(self, record: dict) -> dict:
        return self.mapping.to_common(self.strip_meta(record))


def common_schema(table: str, entity: Entity) -> dict:
    schema = common_stream_schema(table)
    props = entity.schema()["properties"]
    if entity.set == "opportunities":
        props.update(EXPANDED)
    schema["properties"]["raw_data"]["properties"] = props
    return schema


def stream_for(tap: Tap, name: str, entity: Entity, schema: dict) -> RestStream:
    if name in COMMON_BY_TABLE:
        return CommonStream(tap, entity=entity, table=name, schema=schema)
    return EntityStream(tap, entity=entity, name=name, schema=schema)
