"""`tenantsync sandbox ...`: run a provider twin from the command line."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from pathlib import Path

import click

from tenantsync import providers
from tenantsync.sandbox import sandbox_class, twin_providers
from tenantsync.sandbox.proxy import Proxy


@click.group()
def sandbox() -> None:
    """Local twins of provider APIs (for tests, the demo and benchmarks)."""


@sandbox.command("serve")
@click.argument("provider", type=click.Choice(twin_providers()))
@click.option("--port", type=int, default=0, show_default=True, help="0 picks a free port.")
@click.option("--records", type=int, default=1000, show_default=True,
              help="Approximate number of records in the generated world.")
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--proxy/--no-proxy", default=False, show_default=True,
              help="Also run an HTTPS proxy that sends the provider's own hosts to the twin, "
                   "for clients that hard-code them.")
@click.option("--write-connection", "connection_file", type=click.Path(dir_okay=False),
              help="Write a connection document to this twin (`tenantsync apply -f` takes it) "
                   "for --customer.")
@click.option("--customer", default="acme", show_default=True,
              help="The customer_id of the --write-connection document.")
@click.option("--background", is_flag=True,
              help="Serve from a background process: return once the twin is up (its pid in "
                   "twin-<provider>.pid; `kill` it to stop).")
def serve(provider: str, port: int, records: int, seed: int, proxy: bool,
          connection_file: str | None, customer: str, background: bool) -> None:
    """Serve PROVIDER's twin on 127.0.0.1 until Ctrl-C. Prints its base URL first, then what
    a client needs: the https URL, the OAuth client id and secret, a refresh token, the CA
    file to trust, the provider's tap config, and (--proxy) the proxy's environment."""
    if background:
        _serve_in_background(provider, [
            "--port", str(port), "--records", str(records), "--seed", str(seed),
            "--proxy" if proxy else "--no-proxy", "--customer", customer,
            *(["--write-connection", connection_file] if connection_file else [])])
        return
    spec = providers.get(provider)
    twin = sandbox_class(provider)(records=records, seed=seed, port=port)
    twin.start()
    tunnel = Proxy.to(twin).start() if proxy and twin.public_hosts else None
    if connection_file:  # before the first line: whoever waits for it may read the file
        doc = {"customer_id": customer, "provider_name": provider,
               **providers.twin_connection(spec, twin, twin.client_id)}
        tmp = Path(f"{connection_file}.tmp")
        tmp.write_text(json.dumps(doc, indent=2) + "\n")
        tmp.replace(connection_file)
    click.echo(twin.base_url)
    for key, value in client_settings(spec, twin, tunnel).items():
        click.echo(f"{key}: {value}")
    if connection_file:
        click.echo(f"connection of {customer}: {connection_file}")
    click.echo(f"control API: {twin.base_url}/_sandbox/info (Ctrl-C to stop)", err=True)
    sys.stdout.flush()
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        if tunnel is not None:
            tunnel.stop()
        twin.stop()


@sandbox.command("examples")
@click.argument("root", type=click.Path(file_okay=False), default="examples")
def examples_cmd(root: str) -> None:
    """Write ROOT/<provider>/ (provider, destination, sync config, customer) for every
    provider with a twin; the connection comes from `serve --write-connection`."""
    from tenantsync.sandbox import examples

    changed = examples.write(Path(root))
    click.echo("\n".join(f"wrote {path}" for path in changed) or f"{root}: up to date")


BACKGROUND_WAIT_SECONDS = 120


def _serve_in_background(provider: str, options: list[str]) -> None:
    """This same command without --background, in its own session (it outlives this one),
    its output in twin-<provider>.log; returns once it printed everything (the twin is up)."""
    args = ["sandbox", "serve", provider, *options]
    log, pid_file = Path(f"twin-{provider}.log"), Path(f"twin-{provider}.pid")
    with open(log, "w") as out:
        child = subprocess.Popen([sys.executable, "-m", "tenantsync.cli", *args], stdout=out,
                                 stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                 start_new_session=True)
    pid_file.write_text(f"{child.pid}\n")
    deadline = time.monotonic() + BACKGROUND_WAIT_SECONDS
    while "control API: " not in log.read_text():
        if child.poll() is not None or time.monotonic() > deadline:
            child.kill()
            raise click.ClickException(f"the {provider} twin did not start: "
                                       f"{log.read_text().strip()[-500:]} (log: {log})")
        time.sleep(0.1)
    click.echo(log.read_text().split("control API: ")[0].rstrip())
    click.echo(f"serving in the background, pid {child.pid} (in {pid_file}; "
               f"`kill $(cat {pid_file})` stops it)")


def client_settings(spec, twin, tunnel: Proxy | None) -> dict[str, str]:
    """What an independent client needs to reach `twin` (the twin's own test credentials)."""
    out = {"https base URL": twin.https_base_url if twin.tls else "(tls off)",
           "client id": twin.client_id, "client secret": twin.client_secret,
           "refresh token": twin.mint_refresh_token(),
           "CA file": twin.ca_file if twin.tls else "(tls off)",
           "tap config": json.dumps(spec.twin.tap_config(twin))}
    if twin.public_hosts:
        out["provider hosts"] = ", ".join(twin.public_hosts)
    if tunnel is not None:
        out["proxy environment"] = " ".join(f"{k}={v}" for k, v in tunnel.env(twin).items()
                                            if k.isupper())
    return out
