"""The tabs' JSON API over real HTTP, signed in through the local Entra ID, with Graph.

Covers the authorisation matrix (learner / owner / designated leader / programme admin x
own team / other team / other tenant), a learner's own data (view, download, delete), and
team figures published as daily snapshots that a leader can't difference.
"""

from __future__ import annotations

import asyncio
import csv
import io
import json
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
import requests

from server import keys
from server.app import create_app
from server.config import load_settings
from server.tab_auth import TabTokenValidator
from teams_app.adapters.http import OutboundHttp
from teams_app.directory import GraphDirectory
from teams_app.domain.schedule import Preferences
from teams_app.learning import Turn
from teams_app.storage.engine_memory import memory_engine
from teams_app.storage.keys import join_key
from teams_app.storage.memory import MemoryLearnerStore
from teams_app.storage.ports import LearnerKey
from teams_app.storage.team_memory import MemoryTeamStore
from teams_app.storage.team_ports import TeamKey
from tests.support.graph_server import LocalGraph
from tests.support.idp import LocalIdentityProvider
from tests.tabs.conftest import AUDIENCES, CLIENT_ID, CLIENT_SECRET, OTHER_TENANT, TENANT

TEAM = "7d1f0c2e-0000-4000-8000-00000000aaaa"
OTHER_TEAM = "7d1f0c2e-0000-4000-8000-00000000bbbb"
LEADER = "10000000-0000-4000-8000-000000000001"
DESIGNATED = "10000000-0000-4000-8000-000000000002"
MEMBERS = [f"20000000-0000-4000-8000-{i:012d}" for i in range(1, 8)]
STRANGER = "30000000-0000-4000-8000-000000000001"
ADMIN = "40000000-0000-4000-8000-000000000001"
NOW = datetime(2026, 11, 26, 10, 0, tzinfo=UTC)


@pytest.fixture
async def api(
    aiohttp_client: Callable[..., Any],
    idp: LocalIdentityProvider,
    graph: LocalGraph,
    trusting_outbound: OutboundHttp,
    msal_http: requests.Session,
) -> Any:
    clock = [NOW]
    settings = load_settings(
        {
            "AIREADY_BOT_CLIENT_ID": CLIENT_ID,
            "AIREADY_BOT_CLIENT_SECRET": CLIENT_SECRET,
            "AIREADY_BOT_TENANT_ID": TENANT,
            "AIREADY_STORAGE_CONNECTION_STRING": "UseDevelopmentStorage=true",
            "AIREADY_MIN_GROUP_SIZE": "3",
            # Days pass in these tests; a roster re-read each day is not what they test.
            "AIREADY_ROSTER_HOURS": "1000",
        }
    )
    validator = TabTokenValidator(
        AUDIENCES,
        authority=idp.url,
        allowed_tenants=frozenset({TENANT, OTHER_TENANT}),
        http=trusting_outbound,
    )
    directory = GraphDirectory(
        CLIENT_ID,
        CLIENT_SECRET,
        authority=idp.url,
        graph_url=graph.url,
        http=trusting_outbound,
        http_client=msal_http,
    )
    app = create_app(
        settings,
        store=MemoryLearnerStore(),
        team_store=MemoryTeamStore(),
        engine=memory_engine(),
        tab_validator=validator,
        directory=directory,
        clock=lambda: clock[0],
    )
    graph.add_group(
        TENANT, TEAM, owners=[LEADER], members=[LEADER, *MEMBERS], name="Finance\nOperations"
    )
    graph.add_group(TENANT, OTHER_TEAM, owners=[MEMBERS[0]], members=MEMBERS[:4])
    graph.add_group(OTHER_TENANT, TEAM, owners=[STRANGER], members=[STRANGER])
    graph.add_user(TENANT, MEMBERS[1], "Priya Shah", department="Finance", job_title="Analyst")
    client = await aiohttp_client(app)
    client.idp = idp
    client.clock = clock
    return client


def _auth(client: Any, user: str, tenant: str = TENANT, **claims: Any) -> dict[str, str]:
    token = client.idp.sso_token(tenant, user, "Test User", aud=CLIENT_ID, **claims)
    return {"Authorization": f"Bearer {token}"}


def _admin(client: Any, user: str = ADMIN, tenant: str = TENANT) -> dict[str, str]:
    return _auth(client, user, tenant, roles=["AIReady.Admin"])


def _next_day(client: Any, days: int = 1) -> None:
    """Time passes: the next view may publish a new snapshot."""
    client.clock[0] += timedelta(days=days)


async def _designate(client: Any, team: str, *users: str) -> None:
    response = await client.put(
        f"/api/teams/{team}/leaders", headers=_admin(client), json={"leaders": list(users)}
    )
    assert response.status == 200, await response.text()


async def _view(client: Any, user: str, team: str = TEAM, tenant: str = TENANT) -> Any:
    """The team view once its first roster sync is done."""
    for _ in range(100):
        response = await client.get(f"/api/teams/{team}/view", headers=_auth(client, user, tenant))
        if response.status != 200:
            return response
        body = await response.json()
        if body["status"] == "ready":
            return response
        await asyncio.sleep(0.05)
    raise AssertionError("the roster sync never finished")


async def _learn(client: Any, user: str, lessons: int) -> None:
    """The member does ``lessons`` lessons through the real learning use cases."""
    service = client.app[keys.SERVICES].learning
    turn = Turn(LearnerKey(TENANT, user), NOW, date(2026, 11, 26))
    await service.choose_role(turn, {"role": "everyone"})
    curriculum = client.app[keys.SERVICES].curriculum
    for _ in range(lessons):
        await service.start_lesson(turn, {})
        stored = await client.app[keys.SERVICES].store.get_profile(turn.key)
        activity = stored.state.activity
        await service.start_quiz(turn, {"attempt": activity.attempt})
        lesson = curriculum.lesson(activity.lesson_id)
        for question in lesson.questions:
            right = next(i for i, o in enumerate(question.options) if o.correct)
            data = {
                "kind": "lesson",
                "attempt": activity.attempt,
                "question": question.id,
                "answer": str(right),
                "confidence": "high",
            }
            await service.answer(turn, data)


@pytest.mark.parametrize(
    ("who", "team", "tenant", "status"),
    [
        ("leader", TEAM, TENANT, 200),
        ("designated", TEAM, TENANT, 200),
        ("leader", OTHER_TEAM, TENANT, 403),
        ("learner", TEAM, TENANT, 403),
        ("learner", OTHER_TEAM, TENANT, 403),
        ("stranger", TEAM, TENANT, 403),
    ],
)
async def test_only_a_teams_leaders_see_its_figures(
    api: Any, who: str, team: str, tenant: str, status: int
) -> None:
    await _designate(api, TEAM, DESIGNATED)
    user = {
        "leader": LEADER,
        "designated": DESIGNATED,
        "learner": MEMBERS[2],
        "stranger": STRANGER,
    }[who]
    response = await _view(api, user, team, tenant)
    assert response.status == status
    if status == 403:
        assert (await response.json())["error"].startswith("only the team's owners")


async def test_a_designated_leader_leads_only_the_team_they_were_designated_for(
    api: Any,
) -> None:
    await _designate(api, TEAM, DESIGNATED)
    assert (await _view(api, DESIGNATED, TEAM)).status == 200
    assert (await _view(api, DESIGNATED, OTHER_TEAM)).status == 403
    post = await api.post(f"/api/teams/{OTHER_TEAM}/challenge", headers=_auth(api, DESIGNATED))
    assert post.status == 403
    # The same object id in another tenant designates nobody there.
    assert (await _view(api, DESIGNATED, TEAM, OTHER_TENANT)).status == 403
    await _designate(api, TEAM)  # withdrawn
    assert (await _view(api, DESIGNATED, TEAM)).status == 403


async def test_the_admin_role_runs_the_programme_but_leads_no_team(api: Any) -> None:
    assert (await api.get("/api/organisation/view", headers=_admin(api))).status == 200
    # An admin is not a leader of every team: team figures stay with the team's leaders.
    assert (await _view(api, ADMIN, TEAM)).status == 403
    challenge = await api.post(f"/api/teams/{TEAM}/challenge", headers=_admin(api))
    assert challenge.status == 403


@pytest.mark.parametrize(
    "claims",
    [
        {},  # no roles claim
        {"roles": []},
        {"roles": "AIReady.Admin"},  # a string, not the list Entra issues
        {"roles": ["aiready.admin"]},  # app role values are case-sensitive
        {"roles": ["AIReady.Reader", {"AIReady.Admin": True}]},
        {"scp": "access_as_user AIReady.Admin"},  # a scope is not an app role
    ],
)
async def test_only_the_admin_app_role_opens_the_admin_api(
    api: Any, claims: dict[str, Any]
) -> None:
    headers = _auth(api, LEADER, **claims)
    for method, path in (
        ("GET", "/api/organisation/view"),
        ("GET", "/api/organisation/export.csv"),
        ("GET", "/api/organisation/export.json"),
        ("GET", f"/api/teams/{TEAM}/leaders"),
        ("PUT", f"/api/teams/{TEAM}/leaders"),
    ):
        response = await api.request(method, path, headers=headers, json={"leaders": [LEADER]})
        assert response.status == 403, (claims, method, path)
        assert "AIReady.Admin" in (await response.json())["error"]
    designated = await api.app[keys.SERVICES].team_store.designated(TeamKey(TENANT, TEAM))
    assert designated == frozenset(), "nothing was designated"


@pytest.mark.parametrize(
    "body",
    [
        {"leaders": "10000000-0000-4000-8000-000000000001"},
        {"leaders": ["not-a-guid"]},
        {"leaders": [7]},
        {"leaders": [ADMIN] * 51},
        ["leaders"],
        {},
    ],
)
async def test_designating_leaders_takes_a_list_of_object_ids(api: Any, body: Any) -> None:
    response = await api.put(f"/api/teams/{TEAM}/leaders", headers=_admin(api), json=body)
    assert response.status == 400
    assert "leaders" in (await response.json())["error"]
    listed = await api.get(f"/api/teams/{TEAM}/leaders", headers=_admin(api))
    assert await listed.json() == {"leaders": []}


async def test_an_admin_sees_only_their_own_organisation(api: Any) -> None:
    for member in MEMBERS[:5]:
        await _learn(api, member, 1)
    ours = await (await api.get("/api/organisation/view", headers=_admin(api))).json()
    theirs_response = await api.get(
        "/api/organisation/view", headers=_admin(api, STRANGER, OTHER_TENANT)
    )
    theirs = await theirs_response.json()
    funnel = {step["step"]: step["people"] for step in ours["view"]["funnel"]}
    assert funnel["installed"] == 5 and funnel["started"] == 5
    # The shards' confidence moved together: one point of calibration over time, summed.
    assert [p["published_on"] for p in ours["view"]["view"]["calibration_trend"]] == ["2026-11-26"]
    assert ours["view"]["view"]["calibration_trend"][0]["calibration"] is not None
    assert {step["people"] for step in theirs["view"]["funnel"]} == {None}
    csv_export = await api.get("/api/organisation/export.csv", headers=_admin(api))
    text = await csv_export.text()
    assert csv_export.status == 200 and "adoption,Talked to AI Ready,,5," in text
    assert not any(m in text for m in MEMBERS), "no ids in the export"
    json_export = await api.get("/api/organisation/export.json", headers=_admin(api))
    assert (await json_export.json())["format"] == "ai-ready-organisation/1"


async def test_another_tenant_never_sees_this_tenants_team(api: Any) -> None:
    await _learn(api, MEMBERS[0], 1)
    ours = await (await _view(api, LEADER)).json()
    theirs_response = await _view(api, STRANGER, TEAM, OTHER_TENANT)
    assert theirs_response.status == 200, "they own a group with the same id in their tenant"
    theirs = await theirs_response.json()
    assert ours["view"]["members"] == 8
    assert theirs["view"]["members"] is None, "one member: below the threshold"


async def test_team_figures_move_in_daily_snapshots(api: Any) -> None:
    first = await (await _view(api, LEADER)).json()
    assert first["view"]["members"] == 8
    assert first["view"]["published_on"] == "2026-11-26"
    assert first["view"]["started"] is None or first["view"]["started"] == 0
    for member in MEMBERS[:4]:
        await _learn(api, member, 1)
    same_day = await (await _view(api, LEADER)).json()
    assert same_day["view"] == first["view"], "nothing moves before the next snapshot"
    _next_day(api)
    view = (await (await _view(api, LEADER)).json())["view"]
    assert view["published_on"] == "2026-11-27"
    assert view["started"] == 4
    assert view["learning"]["lessons_completed"] == 4
    assert view["learning"]["accuracy_pct"] is None, "all right: it would say each one's score"
    assert view["not_started"] == 4


async def test_a_leader_cannot_difference_one_colleagues_lesson(api: Any) -> None:
    for member in MEMBERS[:4]:
        await _learn(api, member, 1)
    _next_day(api)
    before = (await (await _view(api, LEADER)).json())["view"]
    await _learn(api, MEMBERS[5], 1)  # "I've just done my first lesson"
    for days in (0, 1, 7):
        _next_day(api, days)
        after = (await (await _view(api, LEADER)).json())["view"]
        assert (after["started"], after["learning"]) == (before["started"], before["learning"])
    await _learn(api, MEMBERS[6], 1)
    await _learn(api, MEMBERS[0], 1)  # with three people behind the change, it moves
    _next_day(api)
    moved = (await (await _view(api, LEADER)).json())["view"]
    assert moved["learning"]["lessons_completed"] == before["learning"]["lessons_completed"] + 3
    assert moved["learning"]["learners"] == before["learning"]["learners"] + 2


async def test_csv_export_has_the_same_figures(api: Any) -> None:
    for member in MEMBERS[:3]:
        await _learn(api, member, 1)
    _next_day(api)
    view = (await (await _view(api, LEADER)).json())["view"]
    response = await api.get(f"/api/teams/{TEAM}/export.csv", headers=_auth(api, LEADER))
    assert response.status == 200
    assert response.headers["Content-Disposition"].startswith("attachment;")
    rows = list(csv.reader(io.StringIO(await response.text())))
    assert rows[0] == ["section", "item", "week", "value", "contributors"]
    found = {(r[0], r[1], r[2]): r[3] for r in rows[1:]}
    assert found[("team", "members", "")] == str(view["members"])
    assert found[("about", "figures as of", "")] == "2026-11-27"
    assert ("about", "figures with fewer than 3 people behind them", "") in found
    assert found[("learning", "lessons completed", "")] == str(
        view["learning"]["lessons_completed"]
    )
    text = await response.text()
    assert not any(m in text for m in MEMBERS), "no ids in the export"


async def test_my_learning_shows_only_my_own_data(api: Any) -> None:
    await _learn(api, MEMBERS[1], 1)
    await _learn(api, MEMBERS[2], 2)
    response = await api.get("/api/me/learning", headers=_auth(api, MEMBERS[1]))
    assert response.status == 200
    body = await response.json()
    assert body["lessons_done"] == 1
    assert body["role"] == {"id": "everyone", "label": "Everyone (foundation only)"}
    assert body["suggested_role"] == {"id": "finance", "label": "Finance"}
    assert body["tracks"][0]["done"] == 1
    assert body["history"][0]["kind"] == "lesson"
    assert body["current"] is None


@pytest.mark.parametrize(
    "headers", [{}, {"Authorization": "Bearer nope"}, {"Authorization": "Basic x"}]
)
async def test_the_api_refuses_missing_and_bad_tokens(api: Any, headers: dict[str, str]) -> None:
    for path in ("/api/me/learning", "/api/me/data", f"/api/teams/{TEAM}/view"):
        response = await api.get(path, headers=headers)
        assert response.status == 401
        assert await response.json() == {"error": "unauthorized"}
    for method, path in (
        ("POST", f"/api/teams/{TEAM}/challenge"),
        ("DELETE", "/api/me/data"),
    ):
        response = await api.request(method, path, headers=headers, json={})
        assert response.status == 401, (method, path)
        assert await response.json() == {"error": "unauthorized"}


async def test_a_learner_downloads_and_deletes_their_data(api: Any) -> None:
    for member in MEMBERS[:4]:
        await _learn(api, member, 1)
    _next_day(api)
    before = (await (await _view(api, LEADER)).json())["view"]
    me = MEMBERS[0]
    download = await api.get("/api/me/data", headers=_auth(api, me))
    assert download.status == 200
    assert "attachment" in download.headers["Content-Disposition"]
    data = await download.json()
    assert data["user_id"] == me and data["profile"]["Role"] == "everyone"
    assert len(data["history"]) == 1
    assert isinstance(data["history"][0]["Activity"]["results"], list), "readable, not JSON text"
    assert isinstance(data["profile"]["Completed"], dict)
    text = await download.text()
    assert not any(m in text for m in MEMBERS[1:])

    refused = await api.delete("/api/me/data", headers=_auth(api, me), json={"confirm": "yes"})
    assert refused.status == 400
    deleted = await api.delete(
        "/api/me/data", headers=_auth(api, me), json={"confirm": "delete my data"}
    )
    assert deleted.status == 200
    assert await api.app[keys.SERVICES].store.get_profile(LearnerKey(TENANT, me)) is None
    _next_day(api)
    after = (await (await _view(api, LEADER)).json())["view"]
    assert after == {**before, "published_on": after["published_on"]}, (
        "deleting one's data changes nothing a leader sees on its own"
    )
    await _learn(api, MEMBERS[1], 1)
    await _learn(api, MEMBERS[2], 1)
    _next_day(api)
    later = (await (await _view(api, LEADER)).json())["view"]
    assert later["members"] == before["members"], "still on the team's roster"
    assert later["learning"]["lessons_completed"] == before["learning"]["lessons_completed"] + 1


async def test_a_reset_in_the_chat_resets_the_members_team_figures(api: Any) -> None:
    for member in MEMBERS[:6]:
        await _learn(api, member, 1)
    _next_day(api)
    before = (await (await _view(api, LEADER)).json())["view"]
    for member in MEMBERS[:3]:
        turn = Turn(LearnerKey(TENANT, member), NOW, date(2026, 11, 26))
        await api.app[keys.SERVICES].learning.confirm_reset(turn)
    _next_day(api)
    after = (await (await _view(api, LEADER)).json())["view"]
    assert after["members"] == before["members"], "still on the team"
    assert after["learning"]["lessons_completed"] == before["learning"]["lessons_completed"] - 3


async def _install(client: Any, user: str, **preferences: Any) -> None:
    services = client.app[keys.SERVICES]
    key = LearnerKey(TENANT, user)
    reference = {"conversation": {"id": f"a:{user}"}, "serviceUrl": "https://smba.test/"}
    await services.contacts.installed(
        key, reference, f"install-{user}", "Europe/Berlin", welcome=False
    )
    if preferences:
        await services.contacts.change_settings(key, Preferences(**preferences))


async def _planned(client: Any) -> list[dict[str, Any]]:
    """The deliveries the kick-offs put on the queue (taken off it)."""
    queue = client.app[keys.SERVICES].engine.queue
    found = []
    while messages := await queue.receive(32, visibility=60):
        for message in messages:
            found.extend(message.body["deliveries"])
            await queue.delete(message)
    return found


async def test_a_leader_kicks_off_a_team_challenge_once_a_week(api: Any) -> None:
    await _view(api, LEADER)  # the first roster sync
    for member in MEMBERS[:4]:
        await _install(api, member)
    await _install(api, MEMBERS[4], paused=True)  # asked for nothing: gets nothing
    listed = (await (await _view(api, LEADER)).json())["team_challenges"]
    assert listed and sum(c["suggested"] for c in listed) == 1
    chosen = listed[-1]["id"]

    response = await api.post(
        f"/api/teams/{TEAM}/challenge", headers=_auth(api, LEADER), json={"challenge": chosen}
    )
    assert response.status == 200, await response.text()
    body = await response.json()
    assert body["challenge"]["id"] == chosen and body["week"] == "2026-W48"
    text = await response.text()
    assert not any(m in text for m in MEMBERS), "names no one"
    planned = await _planned(api)
    assert sorted(d["user"] for d in planned) == sorted(MEMBERS[:4])
    assert {d["campaign"] for d in planned} == {"team-challenge-2026-W48"}
    assert all(d["data"]["challenge"] == chosen and d["data"]["team"] for d in planned)

    again = await api.post(f"/api/teams/{TEAM}/challenge", headers=_auth(api, LEADER))
    assert again.status == 200
    assert (await again.json())["status"] == "already sent this week"
    assert await _planned(api) == [], "a second kick-off puts nothing on the queue"
    counts = await api.app[keys.SERVICES].engine.ledger.counts("team-challenge-2026-W48")
    assert counts["queued"] == 4, "and adds no one twice"


@pytest.mark.parametrize(
    ("who", "team", "body", "status"),
    [
        (MEMBERS[0], TEAM, {}, 403),  # a member, not a leader
        (LEADER, OTHER_TEAM, {}, 403),  # a leader of another team
        (LEADER, TEAM, {"challenge": "no-such-challenge"}, 400),
        (LEADER, TEAM, {"challenge": 7}, 400),
        (LEADER, TEAM, ["challenge"], 400),
    ],
)
async def test_only_a_teams_leader_kicks_off_a_real_challenge(
    api: Any, who: str, team: str, body: Any, status: int
) -> None:
    await _view(api, LEADER)
    await _install(api, MEMBERS[0])
    response = await api.post(f"/api/teams/{team}/challenge", headers=_auth(api, who), json=body)
    assert response.status == status, await response.text()
    assert "error" in await response.json()
    assert await _planned(api) == [], "nothing sent"


async def _assign(client: Any, body: Any, headers: dict[str, str] | None = None) -> Any:
    return await client.post("/api/assignments", headers=headers or _admin(client), json=body)


async def test_an_admin_assigns_a_track_and_everyone_sees_it_in_their_place(api: Any) -> None:
    curriculum = api.app[keys.SERVICES].curriculum
    foundation = next(t for t in curriculum.tracks if "everyone" in t.roles)
    made = await _assign(api, {"track": foundation.id, "group": TEAM, "due": "2027-01-15"})
    assert made.status == 201, await made.text()
    assignment = await made.json()
    assert (assignment["track"], assignment["group"], assignment["due"]) == (
        foundation.id,
        TEAM,
        "2027-01-15",
    )
    assert assignment["group_name"] == "Finance Operations", "named as the directory names it"
    await _view(api, LEADER)  # the team's roster is known once its first sync ran
    await _learn(api, MEMBERS[0], 1)

    # The learner: in My learning, with their own progress on the track.
    mine = await (await api.get("/api/me/learning", headers=_auth(api, MEMBERS[0]))).json()
    assert mine["admin"] is False
    (seen,) = mine["assignments"]
    assert (seen["title"], seen["due"], seen["done"]) == (foundation.title, "2027-01-15", 1)
    assert seen["total"] == len(foundation.lesson_ids) and seen["in_path"] is True
    stranger = await api.get("/api/me/learning", headers=_auth(api, STRANGER, OTHER_TENANT))
    assert (await stranger.json())["assignments"] == [], "another tenant's learner: none"

    # In the chat: the progress card names it.
    turn = Turn(LearnerKey(TENANT, MEMBERS[0]), NOW, date(2026, 11, 26))
    card = await api.app[keys.SERVICES].learning.progress(turn)
    assert card.data["has_assignments"] is True
    assert foundation.title in card.data["assignments"][0]["line"]

    # The team's leader: completion against the due date, as a group figure.
    team = await (await _view(api, LEADER)).json()
    (row,) = team["assignments"]
    assert (row["title"], row["due"], row["members"], row["completed"]) == (
        foundation.title,
        "2027-01-15",
        8,
        None,  # fewer than 3 finished it: not enough to say how many
    )
    assert not any(m in json.dumps(team["assignments"]) for m in MEMBERS)

    # The admin: every assignment with its group's completion; then withdrawn.
    overview = await (await api.get("/api/assignments", headers=_admin(api))).json()
    assert [a["id"] for a in overview["assignments"]] == [assignment["id"]]
    org = await (await api.get("/api/organisation/view", headers=_admin(api))).json()
    assert (org["assignments"][0]["group"], org["assignments"][0]["group_name"]) == (
        TEAM,
        "Finance Operations",
    )
    gone = await api.delete(f"/api/assignments/{assignment['id']}", headers=_admin(api))
    assert gone.status == 200
    again = await api.delete(f"/api/assignments/{assignment['id']}", headers=_admin(api))
    assert again.status == 404
    mine = await (await api.get("/api/me/learning", headers=_auth(api, MEMBERS[0]))).json()
    assert mine["assignments"] == []


async def test_only_admins_assign_and_bad_requests_say_why(api: Any) -> None:
    track = api.app[keys.SERVICES].curriculum.tracks[0].id
    good = {"track": track, "group": TEAM, "due": "2027-01-15"}
    for headers in (_auth(api, LEADER), _auth(api, MEMBERS[0], roles="AIReady.Admin")):
        assert (await _assign(api, good, headers)).status == 403
        assert (await api.get("/api/assignments", headers=headers)).status == 403
        assert (await api.delete("/api/assignments/aaaaaaaaaaaa", headers=headers)).status == 403
    for body, field in (
        ({**good, "group": "7d1f0c2e-0000-4000-8000-00000000cccc"}, "'group'"),  # not in Graph
        ({**good, "track": "nope"}, "'track'"),
        ({**good, "group": "x"}, "'group'"),
        ({**good, "due": "2026-11-01"}, "'due'"),
        (["not", "an", "object"], "track"),
    ):
        response = await _assign(api, body)
        assert response.status == 400
        assert field in (await response.json())["error"]
    assert (await api.delete("/api/assignments/..%2Fx", headers=_admin(api))).status == 404
    listed = await (await api.get("/api/assignments", headers=_admin(api))).json()
    assert listed == {"assignments": []}, "nothing was stored"


async def test_the_organisation_counts_leaders_and_its_own_deliveries(api: Any) -> None:
    await _designate(api, TEAM, MEMBERS[5], MEMBERS[6])  # the owner plus two: three leaders
    await _view(api, LEADER)  # the roster sync marks them, and the snapshot is published
    ledger = api.app[keys.SERVICES].engine.ledger
    for user in MEMBERS[:3]:
        await ledger.plan("challenge-2026-W48", join_key(TENANT, user), NOW)
    await ledger.plan("nudge-2026-11-25", join_key(TENANT, MEMBERS[0]), NOW)  # one: hidden
    await ledger.plan("challenge-2026-W48", join_key(OTHER_TENANT, STRANGER), NOW)
    await ledger.plan("challenge-2026-W30", join_key(TENANT, MEMBERS[4]), NOW)  # too old

    body = await (await api.get("/api/organisation/view", headers=_admin(api))).json()
    assert body["view"]["view"]["leaders"]["leaders"] == 3
    assert body["deliveries"] == [
        {"kind": "challenge", "deliveries": 3, "queued": 3, "retried": 0, "throttled": 0}
    ]
    theirs = await api.get("/api/organisation/view", headers=_admin(api, STRANGER, OTHER_TENANT))
    assert (await theirs.json())["deliveries"] == [], "one delivery there: below the threshold"


async def test_skill_gaps_by_department_show_only_departments_big_enough(
    api: Any, graph: LocalGraph
) -> None:
    for member in MEMBERS[2:4]:
        graph.add_user(TENANT, member, "Colleague", department="Finance")  # with Priya: 3
    graph.add_user(TENANT, MEMBERS[4], "Colleague", department="HR")  # alone
    for member in MEMBERS[1:5]:
        await _learn(api, member, 1)
    await _view(api, LEADER)  # the roster sync reads each member's department
    await _learn(api, MEMBERS[5], 1)  # no department: in no department's figures
    body = await (await api.get("/api/organisation/view", headers=_admin(api))).json()
    departments = body["view"]["departments"]
    assert [(d["department"], d["members"]) for d in departments] == [("Finance", 3)]
    assert [row["skill"] for row in departments[0]["skills"]]
    csv_export = await api.get("/api/organisation/export.csv", headers=_admin(api))
    assert "departments,Finance: members,,3," in await csv_export.text()

    me = LearnerKey(TENANT, MEMBERS[1])
    download = await (await api.get("/api/me/data", headers=_auth(api, MEMBERS[1]))).json()
    assert download["groups"] == {"teams": [TEAM], "department": "Finance"}
    assert "groups" in download["sections"]
    await api.delete(
        "/api/me/data", headers=_auth(api, MEMBERS[1]), json={"confirm": "delete my data"}
    )
    assert await api.app[keys.SERVICES].team_store.department_of(TENANT, me.user_id) is None
