"""A sync's discovered catalogs, kept between its runs when the deployment asks for it.

Before every run Meltano starts the tap once more with `--discover`: a Python process and the
provider's describe calls (about 0.5 s of a 2.7 s no-change run on the twins; seconds, and
API quota, against a real org's describe endpoints). Discovering every run is what keeps a
field the customer adds in the provider in the next run's reads (Supaglue described the
objects at every sync), so it stays the default. With `TENANTSYNC_CATALOG_MAX_AGE` set to N
seconds, `tenantsync run` keeps the catalog each successful run used (as Meltano wrote it,
selection applied) in the sync's own system directory, with a key over everything of
tenantsync's that shapes it, and hands it to the next runs as the extractor's `catalog` extra
while the key matches and it is younger than N seconds. The price: values of a field added in
the provider within those N seconds, on records changed before the catalog is refreshed, wait
for the next full sync. A full refresh, a changed key and a failed run discover again.
(Meltano's own cache serves only plugins installed from a `pip_url`, keyed on the plugin's
config alone, with no expiry: a new field would never be read.)
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from tenantsync.controller import render, sync_project
from tenantsync.controller.models import Sync
from tenantsync.controller.registry import RegistryError

MAX_AGE_ENV = "TENANTSYNC_CATALOG_MAX_AGE"
DEFAULT_MAX_AGE = 0.0  # discover every run
FOLDER = "catalogs"  # in the sync's system directory, beside Meltano's `run/`
CATALOG_FILE = "tap.properties.json"  # what Meltano writes in run/<extractor>/


class CatalogCacheError(RegistryError):
    pass


def max_age() -> float:
    raw = os.environ.get(MAX_AGE_ENV, "").strip()
    if not raw:
        return DEFAULT_MAX_AGE
    try:
        seconds = float(raw)
    except ValueError:
        seconds = -1.0
    if not seconds >= 0:  # also refuses nan
        raise CatalogCacheError(f"{MAX_AGE_ENV}={raw!r} is not a number of seconds (0 or "
                                "more; 0, the default, discovers the catalog on every run)")
    return seconds


def catalog_env(extractor: str) -> str:
    """The variable that sets an extractor's `catalog` extra (Meltano's `to_env_var` of the
    plugin's name and `_catalog`)."""
    return re.sub(r"[^A-Za-z0-9]", "_", extractor).upper() + "__CATALOG"


def shaping(sync: Sync, tenant_env: dict[str, str]) -> dict[str, Any]:
    """What of the registry shapes a sync's catalogs beyond its project files: the tenant's
    environment, the provider's and connection's non-secret settings, the customer's choice
    of objects, paused objects and field mappings, and when it last connected (a reconnect
    may reach another account, whose custom fields differ)."""
    conn = sync.connection
    connected = conn.connected_at or conn.created_at
    return {"env": tenant_env, "provider": conn.provider.settings or {},
            "connection": [conn.id, conn.settings or {}, conn.sync_config,
                           conn.field_mappings, connected.isoformat()],
            "paused": sync.paused_objects}


@dataclass(frozen=True)
class Catalogs:
    """The kept catalogs of one sync (`system`: its system directory, `project`: its own
    project there), current for `max_age` seconds."""

    system: Path
    key: str
    extractors: tuple[str, ...]
    max_age: float

    @classmethod
    def of(cls, system: Path, project: Path, shaped: dict[str, Any]) -> Catalogs:
        files = [project / render.INCLUDE_FILE, *sync_project.project_files(project)]
        digest = hashlib.sha256(json.dumps(shaped, sort_keys=True, default=str).encode())
        for path in files:
            digest.update(b"\0" + path.name.encode() + b"\0" + path.read_bytes())
        doc = yaml.safe_load((project / render.INCLUDE_FILE).read_text())
        extractors = tuple(p["name"] for p in doc["plugins"]["extractors"])
        return cls(system, digest.hexdigest(), extractors, max_age())

    def _kept(self, extractor: str) -> tuple[Path, Path]:
        return (self.system / FOLDER / f"{extractor}.json",
                self.system / FOLDER / f"{extractor}.key")

    def env(self, *, refresh: bool) -> dict[str, str]:
        """Each extractor's `catalog` extra pointing at its kept catalog, if current."""
        env = {}
        for extractor in self.extractors:
            catalog, key = self._kept(extractor)
            try:
                current = (not refresh and key.read_text() == self.key
                           and time.time() - catalog.stat().st_mtime < self.max_age)
            except FileNotFoundError:
                current = False
            if current:
                env[catalog_env(extractor)] = str(catalog)
        return env

    def keep(self, used: dict[str, str]) -> None:
        """After a successful run: keep the catalog of each extractor that discovered one
        (`used`: the env this run had from `env`; those catalogs keep their age)."""
        if not self.max_age:
            return
        (self.system / FOLDER).mkdir(exist_ok=True)
        for extractor in self.extractors:
            if catalog_env(extractor) in used:
                continue
            written = self.system / "run" / extractor / CATALOG_FILE
            if not written.exists():
                continue
            catalog, key = self._kept(extractor)
            render.write_atomic(catalog, written.read_text())
            render.write_atomic(key, self.key)

    def forget(self) -> None:
        """After a failed run: the next one discovers (the catalog may be what failed it)."""
        for extractor in self.extractors:
            for path in self._kept(extractor):
                path.unlink(missing_ok=True)
