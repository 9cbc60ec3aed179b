"""Which network addresses a user-supplied URL may reach.

By default only globally routable unicast addresses: loopback, private, link-local (cloud
metadata included), shared, multicast, reserved and unspecified ranges are refused, in IPv4,
IPv6 and IPv4-mapped/-translated IPv6. Operators open exceptions with an allowlist of host
names or CIDRs. Numeric tricks such as ``127.1`` or ``2130706433`` are covered because the
check runs on the addresses the resolver returns, which are also the ones connected to.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterable
from dataclasses import dataclass

from humanseg.errors import ErrorCode, error

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


@dataclass(frozen=True)
class Allowlist:
    hosts: frozenset[str]
    networks: tuple[IPNetwork, ...]

    @classmethod
    def parse(cls, entries: Iterable[str]) -> Allowlist:
        hosts: set[str] = set()
        networks: list[IPNetwork] = []
        for entry in entries:
            entry = entry.strip().lower()
            if not entry:
                continue
            try:
                networks.append(ipaddress.ip_network(entry.strip("[]"), strict=False))
            except ValueError:
                hosts.add(entry.rstrip("."))
        return cls(frozenset(hosts), tuple(networks))

    def allows_host(self, host: str) -> bool:
        return host.lower().rstrip(".") in self.hosts

    def allows_address(self, address: IPAddress) -> bool:
        return any(address in network for network in self.networks)


def _embedded_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    if address.sixtofour is not None:
        return address.sixtofour
    if address.teredo is not None:
        return address.teredo[1]
    if address in ipaddress.ip_network("64:ff9b::/96"):  # NAT64 well-known prefix
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def is_public(address: IPAddress) -> bool:
    """True for globally routable unicast addresses only."""
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:  # ::ffff:a.b.c.d is the IPv4 address itself
            return is_public(address.ipv4_mapped)
        embedded = _embedded_ipv4(address)
        if embedded is not None and not is_public(embedded):
            return False
        if address.is_site_local:  # fec0::/10, deprecated but still routed inside some sites
            return False
    return address.is_global and not (
        address.is_multicast
        or address.is_reserved
        or address.is_loopback
        or address.is_link_local
        or address.is_unspecified
        or address.is_private
    )


def resolve(host: str, port: int) -> list[IPAddress]:
    """Every address ``host`` resolves to (numeric forms like ``0x7f000001`` included)."""
    if host.endswith(".") and _is_numeric_ipv4(host.rstrip(".")):
        host = host.rstrip(".")  # "127.0.0.1." is the address, as browsers read it
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError, OSError) as exc:
        raise error(ErrorCode.FETCH_FAILED, f"Cannot resolve the host {host!r} ({exc}).") from None
    addresses: list[IPAddress] = []
    for _family, _type, _proto, _name, sockaddr in infos:
        address = ipaddress.ip_address(str(sockaddr[0]).split("%", 1)[0])
        if address not in addresses:
            addresses.append(address)
    if not addresses:
        raise error(ErrorCode.FETCH_FAILED, f"The host {host!r} has no address.")
    return addresses


def _is_numeric_ipv4(text: str) -> bool:
    try:
        socket.inet_aton(text)  # pure parsing (127.1, 0x7f000001, 0177.0.0.1), no lookup
    except (OSError, ValueError):
        return False
    return True


def checked_addresses(host: str, port: int, allowlist: Allowlist) -> list[IPAddress]:
    """Resolve ``host`` and refuse it unless every address may be reached."""
    if allowlist.allows_host(host):
        return resolve(host, port)
    name = host.lower().rstrip(".")
    if name == "localhost" or name.endswith(".localhost"):  # loopback by definition (RFC 6761)
        raise error(
            ErrorCode.URL_FORBIDDEN,
            f"The url's host {host!r} is a loopback name; such hosts are refused unless "
            "listed in HUMANSEG_URL_ALLOWLIST.",
        )
    addresses = resolve(host, port)
    for address in addresses:
        if not (is_public(address) or allowlist.allows_address(address)):
            raise error(
                ErrorCode.URL_FORBIDDEN,
                f"The url's host {host!r} resolves to {address}, a non-public address; "
                "such addresses are refused unless listed in HUMANSEG_URL_ALLOWLIST.",
            )
    return addresses
