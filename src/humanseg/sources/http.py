"""Fetch an image from an http(s) URL, safely.

Every hop (the first URL and each redirect) is resolved and checked by ``netguard`` and the
connection goes to the very address that was checked, so DNS rebinding cannot slip past the
check. Connect, read and total timeouts apply; the body is capped while it streams.
"""

from __future__ import annotations

import ipaddress
import time
from dataclasses import dataclass, field
from urllib.parse import urljoin, urlsplit

import httpx

from humanseg.errors import ErrorCode, error
from humanseg.settings import SourceSettings
from humanseg.sources.netguard import Allowlist, IPAddress, checked_addresses

_REDIRECTS = {301, 302, 303, 307, 308}
_USER_AGENT = "humanseg (+image fetch)"


def _parse(url: str) -> tuple[str, str, int]:
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise error(ErrorCode.INVALID_URL, f"The url {url[:200]!r} is malformed.") from None
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise error(
            ErrorCode.INVALID_URL,
            f"The url scheme {scheme or '(none)'!r} is not supported; use http, https or s3.",
        )
    if not parts.hostname:
        raise error(ErrorCode.INVALID_URL, f"The url {url[:200]!r} has no host.")
    if "%" in parts.hostname:  # an IPv6 zone id: only link-local and multicast scopes use one
        raise error(
            ErrorCode.URL_FORBIDDEN,
            f"The url's host {parts.hostname!r} is a scoped (link-local) IPv6 address; "
            "such addresses are refused.",
        )
    return scheme, parts.hostname, port or (443 if scheme == "https" else 80)


@dataclass(frozen=True)
class Hop:
    """One checked request: to ``url`` (host replaced by the checked address), with the
    original host in the Host header and, for https, in SNI and certificate checks."""

    url: str
    host: str
    headers: dict[str, str]
    extensions: dict[str, str] = field(default_factory=dict)


def prepare_hop(url: str, allowlist: Allowlist) -> Hop:
    """Check ``url`` (scheme, host, every resolved address) and pin it to a checked address.

    Raises ``invalid_url`` or ``url_forbidden`` before any connection is made.
    """
    scheme, host, port = _parse(url)
    address = checked_addresses(host, port, allowlist)[0]
    return Hop(
        url=_pinned_url(url, address),
        host=host,
        headers={"Host": _host_header(url), "User-Agent": _USER_AGENT, "Accept": "image/*"},
        extensions={"sni_hostname": host} if scheme == "https" else {},
    )


def _pinned_url(url: str, address: IPAddress) -> str:
    """``url`` with its host replaced by the checked address."""
    parts = urlsplit(url)
    host = f"[{address}]" if isinstance(address, ipaddress.IPv6Address) else str(address)
    netloc = host if parts.port is None else f"{host}:{parts.port}"
    return parts._replace(netloc=netloc).geturl()


def _host_header(url: str) -> str:
    parts = urlsplit(url)
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    return host if parts.port is None else f"{host}:{parts.port}"


def fetch_url(url: str, settings: SourceSettings) -> bytes:
    allowlist = Allowlist.parse(settings.url_allowlist)
    # one deadline for the whole fetch: every connect, redirect and read gets what is left
    deadline = time.monotonic() + settings.url_total_timeout
    with httpx.Client(follow_redirects=False, trust_env=False) as client:
        for _hop in range(settings.url_max_redirects + 1):
            hop = prepare_hop(url, allowlist)  # every hop: scheme, host and addresses
            host = hop.host
            left = deadline - time.monotonic()
            if left <= 0:
                raise error(
                    ErrorCode.FETCH_TIMEOUT,
                    f"Fetching the url took longer than {settings.url_total_timeout:g} s "
                    "(HUMANSEG_URL_TOTAL_TIMEOUT), redirects included.",
                )
            timeout = httpx.Timeout(
                connect=min(settings.url_connect_timeout, left),
                read=min(settings.url_read_timeout, left),
                write=min(settings.url_read_timeout, left),
                pool=min(settings.url_connect_timeout, left),
            )
            try:
                request = client.build_request(
                    "GET", hop.url, headers=hop.headers, extensions=hop.extensions, timeout=timeout
                )
            except httpx.InvalidURL:
                raise error(ErrorCode.INVALID_URL, f"The url {url[:200]!r} is malformed.") from None
            try:
                response = client.send(request, stream=True)
            except httpx.InvalidURL:  # httpx parses a redirect's Location even when not following
                message = f"The server at {host!r} sent a malformed redirect."
                raise error(ErrorCode.FETCH_FAILED, message) from None
            except httpx.TimeoutException:
                message = f"The server at {host!r} did not answer in time."
                raise error(ErrorCode.FETCH_TIMEOUT, message) from None
            except httpx.HTTPError as exc:
                message = f"Could not fetch the url from {host!r}: {exc}."
                raise error(ErrorCode.FETCH_FAILED, message) from None
            try:
                if response.status_code in _REDIRECTS and "location" in response.headers:
                    url = urljoin(url, response.headers["location"])
                    continue
                if response.status_code != 200:
                    raise error(
                        ErrorCode.FETCH_FAILED,
                        f"The server at {host!r} answered HTTP {response.status_code}.",
                    )
                return _read_capped(response, settings.max_download_bytes, deadline, host)
            finally:
                response.close()
    raise error(
        ErrorCode.FETCH_FAILED, f"The url redirected more than {settings.url_max_redirects} times."
    )


def _read_capped(response: httpx.Response, cap: int, deadline: float, host: str) -> bytes:
    declared = response.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > cap:
        raise error(
            ErrorCode.DOWNLOAD_TOO_LARGE,
            f"The image at the url is {int(declared)} bytes; at most {cap} are downloaded.",
        )
    body = bytearray()
    try:
        for chunk in response.iter_bytes():
            body += chunk
            if len(body) > cap:
                raise error(
                    ErrorCode.DOWNLOAD_TOO_LARGE,
                    f"The image at the url is larger than {cap} bytes.",
                )
            if time.monotonic() > deadline:
                raise error(ErrorCode.FETCH_TIMEOUT, f"Downloading from {host!r} took too long.")
    except httpx.TimeoutException:
        raise error(
            ErrorCode.FETCH_TIMEOUT, f"The server at {host!r} stopped sending data."
        ) from None
    except httpx.HTTPError as exc:
        raise error(ErrorCode.FETCH_FAILED, f"The download from {host!r} failed: {exc}.") from None
    return bytes(body)
