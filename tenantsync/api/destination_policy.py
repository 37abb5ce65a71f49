"""Where a destination created through the API may point. Syncs run inside the operator's
network with whatever credentials the destination names, so an application must not aim them
at internal services, at the server's own Unix sockets (where `user=postgres` may be trusted),
or at tenantsync's hosted database (whose schemas hold every application's data).

The same egress policy as webhooks (tenantsync.api.egress): internal addresses are refused
unless `TENANTSYNC_DESTINATION_ALLOWED_HOSTS` allows them; the hosted database is refused even
then. The CLI's `apply` (the operator's own hand) is not limited.
"""

from __future__ import annotations

import ipaddress
import os

import psycopg2.extensions

from tenantsync.api import egress, hosted
from tenantsync.api.errors import bad_request

DEFAULT_PORT = 5432


def _hosted_endpoints() -> set[tuple[str, int]]:
    """(address, port) pairs where the hosted database listens over TCP (embedded: none)."""
    url = os.environ.get(hosted.URL_ENV)
    if not url:
        return set()
    params = psycopg2.extensions.parse_dsn(hosted.dsn())
    ports = str(params.get("port") or DEFAULT_PORT).split(",")
    found = set()
    for i, host in enumerate(str(params.get("host") or "").split(",")):
        if not host or host.startswith("/"):
            continue
        port = int(ports[min(i, len(ports) - 1)])
        try:
            found |= {(str(a), port) for a in egress.resolve(host, port)}
        except egress.Refused:
            continue
    return found


def check(host: str, port: int | None, allowed: egress.AllowList) -> None:
    """Refuse (400 naming `config.host`) a destination host the service must not reach."""
    if host.startswith(("/", "@")):
        raise bad_request("config.host: a Unix-socket directory is not accepted through the "
                          "API (give a host name or IP address)")
    literal = True
    try:
        ipaddress.ip_address(host)
    except ValueError:
        literal = False
    if not literal and not egress.HOST_NAME.match(host.lower().rstrip(".")):
        raise bad_request(f"config.host {host!r} is not a host name or IP address")
    port = port or DEFAULT_PORT
    try:
        addresses = egress.vet(host, port, allowed)
    except egress.Refused as exc:
        raise bad_request(f"config.host: {exc}") from None
    if {(str(a), port) for a in addresses} & _hosted_endpoints():
        raise bad_request("config.host: this is tenantsync's hosted database; use a "
                          "destination of type 'supaglue' for it")
