"""The registry's key and files (issue 12): a different TENANTSYNC_SECRET_KEY is refused in
one line instead of sealing secrets under two keys; `rotate-key` re-seals everything under a
new key atomically; `serve` needs the key; the registry and `.tenantsync/` are owner-only."""

from __future__ import annotations

import json
import os
import sqlite3
import stat

from click.testing import CliRunner

from tenantsync.cli import main
from tenantsync.controller import crypto, keycheck

from .conftest import DESTINATION, SALESFORCE, SYNC_CONFIG

KEY_A = "key-a-0123456789abcdef0123456789"
KEY_B = "key-b-0123456789abcdef0123456789"
CONNECTION = {"customer_id": "acme", "provider_name": "salesforce", "type": "oauth2",
              "refresh_token": "refresh-acme-secret"}


def _cli(monkeypatch, tmp_path, key: str | None, *args: str, new_key: str | None = None):
    monkeypatch.setenv("TENANTSYNC_PROJECT_DIR", str(tmp_path))
    monkeypatch.delenv("TENANTSYNC_REGISTRY_URL", raising=False)
    for env, value in ((crypto.KEY_ENV, key), (keycheck.NEW_KEY_ENV, new_key)):
        if value is None:
            monkeypatch.delenv(env, raising=False)
        else:
            monkeypatch.setenv(env, value)
    return CliRunner().invoke(main, list(args))


def _apply(monkeypatch, tmp_path, key: str, *docs: dict):
    path = tmp_path / f"doc-{len(list(tmp_path.glob('doc-*')))}.json"
    path.write_text(json.dumps(list(docs)))
    return _cli(monkeypatch, tmp_path, key, "apply", "-f", str(path))


def _sealed(tmp_path) -> list[str]:
    with sqlite3.connect(tmp_path / ".tenantsync" / "registry.db") as conn:
        return [v for table, column in (("providers", "sealed_credentials"),
                                        ("destinations", "sealed_credentials"),
                                        ("connections", "sealed_credentials"))
                for (v,) in conn.execute(f"SELECT {column} FROM {table}") if v]


def _seed(monkeypatch, tmp_path, key: str) -> None:
    out = _apply(monkeypatch, tmp_path, key, SALESFORCE, DESTINATION, SYNC_CONFIG,
                 {"customer_id": "acme"}, CONNECTION)
    assert out.exit_code == 0, out.output


def test_a_different_key_is_refused_in_one_line(tmp_path, monkeypatch):
    _seed(monkeypatch, tmp_path, KEY_A)
    before = _sealed(tmp_path)
    out = _apply(monkeypatch, tmp_path, KEY_B, {**CONNECTION, "refresh_token": "other"})
    assert out.exit_code == 1
    (line,) = out.output.strip().splitlines()
    assert "TENANTSYNC_SECRET_KEY is not the key this registry's secrets are sealed with" \
        in line and "rotate-key" in line
    assert _sealed(tmp_path) == before
    assert all(crypto.unseal(v, KEY_A) for v in before)


def test_a_registry_without_a_recorded_key_adopts_only_the_key_of_its_secrets(tmp_path,
                                                                               monkeypatch):
    _seed(monkeypatch, tmp_path, KEY_A)
    with sqlite3.connect(tmp_path / ".tenantsync" / "registry.db") as conn:
        conn.execute("DELETE FROM registry_meta")  # as a registry from before fingerprints
    keycheck._verified.clear()
    assert _cli(monkeypatch, tmp_path, KEY_B, "customers", "list").exit_code == 1
    assert _cli(monkeypatch, tmp_path, KEY_A, "customers", "list").exit_code == 0
    assert _apply(monkeypatch, tmp_path, KEY_B, {"customer_id": "x"}).exit_code == 1


def test_rotate_key_reseals_everything_atomically(tmp_path, monkeypatch):
    _seed(monkeypatch, tmp_path, KEY_A)
    count = len(_sealed(tmp_path))
    assert count == 3
    out = _cli(monkeypatch, tmp_path, KEY_A, "rotate-key")
    assert out.exit_code == 1 and keycheck.NEW_KEY_ENV in out.output
    out = _cli(monkeypatch, tmp_path, KEY_A, "rotate-key", new_key=KEY_B)
    assert out.exit_code == 0, out.output
    assert f"re-sealed {count} secret(s)" in out.output
    assert all(crypto.unseal(v, KEY_B) for v in _sealed(tmp_path))
    assert _cli(monkeypatch, tmp_path, KEY_A, "customers", "list").exit_code == 1
    assert _apply(monkeypatch, tmp_path, KEY_B, {"customer_id": "y"}).exit_code == 0

    # a secret that cannot be opened stops the rotation: nothing changes
    with sqlite3.connect(tmp_path / ".tenantsync" / "registry.db") as conn:
        conn.execute("UPDATE destinations SET sealed_credentials = ?",
                     (crypto.seal({"password": "x"}, "some-third-key-0123456789"),))
    before = _sealed(tmp_path)
    out = _cli(monkeypatch, tmp_path, KEY_B, "rotate-key", new_key=KEY_A)
    assert out.exit_code == 1 and "cannot decrypt" in out.output
    assert _sealed(tmp_path) == before
    assert _cli(monkeypatch, tmp_path, KEY_B, "customers", "list").exit_code == 0


def test_serve_refuses_to_start_without_the_key(tmp_path, monkeypatch):
    out = _cli(monkeypatch, tmp_path, None, "serve", "--port", "1")
    assert out.exit_code == 1 and "TENANTSYNC_SECRET_KEY is not set" in out.output
    _seed(monkeypatch, tmp_path, KEY_A)
    out = _cli(monkeypatch, tmp_path, KEY_B, "serve", "--port", "1")
    assert out.exit_code == 1 and "not the key" in out.output


def _mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def test_the_registry_and_its_directory_are_owner_only(tmp_path, monkeypatch):
    fresh = tmp_path / "fresh"
    fresh.mkdir()
    assert _cli(monkeypatch, fresh, KEY_A, "customers", "list").exit_code == 0
    assert _mode(fresh / ".tenantsync") == 0o700
    assert _mode(fresh / ".tenantsync" / "registry.db") == 0o600

    old = tmp_path / "old"  # made by an older version: world-readable
    (old / ".tenantsync").mkdir(parents=True)
    sqlite3.connect(old / ".tenantsync" / "registry.db").close()
    os.chmod(old / ".tenantsync", 0o755)  # noqa: S103 (the old, loose mode)
    os.chmod(old / ".tenantsync" / "registry.db", 0o644)
    assert _cli(monkeypatch, old, KEY_A, "customers", "list").exit_code == 0
    assert _mode(old / ".tenantsync") == 0o700
    assert _mode(old / ".tenantsync" / "registry.db") == 0o600
