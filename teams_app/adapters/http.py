"""Outbound HTTP: one aiohttp session per process, with proxy and TLS decided once at start.

aiohttp's ``trust_env`` re-reads proxy variables and ``~/.netrc`` on every request, the
latter in the default thread pool; a stall there (or in a JWKS download queued beside it)
once froze every storage call. So nothing here trusts the environment per request: the
proxy (``HTTPS_PROXY``, with ``NO_PROXY`` exceptions) is resolved from settings when the
process starts, and the TLS context is built once (it honours ``SSL_CERT_FILE``, which is how
a private CA is trusted).
"""

from __future__ import annotations

import ipaddress
import ssl
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlparse

import aiohttp

CONNECT_TIMEOUT_SECONDS = 3.0
TOTAL_TIMEOUT_SECONDS = 10.0


def proxy_policy(https_proxy: str, no_proxy: str) -> Callable[[str], str | None]:
    """``url -> proxy or None``: the proxy for every host except loopback and ``no_proxy``
    entries (``host``, ``.domain`` or ``domain`` suffixes, ``*`` for none at all)."""
    if not https_proxy:
        return lambda _url: None
    rules = [r.strip().lower().lstrip("*") for r in no_proxy.split(",") if r.strip()]
    if "" in rules:  # '*' bypasses everything
        return lambda _url: None

    def proxy_for(url: str) -> str | None:
        host = (urlparse(url).hostname or "").lower()
        if _is_loopback(host):
            return None
        for rule in rules:
            if host == rule.lstrip(".") or host.endswith(
                rule if rule.startswith(".") else f".{rule}"
            ):
                return None
        return https_proxy

    return proxy_for


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@dataclass(frozen=True, slots=True)
class OutboundHttp:
    """The process's HTTP client: session, TLS context and proxy choice."""

    session: aiohttp.ClientSession
    ssl: ssl.SSLContext
    proxy: Callable[[str], str | None]

    async def close(self) -> None:
        """Close the session."""
        await self.session.close()


def open_outbound_http(https_proxy: str = "", no_proxy: str = "") -> OutboundHttp:
    """A new outbound client (call inside a running event loop; close it at shutdown)."""
    context = ssl.create_default_context()
    session = aiohttp.ClientSession(
        timeout=aiohttp.ClientTimeout(total=TOTAL_TIMEOUT_SECONDS, connect=CONNECT_TIMEOUT_SECONDS),
        connector=aiohttp.TCPConnector(ssl=context, limit=256),
        trust_env=False,
    )
    return OutboundHttp(session, context, proxy_policy(https_proxy, no_proxy))
