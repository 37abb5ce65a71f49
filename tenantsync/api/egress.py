"""Where webhooks may be posted and destinations may point: an application registers the
URL or host, but tenantsync connects from inside the operator's network, so it must not reach
internal services (cloud metadata at 169.254.169.254, localhost admin ports, RFC 1918 hosts)
unless the operator allows them (webhooks: `TENANTSYNC_WEBHOOK_ALLOWED_HOSTS`, destinations:
`TENANTSYNC_DESTINATION_ALLOWED_HOSTS`, one policy).

`check(url, allowed)` raises `Refused` (naming what is wrong) for a scheme other than
http/https, credentials in the URL, a host that does not resolve, or a host any of whose
addresses is not global, unless the host name or the address is on the allow-list
(`TENANTSYNC_WEBHOOK_ALLOWED_HOSTS`: comma-separated host names, IP addresses or CIDR
networks).

`guarded_transport(allowed)` is an httpx transport that resolves and vets a host itself when
it opens a connection and connects only to the vetted addresses, so a name whose DNS answer
changes between a check and the connection (DNS rebinding) cannot reach an internal address.
"""

from __future__ import annotations

import ipaddress
import os
import re
import socket
from collections.abc import Callable
from dataclasses import dataclass
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network

import httpcore
import httpx

ALLOWED_HOSTS_ENV = "TENANTSYNC_WEBHOOK_ALLOWED_HOSTS"
DESTINATION_ALLOWED_HOSTS_ENV = "TENANTSYNC_DESTINATION_ALLOWED_HOSTS"
SCHEMES = {"http": 80, "https": 443}
HOST_NAME = re.compile(r"^(?!-)[a-z0-9_-]{1,63}(?<!-)(\.(?!-)[a-z0-9_-]{1,63}(?<!-))*$")
_NAT64 = IPv6Network("64:ff9b::/96")

Address = IPv4Address | IPv6Address
Network = IPv4Network | IPv6Network

# Address classes never posted to, first match names the refusal.
_INTERNAL = (("loopback", "is_loopback"), ("unspecified", "is_unspecified"),
             ("link-local", "is_link_local"), ("multicast", "is_multicast"),
             ("private", "is_private"), ("site-local", "is_site_local"),
             ("reserved", "is_reserved"))


class Refused(ValueError):
    """A webhook URL tenantsync will not post to; the message says why."""


@dataclass(frozen=True)
class AllowList:
    """Host names (exact, case-insensitive) and networks webhooks may reach although they
    are internal. Empty: public addresses only."""

    hosts: frozenset[str] = frozenset()
    networks: tuple[Network, ...] = ()
    env: str = ALLOWED_HOSTS_ENV  # where the operator sets it (named in refusals)
    what: str = "webhook"  # what connects: "webhook", "destination"

    @classmethod
    def parse(cls, text: str, env: str = ALLOWED_HOSTS_ENV,
              what: str = "webhook") -> AllowList:
        hosts, networks = set(), []
        for item in (i.strip() for i in text.split(",")):
            if not item:
                continue
            try:
                networks.append(ipaddress.ip_network(item))  # an address is a /32 or /128
                continue
            except ValueError as exc:
                if "/" in item or _looks_numeric(item):
                    raise ValueError(f"{env}: {item!r} is not a valid IP "
                                     f"address or CIDR network ({exc})") from None
            name = _host_key(item)
            if not HOST_NAME.match(name):
                raise ValueError(f"{env}: {item!r} is not a host name, IP "
                                 "address or CIDR network")
            hosts.add(name)
        return cls(frozenset(hosts), tuple(networks), env, what)

    @classmethod
    def from_env(cls) -> AllowList:
        return cls.parse(os.environ.get(ALLOWED_HOSTS_ENV, ""))

    @classmethod
    def destinations_from_env(cls) -> AllowList:
        return cls.parse(os.environ.get(DESTINATION_ALLOWED_HOSTS_ENV, ""),
                         DESTINATION_ALLOWED_HOSTS_ENV, "destination")

    def allows_host(self, host: str) -> bool:
        return _host_key(host) in self.hosts

    def allows_address(self, address: Address) -> bool:
        mapped = getattr(address, "ipv4_mapped", None)
        return any(a in net for net in self.networks for a in (address, mapped)
                   if a is not None)


def _host_key(host: str) -> str:
    return host.lower().rstrip(".")


def _is_literal(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def _looks_numeric(item: str) -> bool:
    return bool(re.fullmatch(r"[0-9.]+|[0-9a-fA-F:.%]*:[0-9a-fA-F:.%]*", item))


def internal_kind(address: Address) -> str | None:
    """What makes an address internal ("a loopback address", ...), None for a global one.
    IPv6 forms that carry an IPv4 address (IPv4-mapped, 6to4, NAT64) are judged by it too."""
    if isinstance(address, IPv6Address):
        if address.ipv4_mapped is not None:  # the connection goes to the IPv4 address
            kind = internal_kind(address.ipv4_mapped)
            return kind and f"an IPv4-mapped form of {address.ipv4_mapped}, {kind}"
        embedded = address.sixtofour or (
            IPv4Address(int(address) & 0xFFFFFFFF) if address in _NAT64 else None)
        if embedded is not None and (kind := internal_kind(embedded)):
            return f"an IPv6 address embedding {embedded}, {kind}"
    for kind, attribute in _INTERNAL:
        if getattr(address, attribute, False):
            return f"{'an' if kind[0] in 'aeiou' else 'a'} {kind} address"
    return None if address.is_global else "an address that is not globally reachable"


def resolve(host: str, port: int, what: str = "webhook") -> list[Address]:
    """Every address `host` resolves to (a literal address: itself)."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        reason = exc.strerror if isinstance(exc, socket.gaierror) else "invalid name"
        raise Refused(f"{what} host {host!r} does not resolve ({reason})") from None
    addresses: list[Address] = []
    for info in infos:
        address = ipaddress.ip_address(info[4][0])
        if address not in addresses:
            addresses.append(address)
    return addresses


def check(url: str, allowed: AllowList) -> list[Address]:
    """The addresses `url`'s host resolves to, all allowed; else `Refused` naming why."""
    try:
        parsed = httpx.URL(url)
    except httpx.InvalidURL as exc:
        raise Refused(f"webhook URL is not valid ({exc})") from None
    if parsed.scheme not in SCHEMES:
        raise Refused(f"webhook URL scheme {parsed.scheme!r} is not allowed: use http or https")
    if parsed.userinfo:
        raise Refused("webhook URL must not contain a user name or password")
    host = parsed.raw_host.decode("ascii")
    if not host:
        raise Refused("webhook URL has no host")
    return vet(host, parsed.port or SCHEMES[parsed.scheme], allowed)


def vet(host: str, port: int, allowed: AllowList) -> list[Address]:
    """The addresses `host` resolves to, all allowed; else `Refused` naming why."""
    addresses = resolve(host, port, allowed.what)
    if allowed.allows_host(host):
        return addresses
    for address in addresses:
        kind = internal_kind(address)
        if kind and not allowed.allows_address(address):
            where = (f"{allowed.what} address {host}" if _is_literal(host)
                     else f"{allowed.what} host {host!r} resolves to {address}, which")
            raise Refused(f"{where} is {kind}: tenantsync does not connect to internal "
                          f"addresses unless {allowed.env} allows the host or address")
    return addresses


class _VettingBackend(httpcore.SyncBackend):
    """Connects only to addresses `vet` passed, trying each in turn like the default."""

    def __init__(self, allowed: Callable[[], AllowList]):
        self._allowed = allowed

    def connect_tcp(self, host: str, port: int, timeout: float | None = None,
                    local_address: str | None = None,
                    socket_options=None) -> httpcore.NetworkStream:
        error: httpcore.ConnectError | None = None
        for address in vet(host, port, self._allowed()):
            try:
                return super().connect_tcp(str(address), port, timeout, local_address,
                                           socket_options)
            except httpcore.ConnectError as exc:
                error = exc
        raise error or httpcore.ConnectError(f"{host} has no address")


def guarded_transport(allowed: Callable[[], AllowList]) -> httpx.HTTPTransport:
    """httpx's transport, its connections opened through `_VettingBackend` (`allowed()` is
    read at each connection). TLS still verifies the URL's host name. A `Refused` propagates
    out of the request."""
    transport = httpx.HTTPTransport()
    # httpx offers no public way to set the network backend: replace the pool it built with
    # the same one (httpx's default limits) on the vetting backend.
    transport._pool = httpcore.ConnectionPool(
        ssl_context=httpx.create_ssl_context(), max_connections=100,
        max_keepalive_connections=20, keepalive_expiry=5.0,
        network_backend=_VettingBackend(allowed))
    return transport
