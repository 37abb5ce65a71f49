"""Providers: what the platform knows about each one, declared by the provider's own folder.

A provider is a package under `taps/` (its tap, its sandbox twin and a `ProviderSpec`)
registered by one line in pyproject.toml:

    [project.entry-points."tenantsync.providers"]
    pipedrive = "tap_pipedrive.spec:SPEC"

The platform (controller, API, OAuth flow, demo, sandbox CLI, conformance tests) finds
providers only here, through `get(name)` and `all_specs()`, and names none of them.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from functools import cache
from importlib.metadata import entry_points
from typing import Any
from urllib.parse import urlsplit

GROUP = "tenantsync.providers"
CATEGORIES = ("crm", "engagement", "none")
REGISTRY_CATEGORY = {"none": "no_category"}  # Supaglue's name for "none" in its API

Record = dict[str, Any]


def load_object(target: str) -> Any:
    """`package.module:attribute` -> the attribute (the form of every entry point here)."""
    module, sep, attr = target.partition(":")
    if not sep or not module or not attr:
        raise ValueError(f"{target!r} is not 'package.module:attribute'")
    return getattr(importlib.import_module(module), attr)


# --- auth kinds -------------------------------------------------------------------------

@dataclass(frozen=True)
class OAuth2:
    """OAuth 2.0 authorization code flow (managed by tenantsync's `/oauth/connect`).

    `base_setting` is the provider / connection setting that moves both endpoints to another
    host keeping their paths (a sandbox twin; Salesforce's `login_url`). `login_urls` are the
    bases a customer may pick (Salesforce: production, sandbox); with them the connection
    keeps the base it was authorized at under `base_setting` (where its tokens refresh).
    `token_settings` maps a token response to the connection settings it adds (Salesforce's
    `instance_url`, Pipedrive's `api_domain`); they are also taken from rotated tokens.
    `grant_in_query`: the token request carries its grant in the URL query and the client
    credentials as HTTP Basic, with an empty body (Gong). `expiring`: False for a provider
    whose access tokens never expire and which issues no refresh token (Intercom): the
    connection then holds the access token itself."""

    authorize_url: str
    token_url: str
    scopes: tuple[str, ...] = ()
    base_setting: str = "base_url"
    login_urls: Mapping[str, str] = field(default_factory=dict)
    token_settings: Callable[[Mapping[str, Any]], dict[str, str]] = lambda tokens: {}
    grant_in_query: bool = False
    expiring: bool = True
    kind: str = "oauth2"

    @property
    def secrets(self) -> tuple[str, ...]:
        """What a connection must hold (with a refresh token, access_token is optional)."""
        return ("refresh_token",) if self.expiring else ("access_token",)

    @property
    def authorize_path(self) -> str:
        return urlsplit(self.authorize_url).path

    @property
    def token_path(self) -> str:
        return urlsplit(self.token_url).path

    @staticmethod
    def base(url: str) -> str:
        parts = urlsplit(url)
        return f"{parts.scheme}://{parts.netloc}"


@dataclass(frozen=True)
class ApiKey:
    """One secret token per connection (tap setting `setting`)."""

    setting: str = "api_key"
    kind: str = "api_key"

    @property
    def secrets(self) -> tuple[str, ...]:
        return (self.setting,)


@dataclass(frozen=True)
class AccessKeySecret:
    """An access key and a secret per connection."""

    key_setting: str = "access_key"
    secret_setting: str = "access_key_secret"  # noqa: S105 (a setting's name)
    kind: str = "access_key_secret"

    @property
    def secrets(self) -> tuple[str, ...]:
        return (self.key_setting, self.secret_setting)


Auth = OAuth2 | ApiKey | AccessKeySecret
AUTH_KINDS = ("oauth2", "api_key", "access_key_secret")


# --- objects, twin ------------------------------------------------------------------------

@dataclass(frozen=True)
class Objects:
    """`standard`: the provider's standard objects the tap syncs; `custom`: whether custom
    objects are discovered; `common`: Supaglue common object -> the standard object it maps."""

    standard: tuple[str, ...]
    custom: bool = False
    common: Mapping[str, str] = field(default_factory=dict)
    # other spellings of standard objects the tap accepts (HubSpot's plural API names)
    aliases: Mapping[str, str] = field(default_factory=dict)
    # True: each account has standard objects beyond `standard` (found by the tap's discovery,
    # e.g. every queryable SObject of a Salesforce org), checked only at the run
    open_standard: bool = False

    def problems(self, kind: str, names: Iterable[str]) -> list[str]:
        """What is wrong with a sync config's `<kind>_objects` for this provider (common
        objects by their platform name)."""
        names = list(names)
        if kind == "common":
            return [f"common object {n!r} is not offered (offered: "
                    f"{', '.join(sorted(self.common)) or 'none'})"
                    for n in names if n not in self.common]
        if kind == "custom":
            return ["it has no custom objects (custom fields come with the standard objects)"
                    ] if names and not self.custom else []
        if self.open_standard:
            return []
        return [f"standard object {n!r} is not one of {', '.join(self.standard)}"
                for n in names if self.aliases.get(n, n) not in self.standard]


@dataclass(frozen=True)
class Twin:
    """The provider's sandbox twin and what tests, benchmarks and the demo need of it.

    Every callable takes the running sandbox (an instance of `sandbox`):
    - `tap_config(sb)`: plain Singer config that logs the tap in to the twin (no registry);
    - `connection(sb, client_id)`: the connection import document (`type`, secrets, settings)
      for a connection to the twin, given the OAuth app registered in the registry;
    - `records(sb, object)`: the twin's own truth for a standard object, read from the twin
      (never from the tap): {id: (fields the destination's raw record must hold, deleted)};
      fields None: a hard-deleted record (no list shows it any more), which the destination
      holds flagged deleted if a sync read it before it went, or not at all;
    - `mutate(sb, step)`: a user's change (create, update, and on odd steps delete a record);
      returns what was done, in words.
    `objects` are the standard objects the conformance suite syncs; `api_paths` /
    `token_path` regexes say where faults are injected; `options[scenario]` are sandbox
    keywords per scenario ("sync", "storm", "crash", "demo"; or a function returning them, so
    that loading the spec does not load the twin), `sizes[scenario]` its records.
    `demo_objects` is the demo's sync config (`common_objects`, `standard_objects`, ...)."""

    sandbox: str  # "package.module:Class"
    tap_config: Callable[[Any], dict[str, Any]]
    records: Callable[[Any, str], dict[str, tuple[Record | None, bool]]]
    mutate: Callable[[Any, int], str]
    objects: tuple[str, ...]
    api_paths: str
    token_path: str
    connection: Callable[[Any, str], dict[str, Any]] | None = None
    options: Mapping[str, Mapping[str, Any] | Callable[[], Mapping[str, Any]]] = field(
        default_factory=dict)
    sizes: Mapping[str, int] = field(default_factory=dict)
    demo_objects: Mapping[str, list] = field(default_factory=dict)

    def sandbox_class(self) -> type:
        return load_object(self.sandbox)

    def start(self, scenario: str = "sync", *, records: int | None = None, seed: int = 0,
              **options: Any) -> Any:
        """A running twin for `scenario` (stop it, or use it as a context manager)."""
        preset = self.options.get(scenario, {})
        kwargs = {**(preset() if callable(preset) else preset), **options}
        size = records if records is not None else self.sizes.get(scenario, 200)
        return self.sandbox_class()(records=size, seed=seed, **kwargs).start()


# --- the spec -----------------------------------------------------------------------------

@dataclass(frozen=True, eq=False)  # one instance per provider: hashed by identity
class ProviderSpec:
    """Everything the platform knows about one provider. `name` is Supaglue's provider name
    (the registry's, the API's, the destination tables' prefix)."""

    name: str
    category: str  # crm | engagement | none
    auth: tuple[Auth, ...]
    tap: str  # "package.module:TapClass" (singer-sdk Tap)
    executable: str  # the tap's console script, e.g. "tap-salesforce"
    objects: Objects
    label: str = ""  # human name, e.g. "Salesforce"
    description: str = ""  # one line for the plugin definition
    # non-secret connection settings a connection document may carry at its top level
    # (besides `settings`), e.g. ("instance_url", "login_url")
    connection_settings: tuple[str, ...] = ()
    # a stored raw record -> the provider's fields at the top level of a Data Listing record
    projection: Callable[[Record], Record] = dict
    # Data Listing: per object (as sync configs name it), the fields Supaglue documents for its
    # records, each "date-time" or "value"; the platform lists absent ones as null and
    # normalizes date-times to UTC ISO-8601
    listed_fields: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    # Data Listing: the field that carries the record's deleted flag when the provider's own
    # record has none (tenantsync's view of the row is written there)
    deleted_field: str | None = None
    # what the taps saw in the provider's response headers on the last run -> Supaglue's
    # rate limit info ({daily?, hourly?, other?: {name: {limit, remaining, reset_time?}}})
    rate_limits: Callable[[Mapping[str, str]], dict[str, Any]] = lambda headers: {}
    # a token response (the OAuth callback's, a rotation's) -> the provider's user id, if any
    user_id: Callable[[Mapping[str, Any]], str | None] = lambda tokens: None
    twin: Twin | None = None
    # Peer taps (other Singer taps of this provider, e.g. singer-io's), so that their output
    # lands as the provider's own tap's does (tenantsync.contract): record fields whose `true`
    # marks a deleted record, e.g. ("IsDeleted",); their stream names -> the standard object
    # whose table they land in, e.g. {"contacts": "contact"}
    peer_delete_flags: tuple[str, ...] = ()
    peer_stream_aliases: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.category not in CATEGORIES:
            raise ValueError(f"provider {self.name!r}: category {self.category!r} must be one "
                             f"of {', '.join(CATEGORIES)}")
        if not self.auth:
            raise ValueError(f"provider {self.name!r} declares no auth kind")

    @property
    def namespace(self) -> str:
        return self.tap.partition(":")[0].partition(".")[0]

    def auth_kind(self, kind: str) -> Auth | None:
        return next((a for a in self.auth if a.kind == kind), None)

    @property
    def oauth(self) -> OAuth2 | None:
        found = self.auth_kind("oauth2")
        return found if isinstance(found, OAuth2) else None

    def tap_class(self) -> type:
        return load_object(self.tap)


# --- the registry -------------------------------------------------------------------------

class UnknownProvider(KeyError):
    def __str__(self) -> str:
        return str(self.args[0])


@cache
def _registered() -> dict[str, ProviderSpec]:
    specs: dict[str, ProviderSpec] = {}
    for ep in sorted(entry_points(group=GROUP), key=lambda e: e.name):
        spec = ep.load()
        if not isinstance(spec, ProviderSpec) or spec.name != ep.name:
            raise TypeError(f"entry point {ep.name} = {ep.value!r} of group {GROUP!r} must be "
                            f"a ProviderSpec named {ep.name!r}")
        specs[ep.name] = spec
    return specs


def distribution(name: str) -> str:
    """The distribution that registers provider `name` (its tap's, e.g.
    `tap-hubspot-tenantsync`): what the tap's Meltano plugin definition installs."""
    return next(ep.dist.name for ep in entry_points(group=GROUP, name=name) if ep.dist)


def all_specs() -> list[ProviderSpec]:
    """Every registered provider, by name."""
    return list(_registered().values())


def names() -> list[str]:
    return list(_registered())


def get(name: str) -> ProviderSpec:
    """The registered provider `name` (UnknownProvider names the registered ones)."""
    try:
        return _registered()[name]
    except KeyError:
        raise UnknownProvider(f"no provider {name!r} is registered (registered: "
                              f"{', '.join(names()) or 'none'})") from None


def find(name: str) -> ProviderSpec | None:
    """The registered provider `name`, or None (a plain Singer tap's provider)."""
    return _registered().get(name)


def with_twins() -> list[ProviderSpec]:
    return [s for s in all_specs() if s.twin is not None]


def twin_connection(spec: ProviderSpec, sb: Any, client_id: str) -> dict[str, Any]:
    """The connection import document (`type`, secrets, settings) for a connection to the
    running twin `sb`, whose OAuth app `client_id` the registry holds: the twin's own
    `connection` hook, else a minted refresh token and the twin's base URL."""
    if spec.twin is not None and spec.twin.connection is not None:
        return spec.twin.connection(sb, client_id)
    if spec.oauth is None:
        raise ValueError(f"provider {spec.name!r} has no OAuth2: its twin must declare "
                         "`connection`")
    return {"type": "oauth2", "refresh_token": sb.oauth.mint_refresh_token(client_id),
            spec.oauth.base_setting: sb.base_url}


def registry_provider(spec: ProviderSpec, client_id: str, client_secret: str) -> dict[str, Any]:
    """The registry's provider document for `spec` with an OAuth app (client id and secret)."""
    return {"provider_name": spec.name, "auth_type": spec.auth[0].kind,
            "category": REGISTRY_CATEGORY.get(spec.category, spec.category),
            "config": {"oauth": {"oauth_scopes": list(spec.oauth.scopes if spec.oauth else ()),
                                 "credentials": {"client_id": client_id,
                                                 "client_secret": client_secret}}}}
