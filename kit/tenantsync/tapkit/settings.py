"""Settings every tapkit tap declares, so that all taps are configured the same way."""

from __future__ import annotations

import importlib
from collections.abc import Collection, Mapping
from typing import Any

from singer_sdk import typing as th
from singer_sdk.exceptions import ConfigValidationError

from tenantsync.tapkit.http import RetryPolicy
from tenantsync.tapkit.strategy import FULL_THEN_INCREMENTAL, STRATEGIES, Strategy
from tenantsync.tapkit.tokens import FileTokenStore, TokenSink, load_sink

COMMON_SETTINGS: tuple[th.Property, ...] = (
    th.Property("start_date", th.DateTimeType,
                description="Only records modified at or after this moment are synced."),
    th.Property("sync_strategy", th.StringType, default=FULL_THEN_INCREMENTAL,
                allowed_values=list(STRATEGIES),
                description="'full then incremental': a full sync first, then incremental "
                            "syncs from the bookmark; 'full only': every run is a full sync "
                            "(deleted records are detected by their absence)."),
    th.Property("full_sync_every_n_incrementals", th.IntegerType, default=0,
                description="With 'full then incremental': after this many completed "
                            "incremental runs, the next run is a full sync again "
                            "(0 = never)."),
    th.Property("token_store_path", th.StringType,
                description="File where a rotated refresh token is saved (atomically, mode "
                            "0600) and read back by the next run."),
    th.Property("token_sink", th.StringType,
                description="'package.module:function' called with each rotated refresh "
                            "token (a tenantsync.tapkit.TokenUpdate)."),
    th.Property("connection_id", th.StringType,
                description="Opaque id of the connection, handed to credential_source."),
    th.Property("credential_source", th.StringType,
                description="'package.module:function' called at startup with the settings; "
                            "the settings it returns (credentials, token_sink) are added, so "
                            "no secret needs to be in the tap's configuration."),
    th.Property("request_timeout", th.NumberType, default=300,
                description="Seconds to wait for a response before retrying."),
    th.Property("max_retries", th.IntegerType, default=7,
                description="Retries of a failed request (5xx, 429, resets, truncated bodies)."),
    th.Property("backoff_base_seconds", th.NumberType, default=1.0,
                description="First backoff wait; doubles per retry (with jitter), max 60 s."),
    # `batch_config` itself is singer-sdk's (the BATCH capability adds it to every tap).
    th.Property("batch_pending_files", th.IntegerType, default=0,
                description="With batch_config: wait while this many announced batch files are "
                            "still on disk (for a target that deletes the files it has read; "
                            "0 = never wait)."),
)


def add_credentials(config: dict[str, Any]) -> None:
    """Merge what `credential_source` returns into `config` (in place); it wins."""
    spec = config.get("credential_source")
    if not spec:
        return
    module_name, sep, attr = str(spec).partition(":")
    try:
        source = getattr(importlib.import_module(module_name), attr, None) if sep else None
    except ImportError as exc:
        raise ConfigValidationError(
            f"credential_source {spec!r}: cannot import {module_name!r} ({exc})") from None
    if not callable(source):
        raise ConfigValidationError(
            f"credential_source {spec!r} must name a callable as 'package.module:function'")
    found = source(dict(config))
    if not isinstance(found, Mapping):
        raise ConfigValidationError(f"credential_source {spec!r} returned no settings mapping")
    config.update(found)


def strategy_from(config: Mapping[str, Any]) -> Strategy:
    return Strategy(config.get("sync_strategy") or FULL_THEN_INCREMENTAL,
                    int(config.get("full_sync_every_n_incrementals") or 0))


def retry_policy_from(config: Mapping[str, Any]) -> RetryPolicy:
    return RetryPolicy(max_tries=int(config.get("max_retries", 7)) + 1,
                       base_seconds=float(config.get("backoff_base_seconds", 1.0)))


def token_sinks_from(config: Mapping[str, Any]) -> list[TokenSink]:
    sinks: list[TokenSink] = []
    if config.get("token_store_path"):
        sinks.append(FileTokenStore(config["token_store_path"]))
    if config.get("token_sink"):
        sinks.append(load_sink(config["token_sink"]))
    return sinks


def stored_refresh_token(config: Mapping[str, Any], configured: str) -> str:
    """The refresh token to use: the newest rotation in the token store, else the configured."""
    if config.get("token_store_path"):
        stored = FileTokenStore(config["token_store_path"]).load(configured)
        if stored:
            return stored
    return configured


def object_settings(common: Collection[str], standard: Collection[str], category: str
                    ) -> tuple[th.Property, ...]:
    """`common_objects`, `standard_objects` and `custom_objects` of a tap whose provider has
    no custom objects (see `wanted_objects`)."""
    return (
        th.Property("common_objects", th.ArrayType(th.StringType),
                    description=f"{category} common objects: {', '.join(common)}."),
        th.Property("standard_objects", th.ArrayType(th.StringType),
                    description=f"Standard objects: {', '.join(standard)}. When both lists are "
                                "empty, everything is offered."),
        th.Property("custom_objects", th.ArrayType(th.StringType),
                    description="Must stay empty: the provider has no custom objects."))


def wanted_objects(config: Mapping[str, Any], common: Collection[str],
                   standard: Collection[str], label: str) -> tuple[list[str], list[str]]:
    """The common and standard objects a config asks for (both lists empty: all of them);
    unknown names and any custom object (`label`, the provider, has none) are refused."""
    if config.get("custom_objects"):
        raise ConfigValidationError(f"custom_objects: {label} has no custom objects (custom "
                                    "fields come with their standard objects)")
    wanted_common = list(config.get("common_objects") or [])
    wanted_standard = list(config.get("standard_objects") or [])
    if not (wanted_common or wanted_standard):
        return list(common), list(standard)
    problems = [f"common object {n!r} is not one of {', '.join(common)}"
                for n in wanted_common if n not in common]
    problems += [f"standard object {n!r} is not one of {', '.join(standard)} ({label} has "
                 "no custom objects)" for n in wanted_standard if n not in standard]
    if problems:
        raise ConfigValidationError("; ".join(problems))
    return wanted_common, wanted_standard
