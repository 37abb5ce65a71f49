"""tap-dynamics: Microsoft Dynamics 365 Sales (Dataverse Web API) entities, custom entities
(addressed without their publisher prefix, as Supaglue did) and Supaglue's CRM common objects.

Discovery reads `EntityDefinitions` with their attributes (one request) and types each
stream's schema from the attribute types; runs read them again (a catalog names fields, the
definitions say which entity and key they belong to). How each entity is read: objects.py.
"""

from __future__ import annotations

from functools import cached_property

from singer_sdk import typing as th
from singer_sdk.exceptions import ConfigValidationError, DiscoveryError

from tap_dynamics.client import DEFAULT_LOGIN_URL, PAGE_SIZE, DynamicsClient
from tap_dynamics.common import COMMON_BY_TABLE, COMMON_OBJECTS
from tap_dynamics.objects import STANDARD, Entity
from tap_dynamics.streams import common_schema, stream_for
from tenantsync.contract import CUSTOM_PREFIX
from tenantsync.tapkit.catalog import catalog_streams
from tenantsync.tapkit.settings import COMMON_SETTINGS
from tenantsync.tapkit.stream import TapkitTap

PROVIDER = "ms_dynamics_365_sales"
DEFINITIONS = ("/EntityDefinitions?$select=LogicalName,EntitySetName,PrimaryIdAttribute,"
               "ChangeTrackingEnabled,IsCustomEntity&$expand=Attributes($select=LogicalName,"
               "AttributeType,IsValidForRead)")


class TapDynamics(TapkitTap):
    name = "tap-dynamics"
    dynamic_catalog = True
    config_jsonschema = th.PropertiesList(
        th.Property("instance_url", th.StringType, required=True,
                    description="The organization URL, e.g. https://contoso.crm.dynamics.com."),
        th.Property("client_id", th.StringType, secret=True,
                    description="Entra ID app (client) id."),
        th.Property("client_secret", th.StringType, secret=True,
                    description="Entra ID app client secret."),
        th.Property("refresh_token", th.StringType, secret=True,
                    description="OAuth refresh token of the connection."),
        th.Property("login_url", th.StringType, default=DEFAULT_LOGIN_URL,
                    description="Microsoft Entra ID's host (token refresh)."),
        th.Property("tenant", th.StringType, default="organizations",
                    description="Entra tenant of the token endpoint (id, domain, "
                                "organizations or common)."),
        th.Property("page_size", th.IntegerType(minimum=1, maximum=5000), default=PAGE_SIZE,
                    description="Prefer: odata.maxpagesize."),
        th.Property("include_formatted_values", th.BooleanType, default=True,
                    description="Ask for the formatted-value annotations (option labels, "
                                "money, dates, lookup names: "
                                "<field>@OData.Community.Display.V1.FormattedValue), kept in "
                                "the raw record as Dataverse returns them."),
        th.Property("requests_per_5_minutes", th.IntegerType(minimum=1), default=6000,
                    description="Service protection limit to stay under (per user)."),
        th.Property("common_objects", th.ArrayType(th.StringType),
                    description=f"CRM common objects: {', '.join(COMMON_OBJECTS)}."),
        th.Property("standard_objects", th.ArrayType(th.StringType),
                    description=f"Entity sets, e.g. {', '.join(STANDARD)}. When every list "
                                "is empty, the common objects and these are offered."),
        th.Property("custom_objects", th.ArrayType(th.StringType),
                    description="Custom entities by logical name without the publisher "
                                "prefix (cr1a2_project: project)."),
        *COMMON_SETTINGS,
    ).to_dict()

    @cached_property
    def client(self) -> DynamicsClient:
        return DynamicsClient(self.config, self.logger)

    @cached_property
    def entities(self) -> dict[str, Entity]:
        """Entity set -> entity, from `EntityDefinitions` with their attributes."""
        body = self.client.get(DEFINITIONS)
        found = [Entity.from_definition(d) for d in body.get("value") or []]
        return {e.set: e for e in found if e.fields}

    def custom_entity(self, name: str) -> Entity:
        matches = [e for e in self.entities.values() if e.custom and e.unprefixed == name]
        if len(matches) != 1:
            known = sorted(e.unprefixed for e in self.entities.values() if e.custom)
            raise ConfigValidationError(f"custom object {name!r}: {len(matches)} custom "
                                        f"entities match (custom entities: {known})")
        return matches[0]

    def discover_streams(self) -> list:
        if self.input_catalog is not None:
            return self._from_catalog()
        common = list(self.config.get("common_objects") or [])
        standard = list(self.config.get("standard_objects") or [])
        custom = list(self.config.get("custom_objects") or [])
        if not (common or standard or custom):
            common, standard = list(COMMON_OBJECTS), list(STANDARD)
        problems = [f"common object {n!r} is not one of {', '.join(COMMON_OBJECTS)}"
                    for n in common if n not in COMMON_OBJECTS]
        problems += [f"standard object {n!r} is not an entity set of this organization"
                     for n in standard if n not in self.entities]
        if problems:
            raise ConfigValidationError("; ".join(problems))
        formatted = bool(self.config.get("include_formatted_values", True))
        streams = [stream_for(self, s, self.entities[s], self.entities[s].schema(
                   formatted=formatted)) for s in standard]
        for name in custom:
            entity = self.custom_entity(name)
            streams.append(stream_for(self, CUSTOM_PREFIX + name, entity,
                                      entity.schema(formatted=formatted)))
        for name in common:
            obj, table = COMMON_OBJECTS[name]
            streams.append(stream_for(self, table, self.entities[obj],
                                      common_schema(table, self.entities[obj], formatted)))
        return streams

    def _from_catalog(self) -> list:
        streams = []
        for item in catalog_streams(self.input_catalog, PROVIDER, "Dynamics 365 Sales",
                                    COMMON_BY_TABLE):
            kind = item.dest.kind
            if kind == "common":
                entity = self.entities[COMMON_BY_TABLE[item.dest.table][1]]
            elif kind == "custom":
                entity = self.custom_entity(item.dest.object)
            elif item.dest.object in self.entities:
                entity = self.entities[item.dest.object]
            else:
                raise DiscoveryError(f"catalog stream {item.name!r}: not an entity set")
            streams.append(stream_for(self, item.name, entity, item.schema))
        return streams


if __name__ == "__main__":
    TapDynamics.cli()
