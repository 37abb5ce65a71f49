"""`tenantsync serve` and `tenantsync api-keys create|revoke`."""

from __future__ import annotations

import click

from tenantsync.controller import db


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8080, show_default=True, type=int)
def serve(host: str, port: int) -> None:
    """Serve the management, OAuth and Data Listing APIs (OpenAPI at /openapi.json).

    Webhooks are posted to public addresses only: TENANTSYNC_WEBHOOK_ALLOWED_HOSTS
    (comma-separated host names, IP addresses or CIDR networks, e.g.
    "127.0.0.1,10.0.0.0/8,hooks.internal") lets them reach those internal ones.
    """
    import os

    from tenantsync.api.app import serve as run
    from tenantsync.controller import crypto

    # The key seals credentials, signs OAuth states and connect sessions: no key, no service.
    if not os.environ.get(crypto.KEY_ENV):
        raise click.ClickException(f"{crypto.KEY_ENV} is not set: serve needs the registry's "
                                   "key (`tenantsync keygen` makes one)")
    try:
        db.session().close()  # migrates, and refuses a key other than the registry's
    except crypto.CryptoError as exc:
        raise click.ClickException(str(exc)) from None
    run(host, port)


@click.group("api-keys")
def api_keys() -> None:
    """API keys of the service (each scoped to one application)."""


@api_keys.command("create")
@click.option("--application", "application_id", required=True,
              help="The application the key can see (created if missing).")
def create(application_id: str) -> None:
    """Create a key and print it once (only its digest is stored)."""
    from tenantsync.api import keys

    with db.session() as s:
        key = keys.create_key(s, application_id)
        s.commit()
    click.echo(key)


@api_keys.command("revoke")
@click.argument("prefix")
def revoke(prefix: str) -> None:
    """Revoke the keys starting with PREFIX (the first 10 characters of a key)."""
    from tenantsync.api import keys

    with db.session() as s:
        n = keys.revoke(s, prefix)
        s.commit()
    click.echo(f"revoked {n} key(s)")


@click.group()
def applications() -> None:
    """Service settings of an application."""


@applications.command("set")
@click.argument("application_id")
@click.option("--public-connect/--no-public-connect", default=None,
              help="Serve Supaglue's key-less /oauth/connect?application_id=... form for this "
                   "application (off by default: anyone who knows a customer id could then "
                   "connect an account in that customer's name; it never replaces one).")
def set_application(application_id: str, public_connect: bool | None) -> None:
    """Change an application's settings (created if missing)."""
    from tenantsync.controller.registry import Registry

    with db.session() as s:
        app = Registry(s, application_id).application()
        if public_connect is not None:
            app.public_connect = public_connect
        s.commit()
        click.echo(f"application {application_id}: public_connect="
                   f"{'on' if app.public_connect else 'off'}")


def register(main: click.Group) -> None:
    main.add_command(serve)
    main.add_command(api_keys)
    main.add_command(applications)
