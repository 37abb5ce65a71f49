"""The tap-hubspot console script against the sandbox: a run from plain Singer config, env-var
config, and a revoked refresh token ending the run with a clear, secret-free error."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from tap_hubspot.sandbox import HubSpotSandbox
from tap_hubspot.sandbox.ratelimit import RateLimits
from tests.taps.hubspot_fixtures import sandbox_records

ROOT = Path(__file__).resolve().parents[2]
TAP = str(ROOT / ".venv" / "bin" / "tap-hubspot")


@pytest.fixture(scope="module")
def hs():
    with HubSpotSandbox(records=100, seed=31) as sandbox:
        yield sandbox


def _run(args, env=None, cwd=None):
    return subprocess.run([TAP, *args], capture_output=True, text=True, timeout=120,
                          env={**os.environ, **(env or {})}, cwd=cwd)


def test_discover_then_sync_from_config_files(hs, tmp_path):
    config = {"client_id": hs.client_id, "client_secret": hs.client_secret,
              "refresh_token": hs.mint_refresh_token(), "base_url": hs.base_url,
              "standard_objects": ["company"]}
    (tmp_path / "config.json").write_text(json.dumps(config))
    discovered = _run(["--config", "config.json", "--discover"], cwd=tmp_path)
    assert discovered.returncode == 0, discovered.stderr
    (tmp_path / "catalog.json").write_text(discovered.stdout)
    synced = _run(["--config", "config.json", "--catalog", "catalog.json"], cwd=tmp_path)
    assert synced.returncode == 0, synced.stderr
    messages = [json.loads(line) for line in synced.stdout.splitlines()]
    ids = {m["record"]["id"] for m in messages if m["type"] == "RECORD"}
    assert ids == set(sandbox_records(hs, "companies"))
    for secret in (config["client_secret"], config["refresh_token"]):
        assert secret not in synced.stdout + synced.stderr


def test_env_var_config_and_revoked_refresh_token(hs, tmp_path):
    token = hs.mint_refresh_token()
    env = {"TAP_HUBSPOT_CLIENT_ID": hs.client_id, "TAP_HUBSPOT_CLIENT_SECRET": hs.client_secret,
           "TAP_HUBSPOT_REFRESH_TOKEN": token, "TAP_HUBSPOT_BASE_URL": hs.base_url,
           "TAP_HUBSPOT_STANDARD_OBJECTS": '["company"]'}
    ok = _run(["--config", "ENV", "--discover"], env=env, cwd=tmp_path)
    assert ok.returncode == 0, ok.stderr
    assert [s["tap_stream_id"] for s in json.loads(ok.stdout)["streams"]] == ["company"]
    hs.oauth.revoke_refresh_tokens(token)
    refused = _run(["--config", "ENV", "--discover"], env=env, cwd=tmp_path)
    assert refused.returncode != 0
    assert "HubSpot (connection" in refused.stderr
    assert "refused the refresh token" in refused.stderr
    assert "BAD_REFRESH_TOKEN" in refused.stderr
    assert token not in refused.stderr + refused.stdout
    assert hs.client_secret not in refused.stderr + refused.stdout


def test_killed_full_sync_resumes_from_its_last_state(tmp_path):
    limits = RateLimits(burst=12, interval_seconds=1)  # slow enough to be killed mid-way
    with HubSpotSandbox(records=2000, seed=33, rate_limits=limits) as hs:
        config = {"client_id": hs.client_id, "client_secret": hs.client_secret,
                  "refresh_token": hs.mint_refresh_token(), "base_url": hs.base_url,
                  "standard_objects": ["contact"]}
        (tmp_path / "config.json").write_text(json.dumps(config))
        discovered = _run(["--config", "config.json", "--discover"], cwd=tmp_path)
        (tmp_path / "catalog.json").write_text(discovered.stdout)
        proc = subprocess.Popen([TAP, "--config", "config.json", "--catalog", "catalog.json"],
                                cwd=tmp_path, stdout=subprocess.PIPE,
                                stderr=subprocess.DEVNULL, text=True)
        first: list[dict] = []
        for line in proc.stdout:
            first.append(json.loads(line))
            if sum(m["type"] == "RECORD" for m in first) >= 250:
                proc.kill()  # mid-page, after at least two STATE checkpoints
                break
        proc.wait(timeout=30)
        proc.stdout.close()
        state = [m["value"] for m in first if m["type"] == "STATE"][-1]
        version = state["bookmarks"]["contact"]["tenantsync"]["full_sync_version"]
        (tmp_path / "state.json").write_text(json.dumps(state))
        resumed = _run(["--config", "config.json", "--catalog", "catalog.json",
                        "--state", "state.json"], cwd=tmp_path)
        assert resumed.returncode == 0, resumed.stderr
        second = [json.loads(line) for line in resumed.stdout.splitlines()]
        ids = {m["record"]["id"] for m in first + second if m["type"] == "RECORD"}
        assert ids == set(sandbox_records(hs, "contacts"))
        assert [m["version"] for m in second if m["type"] == "ACTIVATE_VERSION"] == [version]
        resumed_ids = [m["record"]["id"] for m in second if m["type"] == "RECORD"]
        assert len(resumed_ids) < len(ids)  # it did not start over
