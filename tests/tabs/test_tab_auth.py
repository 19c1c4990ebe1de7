"""Tab SSO token validation against the local Entra ID (real HTTPS key fetches)."""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import ssl
import time
from collections.abc import Callable
from typing import Any

import aiohttp
import jwt
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from server.tab_auth import TabAuthError, TabIdentity, TabTokenValidator, bearer_token
from teams_app.adapters.http import OutboundHttp
from tests.support.idp import LocalIdentityProvider, TestCA
from tests.support.tokens import SigningKey, unsigned

from .conftest import (
    APP_ID_URI,
    AUDIENCES,
    CLIENT_ID,
    CLIENT_SECRET,
    OTHER_TENANT,
    TENANT,
    USER,
    no_proxy,
)


class FakeClock:
    """Wall-clock time that a test can move forward."""

    def __init__(self) -> None:
        self.offset = 0.0

    def __call__(self) -> float:
        return time.time() + self.offset


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def make_validator(
    idp: LocalIdentityProvider, http: aiohttp.ClientSession, test_ca: TestCA, clock: FakeClock
) -> Callable[..., TabTokenValidator]:
    def make(**options: Any) -> TabTokenValidator:
        arguments: dict[str, Any] = {
            "authority": idp.url,
            "allowed_tenants": None,
            "http": OutboundHttp(http, test_ca.client_context(), no_proxy),
            "clock": clock,
        }
        return TabTokenValidator(AUDIENCES, **(arguments | options))

    return make


@pytest.fixture
def validator(make_validator: Callable[..., TabTokenValidator]) -> TabTokenValidator:
    return make_validator()


def token_for(idp: LocalIdentityProvider, **options: Any) -> str:
    """A Teams SSO token for the test user; ``options`` go to ``sso_token``."""
    arguments: dict[str, Any] = {"aud": CLIENT_ID}
    return idp.sso_token(TENANT, USER, "Ada Lovelace", **(arguments | options))


async def refused(validator: TabTokenValidator, token: str) -> str:
    """The reason ``token`` is refused (fails the test if it is accepted)."""
    with pytest.raises(TabAuthError) as caught:
        await validator.validate(token)
    assert str(caught.value) == "invalid token"
    return caught.value.reason


def segment(value: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()


# --- accepted ----------------------------------------------------------------------------


async def test_a_valid_token_gives_the_identity_from_its_claims(
    idp: LocalIdentityProvider, validator: TabTokenValidator
) -> None:
    token = token_for(idp)

    identity = await validator.validate(token)

    assert identity == TabIdentity(tenant_id=TENANT, user_id=USER, name="Ada Lovelace", token=token)
    assert token not in repr(identity)


@pytest.mark.parametrize("aud", [CLIENT_ID, APP_ID_URI])
async def test_the_client_id_and_the_application_id_uri_are_accepted_audiences(
    idp: LocalIdentityProvider, validator: TabTokenValidator, aud: str
) -> None:
    assert (await validator.validate(token_for(idp, aud=aud))).user_id == USER


async def test_an_allowed_tenant_is_accepted(
    idp: LocalIdentityProvider, make_validator: Callable[..., TabTokenValidator]
) -> None:
    validator = make_validator(allowed_tenants=frozenset({TENANT.upper(), OTHER_TENANT}))

    assert (await validator.validate(token_for(idp))).tenant_id == TENANT


async def test_clock_skew_within_the_leeway_is_tolerated(
    idp: LocalIdentityProvider, validator: TabTokenValidator
) -> None:
    now = int(time.time())
    just_expired = token_for(idp, exp=now - 30)
    almost_valid = token_for(idp, nbf=now + 30)

    assert (await validator.validate(just_expired)).user_id == USER
    assert (await validator.validate(almost_valid)).user_id == USER


# --- refused: claims ---------------------------------------------------------------------


async def test_an_expired_token_is_refused(
    idp: LocalIdentityProvider, validator: TabTokenValidator
) -> None:
    assert await refused(validator, token_for(idp, lifetime=-120)) == "expired"


async def test_a_token_used_after_expiry_plus_leeway_is_refused(
    idp: LocalIdentityProvider, validator: TabTokenValidator, clock: FakeClock
) -> None:
    token = token_for(idp, lifetime=600)
    await validator.validate(token)

    clock.offset = 600 + 61

    assert await refused(validator, token) == "expired"


async def test_a_token_not_yet_valid_is_refused(
    idp: LocalIdentityProvider, validator: TabTokenValidator
) -> None:
    token = token_for(idp, nbf=int(time.time()) + 300)

    assert await refused(validator, token) == "not yet valid"


@pytest.mark.parametrize("claim", ["exp", "nbf"])
async def test_a_token_without_exp_or_nbf_is_refused(
    idp: LocalIdentityProvider, validator: TabTokenValidator, claim: str
) -> None:
    assert await refused(validator, token_for(idp, **{claim: None})) == "missing exp or nbf"


@pytest.mark.parametrize(
    "aud",
    [
        "00000003-0000-0000-c000-000000000000",  # Graph's id: a token for someone else
        f"api://ai-ready.example.com/{CLIENT_ID}x",
        # Another host's Application ID URI ending in our client id: any app registration
        # could claim such a URI, so only the configured one is accepted.
        f"api://{CLIENT_ID}",
        f"api://evil.example.net/{CLIENT_ID}",
        f"https://ai-ready.example.com/{CLIENT_ID}",
        f"{CLIENT_ID}/",
        "",
    ],
)
async def test_a_token_for_another_audience_is_refused(
    idp: LocalIdentityProvider, validator: TabTokenValidator, aud: str
) -> None:
    assert await refused(validator, token_for(idp, aud=aud)) == "wrong audience"


async def test_an_audience_list_is_refused(
    idp: LocalIdentityProvider, validator: TabTokenValidator
) -> None:
    assert await refused(validator, token_for(idp, aud=[CLIENT_ID])) == "wrong audience"


@pytest.mark.parametrize(
    "issuer",
    [
        "https://login.microsoftonline.com/{tid}/v2.0",  # right form, other host
        "https://sts.windows.net/{tid}/",  # a v1.0 token
        "{idp}/" + OTHER_TENANT + "/v2.0",  # another tenant's issuer
        "{idp}/{tid}/v2.0/",
    ],
)
async def test_a_token_from_another_issuer_is_refused(
    idp: LocalIdentityProvider, validator: TabTokenValidator, issuer: str
) -> None:
    token = token_for(idp, iss=issuer.format(idp=idp.url, tid=TENANT))

    assert await refused(validator, token) == "wrong issuer"


async def test_a_tenant_not_allowed_is_refused_without_fetching_keys(
    idp: LocalIdentityProvider, make_validator: Callable[..., TabTokenValidator]
) -> None:
    validator = make_validator(allowed_tenants=frozenset({OTHER_TENANT}))

    assert await refused(validator, token_for(idp)) == "tenant not allowed"
    assert idp.requests["keys"] == 0


@pytest.mark.parametrize("tid", ["contoso.onmicrosoft.com", "common", "../../evil", None])
async def test_a_tenant_id_that_is_not_a_guid_is_refused_without_fetching_keys(
    idp: LocalIdentityProvider, validator: TabTokenValidator, tid: str | None
) -> None:
    assert await refused(validator, token_for(idp, tid=tid)) == "tenant id is not a GUID"
    assert idp.requests["keys"] == 0


async def test_a_token_without_scope_is_refused(
    idp: LocalIdentityProvider, validator: TabTokenValidator
) -> None:
    assert await refused(validator, token_for(idp, scp=None)) == "missing scope"


@pytest.mark.parametrize("scp", ["User.Read", "access_as_user_admin", "xaccess_as_user", ""])
async def test_a_token_without_access_as_user_is_refused(
    idp: LocalIdentityProvider, validator: TabTokenValidator, scp: str
) -> None:
    assert await refused(validator, token_for(idp, scp=scp)) == "missing scope"


async def test_access_as_user_among_other_scopes_is_accepted(
    idp: LocalIdentityProvider, validator: TabTokenValidator
) -> None:
    token = token_for(idp, scp="User.Read access_as_user")

    assert (await validator.validate(token)).user_id == USER


@pytest.mark.parametrize("oid", [None, ""])
async def test_a_token_without_oid_is_refused(
    idp: LocalIdentityProvider, validator: TabTokenValidator, oid: str | None
) -> None:
    assert await refused(validator, token_for(idp, oid=oid)) == "missing oid"


# --- refused: signature and format -------------------------------------------------------


async def test_a_token_signed_by_another_key_with_a_published_kid_is_refused(
    idp: LocalIdentityProvider, validator: TabTokenValidator
) -> None:
    impostor = SigningKey(idp.signing_key.kid)  # same kid, different private key

    assert await refused(validator, token_for(idp, key=impostor)) == "bad signature"


async def test_a_tampered_payload_is_refused(
    idp: LocalIdentityProvider, validator: TabTokenValidator
) -> None:
    header, _, signature = token_for(idp).split(".")
    claims = jwt.decode(token_for(idp), options={"verify_signature": False})
    forged = f"{header}.{segment(claims | {'oid': 'someone-else'})}.{signature}"

    assert await refused(validator, forged) == "bad signature"


async def test_alg_none_is_refused(
    idp: LocalIdentityProvider, validator: TabTokenValidator
) -> None:
    claims = jwt.decode(token_for(idp), options={"verify_signature": False})

    assert await refused(validator, unsigned(claims)) == "algorithm not allowed"
    assert idp.requests["keys"] == 0


@pytest.mark.parametrize("secret", [CLIENT_SECRET, CLIENT_ID])
async def test_hs256_signed_with_the_app_credentials_is_refused(
    idp: LocalIdentityProvider, validator: TabTokenValidator, secret: str
) -> None:
    claims = jwt.decode(token_for(idp), options={"verify_signature": False})
    # the published RSA key's PEM would be the classic "key confusion" secret; ours too
    token = jwt.encode(
        claims, secret.ljust(32, "!"), algorithm="HS256", headers={"kid": idp.signing_key.kid}
    )

    assert await refused(validator, token) == "algorithm not allowed"


async def test_a_token_without_kid_is_refused(
    idp: LocalIdentityProvider, validator: TabTokenValidator
) -> None:
    claims = jwt.decode(token_for(idp), options={"verify_signature": False})
    token = jwt.encode(claims, idp.signing_key.private, algorithm="RS256")

    assert await refused(validator, token) == "no key id"


@pytest.mark.parametrize(
    "token",
    [
        "",
        "garbage",
        "a.b.c",
        "a.b",
        "...",
        f"{segment({'alg': 'RS256', 'kid': 'k'})}.not-base64!.sig",
        f"{segment({'alg': 'RS256', 'kid': 'k'})}.{segment(['a', 'list'])}.sig",
        f"{segment('just a string')}.{segment({})}.sig",
    ],
)
async def test_garbage_is_refused(validator: TabTokenValidator, token: str) -> None:
    assert await refused(validator, token) in {"malformed", "algorithm not allowed"}


async def test_a_non_string_is_refused(validator: TabTokenValidator) -> None:
    assert await refused(validator, None) == "malformed"  # type: ignore[arg-type]


@settings(max_examples=150, deadline=None)
@given(
    st.one_of(
        st.text(max_size=300),
        st.tuples(
            st.dictionaries(st.sampled_from(["alg", "kid", "typ"]), st.text(max_size=10)),
            st.dictionaries(st.sampled_from(["tid", "oid", "exp", "aud"]), st.text(max_size=40)),
            st.text(max_size=20),
        ).map(lambda parts: f"{segment(parts[0])}.{segment(parts[1])}.{parts[2]}"),
    )
)
def test_arbitrary_input_is_only_ever_refused(token: str) -> None:
    async def run() -> None:
        async with aiohttp.ClientSession() as session:
            validator = TabTokenValidator(
                AUDIENCES,
                authority="https://127.0.0.1:9",
                allowed_tenants=None,
                http=OutboundHttp(session, ssl.create_default_context(), no_proxy),
            )
            with pytest.raises(TabAuthError):
                await validator.validate(token)

    asyncio.run(run())


# --- the issuer's keys --------------------------------------------------------------------


async def test_keys_are_fetched_once_for_many_validations(
    idp: LocalIdentityProvider, validator: TabTokenValidator
) -> None:
    for _ in range(25):
        await validator.validate(token_for(idp))

    assert idp.requests["keys"] == 1


async def test_concurrent_first_validations_share_one_key_fetch(
    idp: LocalIdentityProvider, validator: TabTokenValidator
) -> None:
    idp.delays["keys"] = 0.2
    tokens = [token_for(idp) for _ in range(20)]

    identities = await asyncio.gather(*(validator.validate(t) for t in tokens))

    assert {i.user_id for i in identities} == {USER}
    assert idp.requests["keys"] == 1


async def test_keys_are_cached_per_tenant(
    idp: LocalIdentityProvider, validator: TabTokenValidator
) -> None:
    other = idp.sso_token(OTHER_TENANT, USER, "Ada", aud=CLIENT_ID)

    await validator.validate(token_for(idp))
    await validator.validate(other)
    await validator.validate(other)

    assert idp.requests["keys"] == 2


async def test_an_unknown_kid_triggers_one_refresh_then_is_rate_limited(
    idp: LocalIdentityProvider, validator: TabTokenValidator, clock: FakeClock
) -> None:
    await validator.validate(token_for(idp))
    assert idp.requests["keys"] == 1

    assert await refused(validator, token_for(idp, key=SigningKey("made-up-1"))) == (
        "unknown key id"
    )
    assert idp.requests["keys"] == 2

    assert await refused(validator, token_for(idp, key=SigningKey("made-up-2"))) == (
        "unknown key id"
    )
    assert idp.requests["keys"] == 2  # within the interval: no new fetch

    clock.offset = 61
    await refused(validator, token_for(idp, key=SigningKey("made-up-3")))
    assert idp.requests["keys"] == 3  # the interval has passed


async def test_a_rotated_in_key_is_picked_up_by_one_refresh(
    idp: LocalIdentityProvider, validator: TabTokenValidator
) -> None:
    old = token_for(idp)
    await validator.validate(old)

    new_key = idp.add_key()
    identity = await validator.validate(token_for(idp))

    assert identity.user_id == USER
    assert idp.signing_key is new_key
    assert idp.requests["keys"] == 2
    await validator.validate(old)  # the old key is still published
    await validator.validate(token_for(idp))
    assert idp.requests["keys"] == 2


async def test_an_unreachable_identity_provider_is_refused_quickly(
    idp: LocalIdentityProvider,
    make_validator: Callable[..., TabTokenValidator],
    closed_port_url: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    validator = make_validator(authority=closed_port_url)
    token = idp.sso_token(
        TENANT, USER, "Ada", aud=CLIENT_ID, iss=f"{closed_port_url}/{TENANT}/v2.0"
    )
    started = time.monotonic()

    with caplog.at_level(logging.DEBUG, logger="server"):
        assert await refused(validator, token) == "keys unavailable"

    assert time.monotonic() - started < 2
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert [r.getMessage() for r in warnings] == [
        "could not fetch token signing keys: ClientConnectorError"
    ]


async def test_a_failing_key_endpoint_is_retried_only_after_a_back_off(
    idp: LocalIdentityProvider, validator: TabTokenValidator, clock: FakeClock
) -> None:
    idp.unavailable.add("keys")
    token = token_for(idp)

    assert await refused(validator, token) == "keys unavailable"
    assert await refused(validator, token) == "keys unavailable"
    assert idp.requests["keys"] == 1

    idp.unavailable.clear()
    clock.offset = 6
    assert (await validator.validate(token)).user_id == USER
    assert idp.requests["keys"] == 2


async def test_a_stalled_key_endpoint_does_not_block_the_event_loop(
    idp: LocalIdentityProvider, validator: TabTokenValidator
) -> None:
    idp.delays["keys"] = 0.3
    ticks = 0

    async def tick() -> None:
        nonlocal ticks
        while True:
            await asyncio.sleep(0.01)
            ticks += 1

    ticker = asyncio.create_task(tick())
    try:
        await validator.validate(token_for(idp))
    finally:
        ticker.cancel()

    assert ticks >= 15  # ~30 if the loop ran freely during the 0.3 s fetch


async def test_logs_never_contain_the_token(
    idp: LocalIdentityProvider,
    validator: TabTokenValidator,
    caplog: pytest.LogCaptureFixture,
) -> None:
    tokens = [
        token_for(idp),
        token_for(idp, lifetime=-600),
        token_for(idp, aud="someone-else"),
        token_for(idp, key=SigningKey("nope")),
    ]
    with caplog.at_level(logging.DEBUG):
        for token in tokens:
            try:
                await validator.validate(token)
            except TabAuthError as err:
                assert token not in str(err)

    assert caplog.records, "refusals are logged"
    for token in tokens:
        for part in token.split("."):
            assert part not in caplog.text


# --- the Authorization header ------------------------------------------------------------


def test_bearer_token_reads_the_token() -> None:
    assert bearer_token("Bearer abc.def.ghi") == "abc.def.ghi"
    assert bearer_token("bearer  abc.def.ghi ") == "abc.def.ghi"


@pytest.mark.parametrize(
    "header", [None, "", "Bearer", "Bearer ", "Basic dXNlcjpwYXNz", "Bearer a b", "abc.def.ghi"]
)
def test_bearer_token_refuses_anything_else(header: str | None) -> None:
    with pytest.raises(TabAuthError) as caught:
        bearer_token(header)
    assert str(caught.value) == "invalid token"
