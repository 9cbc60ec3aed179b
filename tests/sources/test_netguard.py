"""Which addresses a url may reach: pure functions, no traffic."""

from __future__ import annotations

import ipaddress

import pytest

from humanseg.errors import HumansegError
from humanseg.sources.http import prepare_hop
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
    """A name the resolver refuses locally (a 64-character label), so no DNS query is sent."""
    with pytest.raises(HumansegError) as raised:
        checked_addresses("a" * 64 + ".example", 80, Allowlist.parse([]))
    assert raised.value.code == "fetch_failed"


# --- more ranges and spellings (pure: numeric hosts resolve without any traffic) -------------

MORE_REFUSED = [
    "fec0::1",  # deprecated site-local
    "::7f00:1",  # IPv4-compatible ::127.0.0.1
    "::ffff:0:7f00:1",  # IPv4-translated
    "100::1",  # discard-only
    "2001::1",  # Teredo
    "2001:0:4136:e378:8000:63bf:3fff:fdd2",  # Teredo
    "64:ff9b::7f00:1",  # NAT64 of loopback
    "::ffff:a9fe:a9fe",  # mapped 169.254.169.254, hex spelling
    "192.0.2.1",
    "198.51.100.1",
    "203.0.113.1",
    "100.100.100.200",  # Alibaba Cloud metadata (shared range)
]


@pytest.mark.parametrize("address", MORE_REFUSED)
def test_more_non_public_addresses_are_refused(address: str) -> None:
    assert not is_public(ipaddress.ip_address(address))


# Every refused kind, as a url: the check raises before any connection could be made.
FORBIDDEN_URLS = [
    "http://127.0.0.1/",
    "http://localhost/",
    "http://LOCALHOST./",
    "http://images.localhost/",
    "http://127.1/",
    "http://0x7f000001/",
    "http://2130706433/",
    "http://0177.0.0.1/",
    "http://0/",
    "http://0.0.0.0/",
    "http://10.0.0.1/",
    "http://172.31.255.255/",
    "http://192.168.0.1/",
    "http://169.254.169.254/latest/meta-data/",
    "http://[fd00:ec2::254]/",
    "http://100.64.0.1/",
    "http://224.0.0.1/",
    "http://255.255.255.255/",
    "http://240.0.0.1/",
    "https://[::1]:8443/",
    "http://[::]/",
    "http://[::ffff:127.0.0.1]/",
    "http://[::ffff:7f00:1]/",
    "http://[::ffff:169.254.169.254]/",
    "http://[fe80::1]/",
    "http://[fe80::1%25eth0]/",
    "http://[fe80::1%eth0]/",
    "http://[::1%25lo]/",
    "http://[ff02::1]/",
    "http://[64:ff9b::a9fe:a9fe]/",
    "http://[2002:a9fe:a9fe::]/",
    "http://user:pass@127.0.0.1/",
    "http://public.example@127.0.0.1/",
]


@pytest.mark.parametrize("url", FORBIDDEN_URLS)
def test_every_refused_kind_is_refused_before_connecting(url: str) -> None:
    with pytest.raises(HumansegError) as raised:
        prepare_hop(url, Allowlist.parse([]))
    assert raised.value.code == "url_forbidden", raised.value


@pytest.mark.parametrize(
    "url",
    ["file:///etc/passwd", "ftp://127.0.0.1/", "gopher://127.0.0.1/", "s3://b/k", "//x/y", "x"],
)
def test_only_http_and_https_are_fetched_by_the_http_source(url: str) -> None:
    with pytest.raises(HumansegError) as raised:
        prepare_hop(url, Allowlist.parse([]))
    assert raised.value.code == "invalid_url"


def test_hop_is_pinned_to_the_checked_address() -> None:
    """The connection goes to the address checked; the name only travels in Host and SNI."""
    hop = prepare_hop("https://user@localhost:8443/a/b.jpg?x=1", Allowlist.parse(["localhost"]))
    assert hop.url == "https://127.0.0.1:8443/a/b.jpg?x=1"
    assert hop.headers["Host"] == "localhost:8443"
    assert hop.extensions == {"sni_hostname": "localhost"}
    v6 = prepare_hop("http://[::1]/x", Allowlist.parse(["::1/128"]))
    assert v6.url == "http://[::1]/x" and v6.headers["Host"] == "[::1]" and not v6.extensions


def test_allowlisted_cidr_does_not_open_its_neighbours() -> None:
    allowlist = Allowlist.parse(["127.0.0.1/32"])
    assert prepare_hop("http://127.0.0.1:1/", allowlist).url == "http://127.0.0.1:1/"
    for url in ("http://127.0.0.2/", "http://[::1]/", "http://[::ffff:127.0.0.2]/"):
        with pytest.raises(HumansegError):
            prepare_hop(url, allowlist)
