"""Independent Singer taps, run as their users run them: their own virtual environment
(`scripts/interop`), a config file, `--discover`, a catalog with streams selected, a sync.

Only configuration differs from a run against the real provider. Where a tap hard-codes the
provider's host, the redirect is the smallest there is (README, "Independent clients"):
`tenantsync.sandbox.proxy` tunnels that host to the twin (HTTPS_PROXY), whose certificate
names it; the tap trusts the twin's CA through its own environment's CA bundle (certifi's
`cacert.pem`, the original kept beside it), since taps that send prepared requests with
`Session.send` (singer-io tap-hubspot, every singer-sdk tap) ignore REQUESTS_CA_BUNDLE.
"""

from __future__ import annotations

import json
import os
import subprocess
from collections import Counter
from pathlib import Path

import pytest

from tenantsync.sandbox.proxy import Proxy

ROOT = Path(__file__).resolve().parents[2]
VENVS = ROOT / ".interop"


def tap_venv(name: str) -> Path:
    """The tap's own virtual environment (created by scripts/interop when missing)."""
    done = subprocess.run(["bash", str(ROOT / "scripts" / "interop"), name],
                          capture_output=True, text=True, timeout=900)
    if done.returncode != 0:
        pytest.fail(f"scripts/interop {name} failed:\n{done.stderr[-3000:]}")
    return VENVS / name


def trust(venv: Path, ca_file: str) -> None:
    """Add the twin's CA to the venv's certifi bundle (idempotent: rebuilt from the original)."""
    for bundle in venv.glob("lib/python*/site-packages/certifi/cacert.pem"):
        original = bundle.with_suffix(".pem.orig")
        if not original.exists():
            original.write_bytes(bundle.read_bytes())
        bundle.write_bytes(original.read_bytes() + b"\n" + Path(ca_file).read_bytes())


class TapRun:
    """One independent tap against one running twin, in `workdir`."""

    def __init__(self, venv: Path, executable: str, sandbox, config: dict, workdir: Path,
                 *, catalog_flag: str = "--catalog"):
        self.exe = str(venv / "bin" / executable)
        self.sandbox, self.workdir, self.catalog_flag = sandbox, workdir, catalog_flag
        self.config = workdir / "config.json"
        self.config.write_text(json.dumps(config))
        trust(venv, sandbox.ca_file)
        self.proxy = Proxy.to(sandbox).start()
        self.env = {**os.environ, **self.proxy.env(sandbox)}
        self.env.pop("PYTHONPATH", None)

    def close(self) -> None:
        self.proxy.stop()

    def __enter__(self) -> TapRun:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _run(self, *args: str) -> str:
        done = subprocess.run(self.command(*args), env=self.env,
                              capture_output=True, text=True, timeout=600, cwd=self.workdir)
        assert done.returncode == 0, f"{self.exe} {' '.join(args)}:\n{done.stderr[-4000:]}"
        return done.stdout

    def discover(self) -> dict:
        return json.loads(self._run("--discover"))

    def sync(self, catalog: dict, streams: list[str], state: dict | None = None, *,
             replication_key: str | None = None) -> list[dict]:
        """Select `streams` (every field by the tap's defaults; incremental on
        `replication_key` when given, as a user sets it in the catalog) and sync: the Singer
        messages."""
        args = self.sync_args(catalog, streams, state, replication_key=replication_key)
        return [json.loads(line) for line in self._run(*args).splitlines()
                if line.startswith("{")]

    def command(self, *args: str) -> list[str]:
        """The tap's command line with `args` (run it with `self.env`, in `self.workdir`)."""
        return [self.exe, "--config", str(self.config), *args]

    def sync_args(self, catalog: dict, streams: list[str], state: dict | None = None, *,
                  replication_key: str | None = None) -> list[str]:
        """Write the catalog with `streams` selected (and the state): the sync's arguments."""
        selected = set(streams)
        for stream in catalog["streams"]:
            for entry in stream["metadata"]:
                if entry["breadcrumb"] == []:
                    entry["metadata"]["selected"] = stream["tap_stream_id"] in selected
                    if replication_key:
                        entry["metadata"].update({"replication-method": "INCREMENTAL",
                                                  "replication-key": replication_key})
        path = self.workdir / "catalog.json"
        path.write_text(json.dumps(catalog))
        args = [self.catalog_flag, str(path)]
        if state is not None:
            (self.workdir / "state.json").write_text(json.dumps(state))
            args += ["--state", str(self.workdir / "state.json")]
        return args


def record_counts(messages: list[dict]) -> Counter:
    return Counter(m["stream"] for m in messages if m["type"] == "RECORD")


def record_ids(messages: list[dict], stream: str, key: str) -> set[str]:
    return {str(m["record"][key]) for m in messages
            if m["type"] == "RECORD" and m["stream"] == stream}
