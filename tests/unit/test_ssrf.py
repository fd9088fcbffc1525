"""The SSRF guard, table-driven over every address class and spelling (issue 4)."""

from __future__ import annotations

import httpcore
import pytest

from workers.contract import settings as names
from workers.contract import ssrf
from workers.contract.notify_settings import NotificationSettings
from workers.contract.settings import SettingsError
from workers.notifications.webhooks.network import CheckedNetworkBackend

PORTS = (80, 443)

REFUSED_ADDRESSES = [
    ("127.0.0.1", "loopback"),
    ("127.255.0.9", "loopback"),
    ("::1", "loopback"),
    ("::ffff:127.0.0.1", "loopback"),  # not is_loopback in Python 3.11
    ("64:ff9b::7f00:1", "loopback"),  # NAT64 of 127.0.0.1
    ("2002:7f00:1::", "loopback"),  # 6to4 of 127.0.0.1
    ("10.1.2.3", "private"),
    ("172.16.0.1", "private"),
    ("192.168.1.1", "private"),
    ("::ffff:10.0.0.1", "private"),
    ("64:ff9b::a00:1", "private"),  # NAT64 of 10.0.0.1
    ("2002:c0a8:101::", "private"),  # 6to4 of 192.168.1.1
    ("100.64.0.1", "not_global"),  # CGNAT: not is_private in 3.11
    ("100.127.255.254", "not_global"),
    ("169.254.169.254", "link_local"),  # EC2 metadata
    ("169.254.170.2", "link_local"),  # ECS credentials endpoint
    ("fe80::1", "link_local"),
    ("224.0.0.1", "multicast"),
    ("239.255.255.250", "multicast"),
    ("ff02::1", "multicast"),
    ("0.0.0.0", "unspecified"),
    ("::", "unspecified"),
    ("fc00::1", "private"),  # ULA
    ("fd12:3456::1", "private"),
    ("240.0.0.1", "private"),  # reserved (is_private in 3.11)
    ("255.255.255.255", "private"),
    ("192.0.2.10", "private"),  # documentation
    ("198.18.0.1", "private"),  # benchmarking
    ("::7f00:1", "reserved"),  # IPv4-compatible (deprecated)
    ("64:ff9b:1::1", "not_global"),  # local-use NAT64
]


@pytest.mark.parametrize(("address", "reason"), REFUSED_ADDRESSES)
def test_internal_addresses_are_refused(address: str, reason: str) -> None:
    import ipaddress

    assert ssrf.address_problem(ipaddress.ip_address(address)) == reason
    with pytest.raises(ssrf.UnsafeWebhookURL) as raised:
        ssrf.checked_addresses("hook.example.com", 443, resolver=lambda h, p: [address])
    assert raised.value.reason == "address"


@pytest.mark.parametrize(
    "address",
    [
        "93.184.216.34",
        "8.8.8.8",
        "2606:4700:4700::1111",
        "::ffff:93.184.216.34",
        "64:ff9b::808:808",
    ],
)
def test_public_addresses_pass(address: str) -> None:
    assert ssrf.checked_addresses("hook.example.com", 443, resolver=lambda h, p: [address]) == [
        __import__("ipaddress").ip_address(address).compressed
    ]


def test_one_internal_answer_among_public_ones_is_refused() -> None:
    with pytest.raises(ssrf.UnsafeWebhookURL):
        ssrf.checked_addresses(
            "hook.example.com", 443, resolver=lambda h, p: ["93.184.216.34", "10.0.0.1"]
        )


@pytest.mark.parametrize(
    "url",
    [
        "http://2130706433/",  # decimal
        "http://0x7f000001/",  # hex
        "http://0177.0.0.1/",  # octal
        "http://127.1/",  # short form
        "http://0x7f.0.0.1/",
        "http://017700000001/",
        "http://127.0.0.1./",
    ],
)
def test_numeric_spellings_are_refused(url: str) -> None:
    with pytest.raises(ssrf.UnsafeWebhookURL) as raised:
        ssrf.check_url(url, allowed_ports=PORTS, allow_loopback=True)
    assert raised.value.reason in ("ip_spelling", "address")


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("ftp://example.com/", "scheme"),
        ("file:///etc/passwd", "scheme"),
        ("gopher://example.com/", "scheme"),
        ("https://user:pw@example.com/", "userinfo"),
        ("https://example.com:8443/", "port"),
        ("http://example.com:22/", "port"),
        ("https:///path", "malformed"),
        ("https://exa mple.com/", "malformed"),
        ("https://[fe80::1%25eth0]/", "host"),
        ("http://bad_host!/", "host"),
    ],
)
def test_url_shapes_are_refused(url: str, reason: str) -> None:
    with pytest.raises(ssrf.UnsafeWebhookURL) as raised:
        ssrf.check_url(url, allowed_ports=PORTS, resolver=lambda h, p: ["93.184.216.34"])
    assert raised.value.reason == reason


def test_ipv6_literal_urls_are_checked() -> None:
    with pytest.raises(ssrf.UnsafeWebhookURL):
        ssrf.check_url("http://[::ffff:169.254.169.254]/", allowed_ports=PORTS)
    target = ssrf.check_url("https://[2606:4700:4700::1111]/hook", allowed_ports=PORTS)
    assert target.port == 443


def test_loopback_only_when_allowed() -> None:
    with pytest.raises(ssrf.UnsafeWebhookURL):
        ssrf.check_url("http://127.0.0.1/", allowed_ports=PORTS)
    assert ssrf.check_url("http://127.0.0.1/", allowed_ports=PORTS, allow_loopback=True)
    # The flag allows loopback only: private and metadata addresses stay refused.
    with pytest.raises(ssrf.UnsafeWebhookURL):
        ssrf.check_url("http://169.254.169.254/", allowed_ports=PORTS, allow_loopback=True)


@pytest.mark.parametrize("env", ["aws"])
def test_loopback_flag_is_refused_outside_local_and_test(env: str) -> None:
    with pytest.raises(SettingsError, match=names.ENV_ALLOW_LOOPBACK_WEBHOOKS):
        NotificationSettings.from_env({names.ENV_ENV: env, names.ENV_ALLOW_LOOPBACK_WEBHOOKS: "1"})
    for allowed in ("local", "test"):
        settings = NotificationSettings.from_env(
            {names.ENV_ENV: allowed, names.ENV_ALLOW_LOOPBACK_WEBHOOKS: "1"}
        )
        assert settings.allow_loopback_webhooks


def test_test_seams_are_refused_outside_test() -> None:
    with pytest.raises(SettingsError, match="test seams"):
        NotificationSettings.from_env({names.ENV_ENV: "local", names.ENV_TEST_SES_FAULTS: "1"})


def test_one_tenant_may_not_hold_every_resolver_thread() -> None:
    with pytest.raises(SettingsError, match=names.ENV_WEBHOOK_RESOLVES_PER_TENANT):
        NotificationSettings.from_env(
            {
                names.ENV_WEBHOOK_RESOLVER_THREADS: "8",
                names.ENV_WEBHOOK_RESOLVES_PER_TENANT: "8",
            }
        )
    settings = NotificationSettings.from_env({names.ENV_WEBHOOK_RESOLVER_THREADS: "8"})
    assert settings.webhook_resolves_per_tenant < settings.webhook_resolver_threads


def test_backend_checks_before_connecting() -> None:
    connects: list[tuple[str, int]] = []

    class RecordingBackend(httpcore.SyncBackend):
        def connect_tcp(self, host: str, port: int, *args: object, **kwargs: object) -> object:
            connects.append((host, port))
            raise httpcore.ConnectError("fake: no network in unit tests")

    backend = CheckedNetworkBackend(resolver=lambda h, p: ["10.0.0.5"], inner=RecordingBackend())
    with pytest.raises(ssrf.UnsafeWebhookURL):
        backend.connect_tcp("hook.example.com", 443)
    assert connects == []

    public = CheckedNetworkBackend(
        resolver=lambda h, p: ["93.184.216.34"], inner=RecordingBackend()
    )
    with pytest.raises(httpcore.ConnectError):
        public.connect_tcp("hook.example.com", 443)
    # The checked IP is what gets connected to, never the hostname (no second lookup).
    assert connects == [("93.184.216.34", 443)]
