"""`tenantsync sandbox ...`: run a provider twin from the command line."""

from __future__ import annotations

import threading

import click

from tenantsync.sandbox import sandbox_class, twin_providers


@click.group()
def sandbox() -> None:
    """Local twins of provider APIs (for tests, the demo and benchmarks)."""


@sandbox.command("serve")
@click.argument("provider", type=click.Choice(twin_providers()))
@click.option("--port", type=int, default=0, show_default=True, help="0 picks a free port.")
@click.option("--records", type=int, default=1000, show_default=True,
              help="Approximate number of records in the generated world.")
@click.option("--seed", type=int, default=0, show_default=True)
def serve(provider: str, port: int, records: int, seed: int) -> None:
    """Serve PROVIDER's twin on 127.0.0.1 until Ctrl-C; prints its base URL first."""
    twin = sandbox_class(provider)(records=records, seed=seed, port=port)
    twin.start()
    click.echo(twin.base_url)
    click.echo(f"control API: {twin.base_url}/_sandbox/info (Ctrl-C to stop)", err=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        twin.stop()
