"""The SSRF guard for webhook URLs: stdlib only, shared by the API (at registration) and the
workers (at every connect, through the checked network backend).

Rules (issue 4): http(s) only, allowed ports only (a setting), no userinfo, no numeric host
spellings other than canonical dotted-quad / IPv6 literals, and every resolved address must
be globally routable after unwrapping IPv4-mapped, NAT64 and 6to4 forms. Python's
``is_global`` alone is not enough: it is True for multicast and for some reserved ranges, and
``::ffff:127.0.0.1`` is not ``is_loopback`` in 3.11. Loopback may be allowed for local mode
and tests only (the settings refuse the flag elsewhere).
"""

from __future__ import annotations

import contextvars
import ipaddress
import re
import socket
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Resolver = Callable[[str, int], list[str]]

_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")
_NAT64_LOCAL = ipaddress.IPv6Network("64:ff9b:1::/48")
# What inet_aton accepts besides the canonical form: 127.1, 0x7f.1, 0177.0.0.1, 2130706433.
_NUMERIC_HOST = re.compile(r"^(0x[0-9a-f]*|[0-9]+)(\.(0x[0-9a-f]*|[0-9]+)){0,3}\.?$", re.I)
_HOSTNAME = re.compile(
    r"^(?=.{1,253}$)([a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?\.)*[a-z0-9_-]+\.?$", re.I
)
MAX_URL_LENGTH = 2048


class UnsafeWebhookURL(ValueError):
    """The URL or an address it resolves to is not allowed; ``reason`` is a stable code."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


@dataclass(frozen=True)
class Target:
    scheme: str
    host: str  # lower-cased hostname or IP literal (no brackets)
    port: int


def unwrap(ip: IPAddress) -> IPAddress:
    """The IPv4 address an IPv6 form carries (mapped, NAT64, 6to4), else ``ip``."""
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return ip.ipv4_mapped
        if ip in _NAT64:
            return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
        if ip.sixtofour is not None:
            return ip.sixtofour
    return ip


def address_problem(ip: IPAddress, *, allow_loopback: bool = False) -> str | None:
    """Why ``ip`` may not be connected to (a short reason), or None when it is public."""
    if isinstance(ip, ipaddress.IPv6Address) and (ip.scope_id or ip in _NAT64_LOCAL):
        return "not_global"
    inner = unwrap(ip)
    if inner.is_loopback:
        return None if allow_loopback else "loopback"
    for flag in ("is_unspecified", "is_link_local", "is_multicast", "is_private", "is_reserved"):
        if getattr(inner, flag):
            return flag[3:]
    if isinstance(inner, ipaddress.IPv6Address) and inner.is_site_local:
        return "site_local"
    # Covers CGNAT 100.64/10 (not is_private in 3.11), documentation and benchmark ranges.
    if not inner.is_global:
        return "not_global"
    return None


def parse_url(url: str, allowed_ports: Iterable[int]) -> Target:
    """Check the URL's shape (scheme, port, host spelling); no DNS here."""
    if len(url) > MAX_URL_LENGTH or any(c.isspace() or ord(c) < 32 for c in url):
        raise UnsafeWebhookURL("malformed", "the URL is too long or contains whitespace")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise UnsafeWebhookURL("malformed", "the URL cannot be parsed") from None
    if parts.scheme not in ("http", "https"):
        raise UnsafeWebhookURL("scheme", "only http and https URLs are allowed")
    if parts.username is not None or parts.password is not None:
        raise UnsafeWebhookURL("userinfo", "credentials in the URL are not allowed")
    host = (parts.hostname or "").lower()
    if not host:
        raise UnsafeWebhookURL("malformed", "the URL has no host")
    if port is None:
        port = 443 if parts.scheme == "https" else 80
    if port not in set(allowed_ports):
        raise UnsafeWebhookURL("port", f"port {port} is not allowed")
    literal = ip_literal(host)
    if literal is None and not _HOSTNAME.match(host):
        raise UnsafeWebhookURL("host", "the host is not a valid hostname or IP address")
    return Target(parts.scheme, host, port)


def ip_literal(host: str) -> IPAddress | None:
    """The IP a host spells canonically; raises for decimal/octal/hex/short spellings."""
    if "%" in host:
        raise UnsafeWebhookURL("host", "IPv6 zone identifiers are not allowed")
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        pass
    if _NUMERIC_HOST.match(host):
        # inet_aton would read these as an IPv4 address: refuse rather than guess.
        raise UnsafeWebhookURL("ip_spelling", "non-canonical numeric IP spellings are refused")
    return None


# Which getaddrinfo the system resolver calls when not socket's: the webhook resolver gate
# runs lookups in gevent pool threads, where the real one must be used (gevent's patched
# one would start a hub and a thread pool of its own in every such thread).
lookup_function: contextvars.ContextVar[Callable[..., Any] | None] = contextvars.ContextVar(
    "ssrf_getaddrinfo", default=None
)


def system_resolver(host: str, port: int) -> list[str]:
    # socket.getaddrinfo is looked up per call: gevent's monkey patching replaces it later.
    getaddrinfo = lookup_function.get() or socket.getaddrinfo
    infos = getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def overriding_resolver(overrides: Mapping[str, Iterable[str]], fallback: Resolver) -> Resolver:
    """A resolver answering ``overrides`` first (test seam for DNS rebinding)."""

    def resolve(host: str, port: int) -> list[str]:
        if host in overrides:
            return list(overrides[host])
        return fallback(host, port)

    return resolve


def checked_addresses(
    host: str,
    port: int,
    *,
    resolver: Resolver = system_resolver,
    allow_loopback: bool = False,
) -> list[str]:
    """Every address ``host`` resolves to, all checked; raises if any is not allowed.

    Refusing when *any* answer is internal (not only the first) stops a resolver from
    mixing a public address in to pass the check while the client connects to another.
    """
    literal = ip_literal(host)
    if literal is not None:
        answers = [str(literal)]
    else:
        try:
            answers = resolver(host, port)
        except (OSError, UnicodeError):
            raise UnsafeWebhookURL("dns", f"cannot resolve {host}") from None
    if not answers:
        raise UnsafeWebhookURL("dns", f"{host} has no addresses")
    checked = []
    for answer in answers:
        try:
            ip = ipaddress.ip_address(answer)
        except ValueError:
            raise UnsafeWebhookURL("dns", "the resolver returned a malformed address") from None
        problem = address_problem(ip, allow_loopback=allow_loopback)
        if problem is not None:
            raise UnsafeWebhookURL("address", f"{host} resolves to a {problem} address")
        checked.append(str(ip))
    return checked


def check_url(
    url: str,
    *,
    allowed_ports: Iterable[int],
    resolver: Resolver = system_resolver,
    allow_loopback: bool = False,
) -> Target:
    """The full check at registration: shape, then every resolved address."""
    target = parse_url(url, allowed_ports)
    checked_addresses(target.host, target.port, resolver=resolver, allow_loopback=allow_loopback)
    return target
