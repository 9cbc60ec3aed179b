"""Which addresses a url may reach: pure functions, no traffic."""

from __future__ import annotations

import ipaddress

import pytest

from humanseg.errors import HumansegError
from humanseg.sources.netguard import Allowlist, checked_addresses, is_public

REFUSED = [
    "127.0.0.1",
    "127.255.255.254",
    "10.1.2.3",
    "172.16.0.1",
    "192.168.1.1",
    "169.254.169.254",
    "100.64.0.1",
    "0.0.0.0",
    "224.0.0.1",
    "239.255.255.250",
    "240.0.0.1",
    "255.255.255.255",
    "192.0.0.1",
    "198.18.0.1",
    "::1",
    "::",
    "fe80::1",
    "fc00::1",
    "fd00:ec2::254",
    "ff02::1",
    "::ffff:127.0.0.1",
    "::ffff:169.254.169.254",
    "::ffff:10.0.0.1",
    "64:ff9b::a00:1",
    "2002:7f00:1::",
    "2001:db8::1",
]
ALLOWED = ["8.8.8.8", "1.1.1.1", "93.184.216.34", "2606:4700:4700::1111", "::ffff:8.8.8.8"]


@pytest.mark.parametrize("address", REFUSED)
def test_non_public_addresses_are_refused(address: str) -> None:
    assert not is_public(ipaddress.ip_address(address))


@pytest.mark.parametrize("address", ALLOWED)
def test_public_addresses_are_allowed(address: str) -> None:
    assert is_public(ipaddress.ip_address(address))


@pytest.mark.parametrize("spelling", ["127.1", "0x7f000001", "2130706433", "0177.0.0.1", "127.0.1"])
def test_numeric_tricks_resolve_to_loopback_and_are_refused(spelling: str) -> None:
    with pytest.raises(HumansegError) as raised:
        checked_addresses(spelling, 80, Allowlist.parse([]))
    assert raised.value.code == "url_forbidden"


def test_allowlist_by_cidr_and_host() -> None:
    allowlist = Allowlist.parse(["127.0.0.0/8", " Localhost ", "[::1]"])
    assert checked_addresses("127.0.0.5", 80, allowlist) == [ipaddress.ip_address("127.0.0.5")]
    assert checked_addresses("localhost", 80, allowlist)
    assert checked_addresses("::1", 80, allowlist)
    only_one = Allowlist.parse(["127.0.0.1"])
    with pytest.raises(HumansegError):
        checked_addresses("127.0.0.2", 80, only_one)


def test_unresolvable_host() -> None:
    with pytest.raises(HumansegError) as raised:
        checked_addresses("no-such-host.invalid", 80, Allowlist.parse([]))
    assert raised.value.code == "fetch_failed"
