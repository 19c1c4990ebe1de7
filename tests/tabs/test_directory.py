"""GraphDirectory: on-behalf-of through the local Entra ID (MSAL), then the local Graph."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Iterator
from typing import Any

import aiohttp
import msal
import pytest
import requests

from teams_app.adapters.http import OutboundHttp
from teams_app.directory import (
    Directory,
    DirectoryError,
    DirectoryUnavailable,
    GraphDirectory,
    UserProfile,
)
from tests.support.graph_server import LocalGraph
from tests.support.idp import GRAPH, OBO_GRANT, LocalIdentityProvider

from .conftest import CLIENT_ID, CLIENT_SECRET, OTHER_TENANT, TENANT, USER

TEAM = "9f8e7d6c-5b4a-4392-8170-6f5e4d3c2b1a"
OWNER = "0a1b2c3d-4e5f-4a6b-9c8d-7e6f5a4b3c2d"
MEMBERS = [f"00000000-0000-4000-8000-00000000000{i}" for i in range(1, 6)]


@pytest.fixture
def make_directory(
    idp: LocalIdentityProvider,
    graph: LocalGraph,
    trusting_outbound: OutboundHttp,
    msal_http: requests.Session,
) -> Iterator[Callable[..., GraphDirectory]]:
    made: list[GraphDirectory] = []

    def make(**options: Any) -> GraphDirectory:
        arguments: dict[str, Any] = {
            "authority": idp.url,
            "graph_url": graph.url,
            "http": trusting_outbound,
            "http_client": msal_http,
        }
        secret = options.pop("client_secret", CLIENT_SECRET)
        directory = GraphDirectory(CLIENT_ID, secret, **(arguments | options))
        made.append(directory)
        return directory

    yield make
    for directory in made:
        directory.close()


@pytest.fixture
def directory(make_directory: Callable[..., GraphDirectory]) -> GraphDirectory:
    return make_directory()


@pytest.fixture
def user_token(idp: LocalIdentityProvider, graph: LocalGraph) -> str:
    """The tab user's SSO token; the user and their team exist in the directory."""
    graph.add_user(TENANT, USER, "Ada Lovelace", department="Finance", job_title="Analyst")
    graph.add_group(TENANT, TEAM, owners=[OWNER, USER], members=MEMBERS)
    return idp.sso_token(
        TENANT, USER, "Ada Lovelace", aud=f"api://ai-ready.example.com/{CLIENT_ID}"
    )


# --- happy paths -------------------------------------------------------------------------


async def test_profile_comes_from_graph_on_the_users_behalf(
    directory: GraphDirectory, user_token: str, idp: LocalIdentityProvider, graph: LocalGraph
) -> None:
    port: Directory = directory  # the type checker verifies the adapter fits the port

    profile = await port.profile(TENANT, user_token)

    assert profile == UserProfile(
        display_name="Ada Lovelace", department="Finance", job_title="Analyst"
    )
    assert idp.grants[OBO_GRANT] == 1
    assert graph.requests["me"] == 1


async def test_a_profile_without_department_or_title_has_none(
    directory: GraphDirectory, idp: LocalIdentityProvider, graph: LocalGraph
) -> None:
    graph.add_user(TENANT, USER, "Grace Hopper")
    token = idp.sso_token(TENANT, USER, "Grace Hopper", aud=CLIENT_ID)

    assert await directory.profile(TENANT, token) == UserProfile("Grace Hopper", None, None)


async def test_team_owners(directory: GraphDirectory, user_token: str) -> None:
    assert await directory.team_owners(TENANT, user_token, TEAM) == {OWNER, USER}


async def test_team_members_follow_next_links_across_pages(
    directory: GraphDirectory, user_token: str, graph: LocalGraph
) -> None:
    graph.page_size = 2

    members = await directory.team_members(TENANT, user_token, TEAM)

    assert members == MEMBERS
    assert graph.requests["members"] == 3


async def test_team_departments_come_with_the_members_across_pages(
    directory: GraphDirectory, user_token: str, graph: LocalGraph
) -> None:
    graph.page_size = 2
    graph.add_user(TENANT, MEMBERS[0], "Lin", department="  Finance\n  and   Risk ")
    graph.add_user(TENANT, MEMBERS[1], "Sam", department="")
    graph.add_user(TENANT, MEMBERS[2], "Kim", department="X" * 80)

    found = await directory.team_departments(TENANT, user_token, TEAM)

    assert list(found) == MEMBERS  # every member, in order, across 3 pages
    assert found[MEMBERS[0]] == "Finance and Risk"  # whitespace and control chars tidied
    assert found[MEMBERS[1]] is None and found[MEMBERS[3]] is None  # unset, or not a user
    assert found[MEMBERS[2]] == "X" * 64
    assert graph.requests["members"] == 3


async def test_a_groups_name_is_read_tidied_and_an_unknown_group_is_not_found(
    directory: GraphDirectory, user_token: str, graph: LocalGraph
) -> None:
    graph.add_group(TENANT, TEAM, owners=[OWNER], members=MEMBERS, name=" Sales\tEMEA ")
    assert await directory.group_name(TENANT, user_token, TEAM) == "Sales EMEA"
    graph.add_group(TENANT, TEAM, owners=[OWNER], members=MEMBERS)  # no name
    assert await directory.group_name(TENANT, user_token, TEAM) is None
    with pytest.raises(DirectoryError) as caught:
        await directory.group_name(TENANT, user_token, "11111111-2222-4333-8444-555555555555")
    assert caught.value.status == 404


async def test_a_group_of_another_tenant_is_not_found(
    directory: GraphDirectory, user_token: str, graph: LocalGraph, idp: LocalIdentityProvider
) -> None:
    graph.add_user(OTHER_TENANT, USER, "Ada (guest)")
    other = idp.sso_token(OTHER_TENANT, USER, "Ada", aud=CLIENT_ID)

    with pytest.raises(DirectoryError) as caught:
        await directory.team_owners(OTHER_TENANT, other, TEAM)

    assert caught.value.status == 404
    assert idp.requests["discovery"] == 1  # one MSAL app per tenant; this is the first here


# --- MSAL: cache, threads, refusals -------------------------------------------------------


async def test_the_graph_token_is_reused_from_msals_cache(
    directory: GraphDirectory, user_token: str, idp: LocalIdentityProvider, graph: LocalGraph
) -> None:
    await directory.profile(TENANT, user_token)
    await directory.team_owners(TENANT, user_token, TEAM)
    await directory.team_members(TENANT, user_token, TEAM)

    assert idp.requests["token"] == 1
    assert idp.requests["discovery"] == 1
    assert graph.requests["me"] == graph.requests["owners"] == graph.requests["members"] == 1


async def test_a_new_sso_token_gets_its_own_on_behalf_of_exchange(
    directory: GraphDirectory, user_token: str, idp: LocalIdentityProvider
) -> None:
    await directory.profile(TENANT, user_token)
    newer = idp.sso_token(TENANT, USER, "Ada Lovelace", aud=CLIENT_ID)

    await directory.profile(TENANT, newer)

    assert idp.grants[OBO_GRANT] == 2


async def test_an_expiring_graph_token_is_renewed_with_the_refresh_token(
    directory: GraphDirectory, user_token: str, idp: LocalIdentityProvider
) -> None:
    idp.token_lifetime = 200  # MSAL treats tokens with under 5 minutes left as expired

    await directory.profile(TENANT, user_token)
    await directory.profile(TENANT, user_token)

    assert idp.grants[OBO_GRANT] == 1
    assert idp.grants["refresh_token"] == 1


async def test_msal_runs_off_the_event_loop(
    directory: GraphDirectory, user_token: str, idp: LocalIdentityProvider
) -> None:
    idp.delays["token"] = 0.3
    ticks = 0

    async def tick() -> None:
        nonlocal ticks
        while True:
            await asyncio.sleep(0.01)
            ticks += 1

    ticker = asyncio.create_task(tick())
    started = time.monotonic()
    try:
        await directory.profile(TENANT, user_token)
    finally:
        ticker.cancel()

    assert time.monotonic() - started >= 0.3
    assert ticks >= 15  # ~30 if the loop ran freely while MSAL waited 0.3 s


async def test_a_wrong_client_secret_is_a_directory_error(
    make_directory: Callable[..., GraphDirectory], user_token: str, graph: LocalGraph
) -> None:
    directory = make_directory(client_secret="not-the-secret")

    with pytest.raises(DirectoryError) as caught:
        await directory.profile(TENANT, user_token)

    assert not isinstance(caught.value, DirectoryUnavailable)
    assert graph.requests["me"] == 0


async def test_an_expired_sso_token_is_refused_by_the_identity_provider(
    directory: GraphDirectory, idp: LocalIdentityProvider, graph: LocalGraph
) -> None:
    expired = idp.sso_token(TENANT, USER, "Ada", aud=CLIENT_ID, lifetime=-60)

    with pytest.raises(DirectoryError) as caught:
        await directory.profile(TENANT, expired)

    assert not isinstance(caught.value, DirectoryUnavailable)
    assert expired not in str(caught.value)
    assert graph.requests["me"] == 0


async def test_an_unreachable_identity_provider_is_unavailable(
    make_directory: Callable[..., GraphDirectory], user_token: str, closed_port_url: str
) -> None:
    directory = make_directory(authority=closed_port_url)

    with pytest.raises(DirectoryUnavailable):
        await directory.profile(TENANT, user_token)


async def test_a_failing_token_endpoint_is_unavailable(
    directory: GraphDirectory, user_token: str, idp: LocalIdentityProvider
) -> None:
    idp.unavailable.add("token")

    with pytest.raises(DirectoryUnavailable):
        await directory.profile(TENANT, user_token)


# --- Graph failures ---------------------------------------------------------------------


async def test_429_is_retried_after_the_retry_after_delay(
    directory: GraphDirectory, user_token: str, graph: LocalGraph
) -> None:
    graph.fail_next(1, status=429, retry_after=1)
    started = time.monotonic()

    profile = await directory.profile(TENANT, user_token)

    assert profile.display_name == "Ada Lovelace"
    assert time.monotonic() - started >= 0.95
    assert graph.requests["me"] == 2


async def test_a_503_then_success_is_retried_with_backoff(
    directory: GraphDirectory, user_token: str, graph: LocalGraph
) -> None:
    graph.page_size = 2
    graph.fail_next(2, status=503, retry_after=None)

    assert await directory.team_members(TENANT, user_token, TEAM) == MEMBERS
    assert graph.requests["members"] == 5  # two refused, then three pages


async def test_persistent_503_is_unavailable_after_the_retries(
    make_directory: Callable[..., GraphDirectory], user_token: str, graph: LocalGraph
) -> None:
    directory = make_directory(max_retries=2)
    graph.fail_next(10, status=503, retry_after=None)

    with pytest.raises(DirectoryUnavailable):
        await directory.profile(TENANT, user_token)

    assert graph.requests["me"] == 3


async def test_403_is_a_final_directory_error(
    directory: GraphDirectory, user_token: str, graph: LocalGraph
) -> None:
    graph.add_group(TENANT, TEAM, owners=[OWNER], members=MEMBERS, forbidden=True)

    with pytest.raises(DirectoryError) as caught:
        await directory.team_owners(TENANT, user_token, TEAM)

    assert not isinstance(caught.value, DirectoryUnavailable)
    assert caught.value.status == 403
    assert graph.requests["owners"] == 1  # not retried


async def test_an_unknown_group_is_a_404_directory_error(
    directory: GraphDirectory, user_token: str, graph: LocalGraph
) -> None:
    with pytest.raises(DirectoryError) as caught:
        await directory.team_members(TENANT, user_token, "11111111-2222-4333-8444-555555555555")

    assert caught.value.status == 404
    assert graph.requests["members"] == 1


@pytest.mark.parametrize(
    "group_id", ["not-a-guid", "../users", f"{TEAM}/../../users", f"{TEAM}?$select=*", ""]
)
async def test_an_invalid_group_id_is_refused_without_any_request(
    directory: GraphDirectory,
    user_token: str,
    idp: LocalIdentityProvider,
    graph: LocalGraph,
    group_id: str,
) -> None:
    with pytest.raises(DirectoryError):
        await directory.team_owners(TENANT, user_token, group_id)
    with pytest.raises(DirectoryError):
        await directory.team_members(TENANT, user_token, group_id)

    assert sum(idp.requests.values()) == 0
    assert sum(graph.requests.values()) == 0


async def test_an_invalid_tenant_id_is_refused_without_any_request(
    directory: GraphDirectory, user_token: str, idp: LocalIdentityProvider
) -> None:
    with pytest.raises(DirectoryError):
        await directory.profile("contoso.onmicrosoft.com/../common", user_token)

    assert sum(idp.requests.values()) == 0


async def test_logs_carry_no_token_or_secret(
    make_directory: Callable[..., GraphDirectory],
    user_token: str,
    graph: LocalGraph,
    caplog: pytest.LogCaptureFixture,
) -> None:
    graph.fail_next(1, status=503, retry_after=None)
    with caplog.at_level(logging.DEBUG, logger="teams_app.directory"):
        await make_directory().profile(TENANT, user_token)
        with pytest.raises(DirectoryError):
            await make_directory(client_secret="wrong-secret-value").profile(TENANT, user_token)

    ours = "\n".join(r.getMessage() for r in caplog.records if r.name == "teams_app.directory")
    assert "answered 503" in ours
    assert "invalid_client" in ours
    for secret in (user_token, CLIENT_SECRET, "wrong-secret-value", *user_token.split(".")):
        assert secret not in ours


# --- the local services speak the real protocols -----------------------------------------


async def test_the_local_graph_refuses_a_token_that_is_not_for_graph(
    trusting_http: aiohttp.ClientSession, graph: LocalGraph, user_token: str
) -> None:
    async with trusting_http.get(
        f"{graph.url}/v1.0/me", headers={"Authorization": f"Bearer {user_token}"}
    ) as response:
        body = await response.json()

    assert response.status == 401
    assert body["error"]["code"] == "InvalidAuthenticationToken"
    assert "Bearer" in response.headers["WWW-Authenticate"]


def test_the_local_idp_serves_client_credentials_to_msal(
    idp: LocalIdentityProvider, msal_http: requests.Session
) -> None:
    app = msal.ConfidentialClientApplication(
        CLIENT_ID,
        client_credential=CLIENT_SECRET,
        authority=f"{idp.url}/{TENANT}",
        http_client=msal_http,
        instance_discovery=False,
        validate_authority=False,
    )

    first = app.acquire_token_for_client(scopes=[f"{GRAPH}/.default"])
    again = app.acquire_token_for_client(scopes=[f"{GRAPH}/.default"])
    wrong = app.acquire_token_for_client(scopes=[f"{GRAPH}/User.Read"])

    assert "access_token" in first
    assert again["token_source"] == "cache"
    assert wrong["error"] == "invalid_scope"
    assert wrong["error_codes"] == [1002012]
    assert idp.grants["client_credentials"] == 2
