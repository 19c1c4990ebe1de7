"""Benchmark: the team view API for a 5,000-member team, and the organisation view API over
30,000 learners, each vs a 20-member team's view.

One run, side by side: both teams are seeded in Azurite through the team store, then
``GET /api/teams/{id}/view`` is called alternately for each, signed in with SSO tokens from
the local Entra ID test server (the owners check goes to the local Graph test server once and
is then cached, as in production). The view reads one published row whatever the team's
size, so the target is a p95 ratio (5,000 / 20) within 1.5. The organisation's 30,000
learners are seeded into its shards (as 1,500 teams' members would be) and a programme admin
calls ``GET /api/organisation/view`` in the same alternation: target p95 within 1.5x of the
20-member team view.

Usage: .venv/bin/python bench/team_view.py [--samples 300] [--large 5000]
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import random
import statistics
import sys
import time
import uuid
import warnings
from datetime import UTC, datetime
from pathlib import Path

import aiohttp
import requests
from aiohttp.test_utils import TestClient, TestServer

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from server.app import create_app  # noqa: E402
from server.config import load_settings  # noqa: E402
from server.tab_auth import TabTokenValidator  # noqa: E402
from teams_app.adapters.http import OutboundHttp  # noqa: E402
from teams_app.directory import GraphDirectory  # noqa: E402
from teams_app.domain.team import Contribution  # noqa: E402
from teams_app.storage.team_ports import TeamKey  # noqa: E402
from teams_app.team_service import ADMIN_ROLE, org_shard  # noqa: E402
from tests.support.azurite import start_azurite  # noqa: E402
from tests.support.graph_server import LocalGraph  # noqa: E402
from tests.support.idp import LocalIdentityProvider, TestCA  # noqa: E402

CLIENT_ID = "0d5c6a2e-4b1f-4c3a-9e8d-7f6a5b4c3d2e"
SECRET = "bench-secret-4f8a9c2d1e0b7a6f5e4d3c2b1a09f8e7"  # noqa: S105 - local test IdP
TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47"
LEADER = "10000000-0000-4000-8000-000000000001"
ADMIN = "40000000-0000-4000-8000-000000000001"
ORG = "organisation"


def _member(rng: random.Random) -> Contribution:
    lessons = rng.randint(0, 8)
    return Contribution(
        started=lessons > 0 or rng.random() < 0.3,
        active_weeks=frozenset({"2026-W47", "2026-W48"} if lessons else ()),
        lessons_completed=lessons,
        quiz_right=2 * lessons,
        quiz_answers=3 * lessons,
        quiz_mark=3 * lessons,
        quiz_max_mark=9 * lessons,
        confidence={"high": (2 * lessons, 3 * lessons)} if lessons else {},
        skill_levels={"prompting": rng.choice(("gap", "developing", "mastered"))},
        pulse={"2026-W48": (rng.randint(1, 5), rng.randint(0, 120), rng.random() < 0.3)},
    )


def _p(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


async def run(args: argparse.Namespace) -> int:
    azurite = start_azurite()
    ca = TestCA()
    idp = LocalIdentityProvider(ca)
    idp.register_client(CLIENT_ID, SECRET)
    idp.start()
    graph = LocalGraph(idp).start()
    small, large = str(uuid.uuid4()), str(uuid.uuid4())
    for team in (small, large):
        graph.add_group(TENANT, team, owners=[LEADER], members=[LEADER])
    msal_http = requests.Session()
    msal_http.trust_env = False
    msal_http.verify = ca.pem_path
    session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(ssl=ca.client_context()))
    settings = load_settings(
        {
            "AIREADY_BOT_CLIENT_ID": CLIENT_ID,
            "AIREADY_BOT_CLIENT_SECRET": SECRET,
            "AIREADY_BOT_TENANT_ID": TENANT,
            "AIREADY_STORAGE_CONNECTION_STRING": azurite.connection_string,
            "AIREADY_TABLE_PREFIX": "bench" + uuid.uuid4().hex[:8],
        }
    )
    outbound = OutboundHttp(session, ca.client_context(), lambda _url: None)
    validator = TabTokenValidator(
        frozenset({CLIENT_ID}),
        authority=idp.url,
        allowed_tenants=frozenset({TENANT}),
        http=outbound,
    )
    directory = GraphDirectory(
        CLIENT_ID,
        SECRET,
        authority=idp.url,
        graph_url=graph.url,
        http=outbound,
        http_client=msal_http,
    )
    app = create_app(settings, tab_validator=validator, directory=directory)
    client = TestClient(TestServer(app))
    await client.start_server()
    try:
        from server import keys

        rng = random.Random(5)
        store = app[keys.SERVICES].team_store
        started = time.perf_counter()
        for team, size in ((small, args.small), (large, args.large)):
            members = {f"member-{i:05d}": _member(rng) for i in range(size)}
            await store.replace_roster(TeamKey(TENANT, team), members, datetime.now(UTC))
        shards: dict[int, dict[str, Contribution]] = {}
        for i in range(args.org):
            user = f"learner-{i:06d}"
            shards.setdefault(int(org_shard(TENANT, user).team_id[4:]), {})[user] = _member(rng)
        for n, members in shards.items():
            await store.replace_roster(TeamKey(TENANT, f"org-{n}"), members, datetime.now(UTC))
        seeded = time.perf_counter() - started
        token = idp.sso_token(TENANT, LEADER, "Bench Leader", aud=CLIENT_ID)
        headers = {"Authorization": f"Bearer {token}"}
        admin = idp.sso_token(TENANT, ADMIN, "Bench Admin", aud=CLIENT_ID, roles=[ADMIN_ROLE])
        admin_headers = {"Authorization": f"Bearer {admin}"}

        async def call(team: str) -> float:
            begun = time.perf_counter()
            if team == ORG:
                async with client.get("/api/organisation/view", headers=admin_headers) as response:
                    body = await response.json()
                    assert response.status == 200 and body["view"]["funnel"], body
                return time.perf_counter() - begun
            async with client.get(f"/api/teams/{team}/view", headers=headers) as response:
                body = await response.json()
                assert response.status == 200 and body["status"] == "ready", body
            return time.perf_counter() - begun

        if args.probe:
            for team in (small, large):
                began = time.perf_counter()
                for _ in range(100):
                    await store.get_team(TeamKey(TENANT, team))
                print(f"  probe: get_team {team[:8]} {10 * (time.perf_counter() - began):.2f} ms")
        for _ in range(20):  # warm up: keys, OBO token, owners cache, today's snapshots
            for team in (small, large, ORG):
                await call(team)
        times: dict[str, list[float]] = {small: [], large: [], ORG: []}
        for _ in range(args.samples):
            order = [small, large, ORG]
            rng.shuffle(order)
            for team in order:
                times[team].append(await call(team))
    finally:
        await client.close()
        directory.close()
        await session.close()
        msal_http.close()
        graph.stop()
        idp.stop()
        ca.cleanup()
        azurite.stop()

    s, big, org = times[small], times[large], times[ORG]
    print(f"view APIs, {args.samples} calls each, interleaved (seeding took {seeded:.1f} s)")
    for name, values in (
        (f"team of {args.small}", s),
        (f"team of {args.large}", big),
        (f"org of {args.org}", org),
    ):
        print(
            f"  {name:>16}   p50 {1000 * statistics.median(values):6.2f} ms"
            f"   p95 {1000 * _p(values, 0.95):6.2f} ms"
        )
    ok = True
    for name, values in ((f"team of {args.large}", big), (f"org of {args.org}", org)):
        p95_ratio = _p(values, 0.95) / _p(s, 0.95)
        p50_ratio = statistics.median(values) / statistics.median(s)
        passed = p95_ratio <= 1.5
        ok = ok and passed
        print(f"  {name}: p50 ratio {p50_ratio:.2f}   p95 ratio {p95_ratio:.2f}")
        print(f"  {'PASS' if passed else 'FAIL'}  p95 ratio to the team of {args.small} within 1.5")
    return 0 if ok else 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=300)
    parser.add_argument("--small", type=int, default=20)
    parser.add_argument("--large", type=int, default=5000)
    parser.add_argument("--org", type=int, default=30000, help="learners in the organisation")
    parser.add_argument("--probe", action="store_true", help="also time the store's read alone")
    args = parser.parse_args()
    logging.disable(logging.WARNING)
    warnings.simplefilter("ignore")
    return asyncio.run(run(args))


if __name__ == "__main__":
    sys.exit(main())
