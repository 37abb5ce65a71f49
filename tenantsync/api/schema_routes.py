"""Schemas and customer field mappings (Supaglue's management API v2, deprecated there but
served here): `/schemas` CRUD and `/field_mappings` per connection (`x-customer-id`,
`x-provider-name`). A customer's mapping is checked against the fields its own account has,
listed by the provider's tap (tenantsync.controller.discovery); each change sends
`object.field_mapping.created|updated`, and a refused one the same event with
`result: ERROR`, as Supaglue did. Syncs apply a mapping from their next run on."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Response
from pydantic import Field

from tenantsync.api import webhooks
from tenantsync.api.errors import bad_request
from tenantsync.api.mgmt import Name, Strict, commit, missing
from tenantsync.api.service import AppRegistry, Config, CustomerHeader, ProviderHeader
from tenantsync.controller import discovery, schemas
from tenantsync.controller.registry import Registry, RegistryError

router = APIRouter(prefix="/mgmt/v2", tags=["management"])
FieldName = Field(min_length=1, max_length=256, pattern=r"^[^\x00]+$")


class SchemaFieldIn(Strict):
    name: str = FieldName
    mapped_name: str | None = Field(default=None, min_length=1, max_length=256,
                                    pattern=r"^[^\x00]+$")
    is_required: bool | None = None


class SchemaConfigIn(Strict):
    fields: list[SchemaFieldIn] = Field(max_length=500)
    allow_additional_field_mappings: bool = False


class SchemaIn(Strict):
    name: str = Name
    config: SchemaConfigIn


class FieldMappingIn(Strict):
    schema_field: str = FieldName
    mapped_field: str | None = Field(default=None, min_length=1, max_length=256,
                                     pattern=r"^[^\x00]+$")


class ObjectFieldMappingsIn(Strict):
    name: str = Name
    type: Literal["common", "standard"] = "standard"
    field_mappings: list[FieldMappingIn] = Field(max_length=500)


def _schema(reg: Registry, schema_id: str):
    return missing(reg.schema, schema_id)


def _upsert(reg: Registry, body: SchemaIn, schema_id: str | None = None) -> dict:
    try:
        row = reg.upsert_schema(body.model_dump(exclude_none=True), schema_id)
    except RegistryError as exc:
        raise bad_request(str(exc)) from None
    return schemas.schema_doc(row)


@router.get("/schemas")
def list_schemas(*, reg: AppRegistry) -> list[dict]:
    return [schemas.schema_doc(r) for r in reg.schemas()]


@router.post("/schemas")  # 200, as Supaglue answered
def create_schema(*, body: SchemaIn, reg: AppRegistry, cfg: Config) -> dict:
    if any(r.name == body.name for r in reg.schemas()):
        raise bad_request(f"schema {body.name!r} already exists")
    out = _upsert(reg, body)
    commit(reg, cfg)
    return out


@router.get("/schemas/{schema_id}")
def get_schema(*, schema_id: str, reg: AppRegistry) -> dict:
    return schemas.schema_doc(_schema(reg, schema_id))


@router.put("/schemas/{schema_id}")
def update_schema(*, schema_id: str, body: SchemaIn, reg: AppRegistry, cfg: Config) -> dict:
    """Replace the schema; connections' syncs write the new fields from their next run."""
    _schema(reg, schema_id)
    out = _upsert(reg, body, schema_id)
    commit(reg, cfg)
    return out


@router.delete("/schemas/{schema_id}", status_code=204)
def delete_schema(*, schema_id: str, reg: AppRegistry, cfg: Config) -> Response:
    _schema(reg, schema_id)
    try:
        reg.delete_schema(schema_id)
    except RegistryError as exc:
        raise bad_request(str(exc)) from None
    commit(reg, cfg)
    return Response(status_code=204)


@router.get("/field_mappings")
def list_field_mappings(*, customer_id: str = CustomerHeader,
                        provider_name: str = ProviderHeader, reg: AppRegistry,
                        include_provider_fields: bool = False) -> list[dict]:
    """Each object with a schema: its fields and who maps them. With
    `include_provider_fields=true`, also `provider_fields`: the fields the customer's
    account has, which a mapping may name (the provider's tap lists them: slower)."""
    out = missing(reg.field_mappings, customer_id, provider_name)
    if include_provider_fields and out:
        try:
            found = discovery.provider_fields(reg, customer_id, provider_name,
                                              [o["object_name"] for o in out])
        except RegistryError as exc:
            raise bad_request(str(exc)) from None
        for entry in out:
            entry["provider_fields"] = found.get(entry["object_name"], [])
    return out


@router.put("/field_mappings")
@router.put("/field_mappings/_update_object")
def update_field_mappings(*, body: ObjectFieldMappingsIn, customer_id: str = CustomerHeader,
                          provider_name: str = ProviderHeader, reg: AppRegistry,
                          cfg: Config) -> dict:
    """Replace the customer's mappings of one object (`_update_object` is Supaglue's path)."""
    conn = missing(reg.connection, customer_id, provider_name)
    payload = {"connection_id": str(conn.id), "application_id": reg.app_id,
               "customer_id": customer_id, "provider_name": provider_name,
               "object_name": body.name, "object_type": body.type}
    created = not conn.field_mappings
    try:
        info, created = reg.set_field_mappings(
            customer_id, provider_name, body.model_dump(exclude_none=True),
            lambda obj: discovery.provider_fields(reg, customer_id, provider_name,
                                                  [obj]).get(obj, []))
    except RegistryError as exc:
        reg.s.rollback()
        _event(reg, created, {**payload, "result": "ERROR", "error_message": str(exc)})
        reg.s.commit()
        raise bad_request(str(exc)) from None
    _event(reg, created, {**payload, "schema_id": info["schema_id"], "result": "SUCCESS"})
    commit(reg, cfg, customer_id)
    return info


def _event(reg: Registry, created: bool, payload: dict) -> None:
    kind = "created" if created else "updated"
    webhooks.emit(reg.s, reg.app_id, f"object.field_mapping.{kind}", payload)
