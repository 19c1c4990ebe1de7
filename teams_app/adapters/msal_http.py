"""What every MSAL client of ours shares: its thread pool, HTTP timeouts and authority rules.

MSAL Python is synchronous. Its calls run on a small pool of their own (never the default
executor, which other I/O shares), and every HTTP request it makes has a timeout.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any
from urllib.parse import urlparse

import requests

MICROSOFT_AUTHORITY_HOSTS = frozenset(
    {
        "login.microsoftonline.com",
        "login.microsoft.com",
        "login.windows.net",
        "login.microsoftonline.us",
        "login.chinacloudapi.cn",
        "login.partner.microsoftonline.cn",
    }
)


def msal_executor() -> ThreadPoolExecutor:
    """The thread pool MSAL calls run on."""
    return ThreadPoolExecutor(max_workers=4, thread_name_prefix="msal")


def authority_options(authority: str) -> dict[str, bool]:
    """MSAL validates unknown authority hosts through Microsoft's instance discovery, which a
    non-Microsoft host (a local test identity provider) is not listed in: turn that off."""
    if urlparse(authority).hostname in MICROSOFT_AUTHORITY_HOSTS:
        return {}
    return {"instance_discovery": False, "validate_authority": False}


class TimeoutHttpClient:
    """A ``requests.Session`` for MSAL with a timeout on every call."""

    def __init__(self, session: requests.Session, timeout: float) -> None:
        self._session = session
        self._timeout = timeout

    def get(self, *args: Any, **kwargs: Any) -> requests.Response:
        kwargs.setdefault("timeout", self._timeout)
        return self._session.get(*args, **kwargs)

    def post(self, *args: Any, **kwargs: Any) -> requests.Response:
        kwargs.setdefault("timeout", self._timeout)
        return self._session.post(*args, **kwargs)

    def close(self) -> None:
        self._session.close()
