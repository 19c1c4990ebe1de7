"""``/api/messages`` with bot credentials configured: only valid Bot Connector tokens pass.

The SDK's validator fetches the Bot Connector's signing keys from
login.botframework.com. There is no network here, so the test puts a JWKS with a test key
into the SDK's own key cache for that URL (the validator then runs unchanged: signature,
algorithm, audience, expiry, issuer); any other key id makes it try the real URL, which
fails, and must still end in a quick 401.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import jwt
import pytest
from microsoft_agents.hosting.core.authorization.authentication_constants import (
    AuthenticationConstants,
)
from microsoft_agents.hosting.core.authorization.jwt import jwt_token_validator

from server.app import create_app
from server.config import load_settings
from teams_app.storage.memory import MemoryLearnerStore
from tests.support.activities import TeamsUser
from tests.support.tokens import SigningKey, claims, jwks, unsigned

CLIENT_ID = "6f1c0f7e-1c2d-4c5e-9f00-123456789abc"
TENANT_ID = "11111111-1111-4111-8111-111111111111"
SECRET = "test-client-secret-value-long-enough-for-hs256"
BF_ISSUER = "https://api.botframework.com"
BF_JWKS = AuthenticationConstants.PUBLIC_ABS_JWKS_URL
TRUSTED = SigningKey("trusted-test-key")


@pytest.fixture
def trusted_keys() -> Iterator[None]:
    """Seed the SDK's JWKS cache for the Bot Connector URL with the test key."""
    manager = jwt_token_validator.JwtTokenValidator._jwk_client_manager
    client = jwt.PyJWKClient(BF_JWKS, timeout=2)
    assert client.jwk_set_cache is not None
    client.jwk_set_cache.put(jwt.PyJWKSet.from_dict(jwks(TRUSTED)))
    saved = dict(manager._cache)
    manager._cache[BF_JWKS] = jwt_token_validator._JwkClientCacheEntry(client, threading.Lock())
    try:
        yield
    finally:
        manager._cache.clear()
        manager._cache.update(saved)


@pytest.fixture
async def client(aiohttp_client: Callable[..., Any], trusted_keys: None) -> Any:
    settings = load_settings(
        {
            "AIREADY_BOT_CLIENT_ID": CLIENT_ID,
            "AIREADY_BOT_CLIENT_SECRET": SECRET,
            "AIREADY_BOT_TENANT_ID": TENANT_ID,
            "AIREADY_STORAGE_CONNECTION_STRING": "UseDevelopmentStorage=true",
        }
    )
    return await aiohttp_client(create_app(settings, store=MemoryLearnerStore()))


def _invoke() -> dict[str, Any]:
    return TeamsUser(service_url="https://smba.trafficmanager.net/emea/").invoke("show_help")


async def _post(client: Any, authorization: str | None) -> tuple[int, Any, float]:
    headers = {"Authorization": authorization} if authorization is not None else {}
    started = time.monotonic()
    response = await client.post("/api/messages", json=_invoke(), headers=headers)
    body = await response.json()
    return response.status, body, time.monotonic() - started


async def test_a_valid_bot_connector_token_passes_authentication(
    client: Any, caplog: pytest.LogCaptureFixture
) -> None:
    # Past authentication, the SDK asks Entra ID (through MSAL) for the token of its own
    # replies; Entra ID is not reachable here and MSAL cannot be pointed at a local one
    # through the SDK, so the turn itself fails with a generic 500 after the token passed.
    token = TRUSTED.sign(claims(CLIENT_ID, BF_ISSUER))
    status, body, _ = await _post(client, f"Bearer {token}")
    assert status == 500 and body == {"error": "internal error"}
    assert "bot token rejected" not in caplog.text
    assert "refused" not in caplog.text


OTHER = SigningKey("trusted-test-key")  # same kid, different key: a forgery
STRANGER = SigningKey("unknown-kid")


@pytest.mark.parametrize(
    ("case", "authorization"),
    [
        ("missing", None),
        ("empty", ""),
        ("not bearer", "Basic dXNlcjpwYXNz"),
        ("garbage", "Bearer not.a.jwt"),
        ("two parts", "Bearer abc def"),
        ("alg none", "Bearer " + unsigned(claims(CLIENT_ID, BF_ISSUER))),
        ("forged signature", "Bearer " + OTHER.sign(claims(CLIENT_ID, BF_ISSUER))),
        ("self-signed, unknown kid", "Bearer " + STRANGER.sign(claims(CLIENT_ID, BF_ISSUER))),
        ("no kid", "Bearer " + jwt.encode(claims(CLIENT_ID, BF_ISSUER), TRUSTED.private, "RS256")),
        (
            "HS256 with the secret",
            "Bearer "
            + jwt.encode(
                claims(CLIENT_ID, BF_ISSUER), SECRET, "HS256", headers={"kid": "trusted-test-key"}
            ),
        ),
        ("expired", "Bearer " + TRUSTED.sign(claims(CLIENT_ID, BF_ISSUER, lifetime=-3600))),
        ("wrong audience", "Bearer " + TRUSTED.sign(claims("someone-else", BF_ISSUER))),
        (
            "audience list",
            "Bearer " + TRUSTED.sign(claims(CLIENT_ID, BF_ISSUER) | {"aud": [CLIENT_ID]}),
        ),
    ],
)
async def test_every_bad_token_is_refused_with_401(
    client: Any, case: str, authorization: str | None
) -> None:
    status, body, elapsed = await _post(client, authorization)
    assert status == 401, case
    assert body == {"error": "unauthorized"}, "no detail about why"
    assert elapsed < 6, f"{case} took {elapsed:.1f}s"
