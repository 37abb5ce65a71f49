"""A newcomer's path as the README writes it: its walkthrough block, run command by command in
one shell on a fresh project (only the checkout's .venv and examples/ beside it), each step's
output checked; and examples/ has the documents of every provider with a twin."""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import signal
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from tenantsync import providers
from tenantsync.cli import main
from tenantsync.sandbox import examples

ROOT = Path(__file__).resolve().parents[2]


def walkthrough() -> list[str]:
    """The commands of the README's walkthrough block, as written."""
    readme = (ROOT / "README.md").read_text()
    block = readme.split("<!-- walkthrough -->\n```sh\n", 1)[1].split("\n```", 1)[0]
    return [line for line in block.splitlines() if line.strip()]


def run_steps(commands: list[str], cwd: Path) -> list[tuple[int, str]]:
    """Run the commands in one bash (exports and `cd` carry on, as in a terminal); return
    each one's exit code and output."""
    script = "".join(f"{cmd}\necho \"@@step rc=$?\"\n" for cmd in commands)
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("TENANTSYNC_", "MELTANO_"))}  # a newcomer's shell
    out = subprocess.run(["bash", "-c", script], cwd=cwd, env=env, stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT, text=True, timeout=1800).stdout
    parts = re.split(r"^@@step rc=(\d+)\n", out, flags=re.M)
    return [(int(rc), text) for text, rc in zip(parts[0::2], parts[1::2], strict=False)]


@pytest.mark.slow
def test_the_readme_walkthrough_as_written(tmp_path):
    commands = walkthrough()
    (tmp_path / ".venv").symlink_to(ROOT / ".venv")
    shutil.copytree(ROOT / "examples", tmp_path / "examples")
    project = tmp_path / "my-sync"
    try:
        steps = run_steps(commands, tmp_path)
    finally:  # a step that failed may have left the twin running
        pid = project / "twin-hubspot.pid"
        if pid.exists():
            with contextlib.suppress(ProcessLookupError):
                os.kill(int(pid.read_text()), signal.SIGTERM)
    assert len(steps) == len(commands), steps[-1:]

    def step(prefix: str, nth: int = 0) -> tuple[int, str]:
        """(exit code, output) of the nth command that starts with `prefix`."""
        return [steps[i] for i, c in enumerate(commands) if c.startswith(prefix)][nth]

    for prefix in ("export PATH", "mkdir my-sync", "export TENANTSYNC_SECRET_KEY"):
        assert step(prefix)[0] == 0, step(prefix)
    rc, out = step("tenantsync sandbox serve")
    assert rc == 0 and out.startswith("http://127.0.0.1:"), out
    assert "client id: sandbox-hubspot-client" in out and "serving in the background" in out
    connection = json.loads((project / "connection.json").read_text())
    assert connection["customer_id"] == "acme" and connection["refresh_token"]
    rc, out = step("tenantsync apply")
    assert rc == 0 and out.splitlines() == [
        "applied provider hubspot", "applied destination local-postgres",
        "applied sync_config hubspot -> local-postgres", "applied customer acme",
        "applied connection acme x hubspot"], out
    rc, out = step("tenantsync run acme hubspot", 0)
    assert rc == 0, out[-3000:]
    assert "  company: full sync" in out and re.search(r"  company: \d+ records read \(", out)
    assert re.search(r"^supaglue\.hubspot_company\s+company\s+full\s+(\d+)\s+\1\s", out, re.M)
    assert re.search(r"^SUCCESS: full sync, [1-9]\d* records written$", out, re.M), out
    rc, out = step("tenantsync run acme hubspot", 1)
    assert rc == 0 and "SUCCESS: incremental sync" in out, out[-3000:]
    rc, out = step("tenantsync runs --customer acme")
    assert rc == 0 and len(re.findall(r" acme +hubspot +SUCCESS ", out)) == 2, out
    assert step("kill")[0] == 0
    rc, out = step("tenantsync run acme hubspot", 2)
    last = out.strip().splitlines()[-1]
    assert rc == 1 and last.startswith("FAILURE: ") and "connection refused at 127.0.0.1:" \
        in last and "nothing listens there" in last, out[-3000:]
    assert "retry 1/" not in out  # said at once, not after minutes of retries


def test_every_provider_with_a_twin_has_its_examples():
    """A provider that gains a twin gets examples/<provider>/ (`tenantsync sandbox examples`
    writes them from its spec), and they stay true to the spec."""
    for spec in providers.with_twins():
        for name, text in examples.render(spec).items():
            path = ROOT / "examples" / spec.name / name
            assert path.exists() and path.read_text() == text, \
                f"{path} is missing or stale: run `.venv/bin/tenantsync sandbox examples`"


def test_the_examples_apply_on_a_fresh_registry(tmp_path, monkeypatch):
    monkeypatch.setenv("TENANTSYNC_PROJECT_DIR", str(tmp_path))
    monkeypatch.delenv("TENANTSYNC_REGISTRY_URL", raising=False)
    monkeypatch.setenv("TENANTSYNC_SECRET_KEY", "walkthrough-secret-key-0123456789")
    for spec in providers.with_twins():
        folder = ROOT / "examples" / spec.name
        files = [a for name in ("provider", "destination", "sync_config", "customer")
                 for a in ("-f", str(folder / f"{name}.json"))]
        out = CliRunner().invoke(main, ["apply", *files])
        assert out.exit_code == 0, out.output
        assert f"applied sync_config {spec.name} -> local-postgres" in out.output
