"""Outbound addresses a notification may reach: the SSRF guard.

A channel's URL is written by a person but fetched by the server, from inside its
network, so a URL naming the cloud metadata service, a loopback port or a private host
would turn the notifier into a probe of that network. Every host is resolved and each
address checked, when the channel is created and again at each connection, and the
connection goes to the address that was checked (a DNS answer that changes in between
cannot slip past). Refused unless inside a network the operator allows with
``STEWARD_ALLOW_NETWORKS``: loopback, private, link-local (metadata included),
multicast, unspecified, reserved and every other not globally routable address,
IPv4-mapped IPv6 forms judged by the IPv4 address they carry.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterable, Sequence
from urllib.parse import urlsplit

from modelsteward.errors import InvalidInput

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
METADATA = frozenset(
    ipaddress.ip_address(a) for a in ("169.254.169.254", "fd00:ec2::254", "100.100.100.200")
)
SCHEMES = ("http", "https")


class Refused(InvalidInput):
    """An outbound address the guard does not allow."""


def _embedded(ip: IPAddress) -> IPAddress:
    """The IPv4 address an IPv6 one carries (mapped, 6to4, Teredo), else itself."""
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return ip.ipv4_mapped
        if ip.sixtofour is not None:
            return ip.sixtofour
        if ip.teredo is not None:
            return ip.teredo[1]
    return ip


def why_refused(ip: IPAddress) -> str | None:
    """What kind of address ``ip`` is when it must not be reached, else None."""
    for candidate in dict.fromkeys((_embedded(ip), ip)):
        checks = (
            ("the cloud metadata address", candidate in METADATA),
            ("loopback", candidate.is_loopback),
            ("link-local", candidate.is_link_local),
            ("multicast", candidate.is_multicast),
            ("unspecified", candidate.is_unspecified),
            ("private", candidate.is_private),
            ("reserved", candidate.is_reserved),
            ("not globally routable", not candidate.is_global),
        )
        for name, hit in checks:
            if hit:
                return name
    return None


def allowed(ip: IPAddress, networks: Iterable[str]) -> bool:
    nets = [ipaddress.ip_network(n) for n in networks]
    return any(c in n for c in {ip, _embedded(ip)} for n in nets if c.version == n.version)


def check_address(ip: IPAddress, host: str, networks: Sequence[str]) -> None:
    reason = why_refused(ip)
    if reason is not None and not allowed(ip, networks):
        raise Refused(
            f"host {host[:100]!r} resolves to {ip}, which is {reason}; outbound "
            "notifications may reach it only inside a network allowed by STEWARD_ALLOW_NETWORKS"
        )


def resolve(host: str, port: int, networks: Sequence[str]) -> list[IPAddress]:
    """Every address of ``host``, each checked; ``Refused`` if any is not allowed."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise Refused(f"host {host[:100]!r} does not resolve ({exc})") from None
    found: list[IPAddress] = []
    for info in infos:
        ip = ipaddress.ip_address(str(info[4][0]).split("%", 1)[0])
        if ip not in found:
            found.append(ip)
    for ip in found:
        check_address(ip, host, networks)
    if not found:
        raise Refused(f"host {host[:100]!r} has no address")
    return found


def check_url(url: str, networks: Sequence[str]) -> tuple[str, int, list[IPAddress]]:
    """``url``'s host, port and checked addresses; ``Refused`` names what is wrong."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise Refused(f"not a URL: {exc}") from None
    if parts.scheme not in SCHEMES:
        raise Refused(f"URL scheme must be http or https, not {parts.scheme[:16]!r}")
    if not parts.hostname:
        raise Refused("URL has no host")
    if parts.username or parts.password:
        raise Refused("put credentials in the channel's settings, not in its URL")
    port = port or (443 if parts.scheme == "https" else 80)
    return parts.hostname, port, resolve(parts.hostname, port, networks)
