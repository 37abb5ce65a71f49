"""`tenantsync sandbox ...`: run a provider twin from the command line."""

from __future__ import annotations

import json
import threading

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
def serve(provider: str, port: int, records: int, seed: int, proxy: bool) -> None:
    """Serve PROVIDER's twin on 127.0.0.1 until Ctrl-C. Prints its base URL first, then what
    a client needs: the https URL, the OAuth client id and secret, a refresh token, the CA
    file to trust, the provider's tap config, and (--proxy) the proxy's environment."""
    spec = providers.get(provider)
    twin = sandbox_class(provider)(records=records, seed=seed, port=port)
    twin.start()
    tunnel = Proxy.to(twin).start() if proxy and twin.public_hosts else None
    click.echo(twin.base_url)
    for key, value in client_settings(spec, twin, tunnel).items():
        click.echo(f"{key}: {value}")
    click.echo(f"control API: {twin.base_url}/_sandbox/info (Ctrl-C to stop)", err=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        if tunnel is not None:
            tunnel.stop()
        twin.stop()


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
