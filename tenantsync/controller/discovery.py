"""A connection's fields per object, from its provider's tap: `<tap> --discover` run as the
connection (the tap's credential source reads its credentials from the registry, as in a
sync), limited to the objects asked for. Field mappings are checked against, and mapping UIs
offered, what the customer's own account has (custom fields included)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterable
from pathlib import Path

from tenantsync import providers
from tenantsync.contract import ContractError, resolve
from tenantsync.controller import crypto, db, render
from tenantsync.controller.registry import Registry, RegistryError
from tenantsync.mapping import field_paths

TIMEOUT_SECONDS = 120
_TAIL = 400  # characters of a failed discovery's stderr kept in the error


class DiscoveryError(RegistryError):
    """The provider's tap could not list the connection's fields."""


def provider_fields(reg: Registry, customer_id: str, provider: str,
                    objects: Iterable[str]) -> dict[str, list[str]]:
    """{standard object: the fields a mapping may name} for one connection."""
    wanted = list(dict.fromkeys(objects))
    if not wanted:
        return {}
    reg.connection(customer_id, provider)  # a missing connection is a RegistryError
    try:
        spec = providers.get(provider)
    except providers.UnknownProvider as exc:
        raise DiscoveryError(str(exc)) from None
    key = json.dumps([reg.app_id, customer_id, provider])
    config = {"credential_source": render.CREDENTIAL_SOURCE, "connection_id": key,
              "standard_objects": wanted}
    env = {**os.environ,
           db.URL_ENV: reg.s.get_bind().url.render_as_string(hide_password=False)}
    if crypto.KEY_ENV not in env:
        raise DiscoveryError(f"{crypto.KEY_ENV} is not set: the tap cannot read its "
                             "credentials")
    reg.s.commit()  # the tap reads the registry from its own process
    with tempfile.TemporaryDirectory(prefix="tenantsync-discover-") as tmp:
        path = Path(tmp) / "config.json"
        path.write_text(json.dumps(config))
        try:
            proc = subprocess.run([_executable(spec.executable), "--discover", "--config",
                                   str(path)], env=env, capture_output=True, text=True,
                                  timeout=TIMEOUT_SECONDS, check=False)
        except subprocess.TimeoutExpired:
            raise DiscoveryError(f"listing {provider!r} fields of {', '.join(wanted)} timed "
                                 f"out after {TIMEOUT_SECONDS} s") from None
    if proc.returncode != 0:
        tail = proc.stderr.strip().splitlines()[-1:] or ["no output"]
        raise DiscoveryError(f"listing {provider!r} fields of {', '.join(wanted)} failed: "
                             f"{tail[0][:_TAIL]}")
    found: dict[str, list[str]] = {}
    for stream in json.loads(proc.stdout).get("streams") or []:
        try:
            dest = resolve(stream.get("tap_stream_id") or stream.get("stream", ""), provider)
        except ContractError:
            continue
        if dest.kind == "standard" and dest.object in wanted:
            found[dest.object] = field_paths(stream.get("schema") or {})
    return found


def _executable(name: str) -> str:
    beside = Path(sys.executable).with_name(name)
    found = str(beside) if beside.exists() else shutil.which(name)
    if not found:
        raise DiscoveryError(f"{name} is not installed in this environment")
    return found
