"""The stream contract: which Supaglue table a Singer stream lands in, decided from its name alone.

Stream names survive every Singer runner unchanged (catalogs, Meltano selection, stream maps),
unlike custom schema keywords, so the contract lives in the name. The grammar:

    stream   := [provider "-"] object_ref
    object_ref := common_table          e.g. crm_accounts, engagement_sequences -> common object
                | "custom__" object     e.g. custom__Invoice__c, custom__p_pets -> custom object
                | object                e.g. Account, line_item, deals           -> standard object

(`crm_*` and `engagement_*` names other than the common tables are refused as typos.)

- common: the record follows the common schema (tenantsync.common_schema) plus `raw_data`,
  and lands in the common table of that name.
- custom: the raw provider record lands in `custom_objects` with
  `_supaglue_object_name = {provider}_{slug(object)}`, readable through a view of that name.
- standard: the raw provider record lands in `{provider}_{slug(object)}`.

Names longer than PostgreSQL's 63 bytes are shortened by `identifier` (a prefix + a hash of
the whole name) and target-postgres comments the table or view with the full name.

The provider comes from the optional `provider-` prefix, or else the target's `provider_name`
setting; if both are given they must agree (a tenant guard). A stream from any Singer tap that
declares nothing is therefore a standard object of the configured provider.

Peer taps (other Singer taps of the same provider, e.g. singer-io's) follow their own
conventions, which the provider's spec declares (`ProviderSpec.peer_stream_aliases`,
`peer_delete_flags`, read through the provider registry): a standard object named by an alias
(`contacts`) lands in the table of the object it stands for (`<provider>_contact`), and a
record whose delete flag is true (e.g. `IsDeleted`) is stored as deleted.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass

from tenantsync.common_schema import COMMON_OBJECTS

CUSTOM_PREFIX = "custom__"
DEFAULT_SCHEMA = "supaglue"  # target-postgres's schema when a destination names none
CUSTOM_TABLE = "custom_objects"
_PROVIDER_RE = re.compile(r"^[a-z][a-z0-9_]*$")
MAX_IDENTIFIER_BYTES = 63  # PostgreSQL truncates longer names (NAMEDATALEN - 1)
_HASH_CHARS = 10


class ContractError(ValueError):
    """A stream name, or the provider it implies, does not follow the contract."""


@dataclass(frozen=True)
class Destination:
    kind: str  # "common" | "standard" | "custom"
    provider: str
    object: str  # provider object name (standard/custom) or common table name
    table: str  # physical table (`identifier` of its name)
    object_name: str | None = None  # custom objects: `_supaglue_object_name` (the view's name
    # is `identifier(object_name)`)
    delete_flags: tuple[str, ...] = ()  # record fields whose `true` marks a deleted record
    full_table: str = ""  # the table's name before `identifier` shortened it ("": not shortened)

    def is_deleted(self, record: dict) -> bool:
        """Whether a record without explicit deletion metadata is deleted by its own flags."""
        return any(record.get(flag) is True for flag in self.delete_flags)


def peer_conventions(provider: str) -> tuple[tuple[str, ...], Mapping[str, str]]:
    """(delete flags, stream aliases) the provider's spec declares for its peer taps; none for
    a provider the registry does not know (any Singer tap)."""
    from tenantsync import providers  # the registry loads specs lazily; keep imports light

    spec = providers.find(provider)
    return (spec.peer_delete_flags, spec.peer_stream_aliases) if spec else ((), {})


def identifier(name: str) -> str:
    """The PostgreSQL name of a table, view, index or temp table named `name`: `name` itself
    when it fits in 63 bytes, else its first bytes + "_" + a hash of the whole name, so two
    long names never share a table (PostgreSQL would silently cut both to the same 63 bytes).
    The one derivation: target-postgres creates, and the Data Listing API reads, this name."""
    raw = name.encode("utf-8")
    if len(raw) <= MAX_IDENTIFIER_BYTES:
        return name
    digest = hashlib.sha256(raw).hexdigest()[:_HASH_CHARS]
    head = raw[:MAX_IDENTIFIER_BYTES - _HASH_CHARS - 1].decode("utf-8", "ignore")
    return f"{head}_{digest}"


def slug(name: str) -> str:
    """Supaglue's slugify: lowercase, every run of non-alphanumerics becomes one `_`."""
    return re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_")


def stream_name(kind: str, object_name: str, provider: str | None = None) -> str:
    """The stream name a tap gives an object (the inverse of `resolve`)."""
    ref = {"common": object_name, "custom": CUSTOM_PREFIX + object_name,
           "standard": object_name}[kind]
    if kind == "standard" and (ref in COMMON_OBJECTS or ref.startswith(CUSTOM_PREFIX)):
        raise ContractError(f"standard object name {object_name!r} collides with the contract")
    return f"{provider}-{ref}" if provider else ref


def resolve(stream: str, configured_provider: str | None) -> Destination:
    """Decide the destination of `stream`, or raise ContractError naming what is wrong."""
    if not stream:
        raise ContractError("empty stream name")
    provider, sep, ref = stream.partition("-")
    if not sep:
        provider, ref = None, stream
    elif not _PROVIDER_RE.match(provider):
        raise ContractError(
            f"stream {stream!r}: provider prefix {provider!r} must match [a-z][a-z0-9_]*")
    if provider and configured_provider and provider != configured_provider:
        raise ContractError(
            f"stream {stream!r} names provider {provider!r} but this target is configured for "
            f"provider_name {configured_provider!r}")
    provider = provider or configured_provider
    if not provider:
        raise ContractError(
            f"stream {stream!r}: no provider; set the target's provider_name or name the stream "
            f"'<provider>-{stream}'")
    if not _PROVIDER_RE.match(provider):
        raise ContractError(f"provider_name {provider!r} must match [a-z][a-z0-9_]*")

    if ref in COMMON_OBJECTS:
        return Destination("common", provider, ref, ref)
    flags, aliases = peer_conventions(provider)
    if ref.startswith(CUSTOM_PREFIX):
        obj = ref[len(CUSTOM_PREFIX):]
        if not slug(obj):
            raise ContractError(f"stream {stream!r}: custom object name is empty")
        return Destination("custom", provider, obj, CUSTOM_TABLE, f"{provider}_{slug(obj)}",
                           flags)
    if not slug(ref):
        raise ContractError(f"stream {stream!r}: object name has no letters or digits")
    if ref.startswith(("crm_", "engagement_")):
        # The common-table namespace is reserved: a near miss is a typo, not a standard object.
        known = ", ".join(sorted(COMMON_OBJECTS))
        raise ContractError(f"stream {stream!r} is not a common object table; known: {known}")
    ref = aliases.get(ref, ref)
    full = f"{provider}_{slug(ref)}"
    table = identifier(full)
    return Destination("standard", provider, ref, table, None, flags,
                       full_table="" if table == full else full)
