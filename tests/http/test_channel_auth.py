"""Only the Bot Framework channel may speak for a user at ``/api/messages``.

Attacks as an insider would try them, in production mode (see ``conftest.py``): the user's
own tab SSO token, tokens from made-up or other issuers, tokens without an expiry or with a
list as issuer, and a genuine channel token replayed with another ``serviceUrl``. Each gets a
401, nothing is stored and nothing is sent anywhere. The happy path runs end to end: the
channel's keys from its OpenID metadata, the bot's own token from Entra ID, the reply
delivered to the connector, all through the proxy.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import jwt
import pytest

from tests.http.conftest import BOT_ID, BOT_SECRET, OTHER_TENANT, SERVICE_URL, TENANT, Production
from tests.support.activities import TeamsUser
from tests.support.tokens import SigningKey, claims, unsigned

VICTIM = "00000000-0000-4000-8000-00000000beef"
UNAUTHORIZED = {"error": "unauthorized"}


def _bearer(token: str) -> str:
    return f"Bearer {token}"


async def _assert_refused(
    production: Production, activity: dict[str, Any], authorization: str | None
) -> None:
    started = time.monotonic()
    status, body = await production.post(activity, authorization)
    assert status == 401
    assert body == UNAUTHORIZED, "no detail about why"
    assert time.monotonic() - started < 6
    assert production.store._profiles == {}, "nothing stored"
    assert production.store._contacts == {}
    assert production.connector.sent == [], "nothing sent"
    assert production.tunnel.connects["smba.trafficmanager.net"] == 0


# --- the happy path ---------------------------------------------------------------------


async def test_a_channel_token_runs_the_whole_turn_and_the_reply_is_delivered(
    production: Production,
) -> None:
    user = production.user()
    status, _ = await production.post(user.installed(), _bearer(production.token()))
    assert status in (200, 202)
    assert len(production.connector.sent) == 1, "the welcome reached the connector"
    sent = production.connector.sent[0]
    assert sent.conversation_id == user.conversation_id
    assert "welcome" in str(sent.activity).lower()
    token = (sent.authorization or "").removeprefix("Bearer ")
    bot_claims = jwt.decode(token, options={"verify_signature": False})
    assert bot_claims["aud"] == "https://api.botframework.com"
    assert bot_claims["appid"] == BOT_ID
    assert production.idp.grants["client_credentials"] >= 1

    status, body = await production.post(
        user.invoke("choose_role", {"role": "hr"}), _bearer(production.token())
    )
    assert status == 200 and body["statusCode"] == 200
    assert body["type"] == "application/vnd.microsoft.card.adaptive"
    stored = production.store._profiles
    assert [key.user_id for key in stored] == [user.aad_object_id]
    assert production.tunnel.connects["login.botframework.com"] >= 1
    assert production.tunnel.refused == {}, "nothing else was contacted"


async def test_channel_tokens_within_the_five_minute_skew_are_accepted(
    production: Production,
) -> None:
    now = int(time.time())
    late = production.token(exp=now - 240, nbf=now - 600)
    early = production.token(nbf=now + 240)
    for token in (late, early):
        status, _ = await production.post(production.user().invoke("show_help"), _bearer(token))
        assert status == 200


# --- impersonation ------------------------------------------------------------------------


def _user_sso(production: Production, **extra: Any) -> dict[str, Any]:
    """The claims of the tab's own SSO token, as Entra ID issues it."""
    now = int(time.time())
    base = {
        "aud": BOT_ID,
        "iss": f"https://login.microsoftonline.com/{TENANT}/v2.0",
        "iat": now,
        "nbf": now,
        "exp": now + 3600,
        "scp": "access_as_user",
        "tid": TENANT,
        "oid": "00000000-0000-4000-8000-000000000001",
        "ver": "2.0",
        "serviceurl": SERVICE_URL,
    }
    return base | extra


def _victim(production: Production) -> dict[str, Any]:
    """A card action that claims to come from another learner."""
    return production.user(aad_object_id=VICTIM).invoke("confirm_delete_data")


async def test_the_users_own_tab_sso_token_is_refused(production: Production) -> None:
    token = production.idp.signing_key.sign(_user_sso(production))
    await _assert_refused(production, _victim(production), _bearer(token))
    assert production.botframework.requests["keys"] == 0, "refused before any key fetch"


@pytest.mark.parametrize(
    ("case", "change"),
    [
        ("user token, signed with a channel key", {}),
        ("made-up issuer", {"iss": "https://issuer.example.com", "scp": None}),
        ("v1 Entra issuer", {"iss": f"https://sts.windows.net/{TENANT}/", "scp": None}),
        (
            "another tenant's issuer",
            {"iss": f"https://login.microsoftonline.com/{OTHER_TENANT}/v2.0", "scp": None},
        ),
        ("an Entra app token", {"iss": f"https://sts.windows.net/{TENANT}/", "idtyp": "app"}),
        ("channel issuer but user-delegated", {"iss": "https://api.botframework.com"}),
        ("issuer as a list", {"iss": ["https://api.botframework.com"], "scp": None}),
    ],
)
async def test_tokens_from_other_issuers_are_refused_even_with_a_trusted_key(
    production: Production, case: str, change: dict[str, Any]
) -> None:
    forged = {k: v for k, v in (_user_sso(production) | change).items() if v is not None}
    token = production.botframework.key.sign_raw(forged)
    await _assert_refused(production, _victim(production), _bearer(token))


async def test_an_app_token_from_entra_for_the_bots_id_is_refused(
    production: Production,
) -> None:
    # What any app in the tenant can get with client credentials for the bot's audience.
    token = production.idp.signing_key.sign(
        _user_sso(production, iss=f"https://sts.windows.net/{TENANT}/", scp=None, idtyp="app")
    )
    await _assert_refused(production, _victim(production), _bearer(token))


@dataclass(frozen=True)
class FromNow:
    """A time claim, in seconds from when the test runs."""

    seconds: int


OTHER = SigningKey("bf-channel-key")  # the channel key's id, a different key: a forgery
STRANGER = SigningKey("unknown-kid")


@pytest.mark.parametrize(
    ("case", "authorization"),
    [
        ("missing", None),
        ("empty", ""),
        ("not bearer", "Basic dXNlcjpwYXNz"),
        ("garbage", "Bearer not.a.jwt"),
        ("two parts", "Bearer abc def"),
        ("alg none", "Bearer " + unsigned(claims(BOT_ID, "https://api.botframework.com"))),
        (
            "HS256 with the client secret",
            "Bearer "
            + jwt.encode(
                claims(BOT_ID, "https://api.botframework.com", serviceurl=SERVICE_URL),
                BOT_SECRET,
                "HS256",
                headers={"kid": "bf-channel-key"},
            ),
        ),
    ],
)
async def test_malformed_and_unsigned_tokens_are_refused(
    production: Production, case: str, authorization: str | None
) -> None:
    await _assert_refused(production, _victim(production), authorization)


@pytest.mark.parametrize(
    ("case", "overrides", "key"),
    [
        ("forged signature", {}, OTHER),
        ("unknown key id", {}, STRANGER),
        ("no expiry", {"exp": None}, None),
        ("expired past the skew", {"exp": FromNow(-400)}, None),
        ("not valid yet", {"nbf": FromNow(400)}, None),
        ("non-numeric expiry", {"exp": "tomorrow"}, None),
        ("wrong audience", {"aud": "00000000-0000-4000-8000-000000000000"}, None),
        ("audience list", {"aud": [BOT_ID]}, None),
        ("no serviceurl claim", {"serviceurl": None}, None),
    ],
)
async def test_flawed_channel_tokens_are_refused(
    production: Production, case: str, overrides: dict[str, Any], key: SigningKey | None
) -> None:
    now = int(time.time())  # times relative to when the test runs, not when it was collected
    overrides = {k: now + v.seconds if isinstance(v, FromNow) else v for k, v in overrides.items()}
    token = production.botframework.channel_token(BOT_ID, SERVICE_URL, key=key, **overrides)
    await _assert_refused(production, _victim(production), _bearer(token))


async def test_a_channel_token_for_another_service_url_is_refused(
    production: Production,
) -> None:
    token = production.token("https://smba.trafficmanager.net/emea/")
    await _assert_refused(production, production.user().invoke("show_help"), _bearer(token))


async def test_a_body_cannot_send_the_bots_replies_elsewhere(production: Production) -> None:
    evil = "https://collector.example.net/"
    user = TeamsUser(service_url=evil, tenant_id=TENANT)
    # Even with a token that names that URL (the channel would never sign one): refused by
    # the outbound allow-list before anything is processed.
    await _assert_refused(production, user.message("help"), _bearer(production.token(evil)))
    assert production.tunnel.refused == {}, "no connection was even attempted"


async def test_a_key_not_endorsed_for_teams_is_refused(production: Production) -> None:
    production.botframework.endorsements = ["webchat"]
    await _assert_refused(
        production, production.user().invoke("show_help"), _bearer(production.token())
    )


async def test_an_unreachable_key_endpoint_refuses_quickly(production: Production) -> None:
    production.botframework.unavailable = True
    await _assert_refused(
        production, production.user().invoke("show_help"), _bearer(production.token())
    )
