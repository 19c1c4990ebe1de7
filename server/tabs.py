"""The tabs: "My learning" and the leader's team view (pages and their JSON API).

Every API call is authorised from a validated Teams SSO token (``server.tab_auth``); identity
is never taken from the request otherwise. With ``AIREADY_DEV_DEMO_USER`` (local development
only) a request without a token acts as that demo user, so the pages work in a browser.
"""

from __future__ import annotations

import csv
import io
import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jinja2
from aiohttp import web
from aiohttp.typedefs import Handler

from server import keys
from server.tab_auth import TabAuthError, bearer_token
from teams_app import i18n
from teams_app.domain.assignment import InvalidAssignment, is_assignment_id
from teams_app.domain.content import Curriculum
from teams_app.domain.ids import looks_like_object_id
from teams_app.domain.learner import iso_week
from teams_app.domain.organisation import organisation_csv
from teams_app.domain.privacy import csv_rows
from teams_app.engine.kickoff import UnknownChallenge, default_challenge, team_challenges
from teams_app.i18n import _
from teams_app.storage.ports import LearnerKey
from teams_app.storage.team_ports import TeamKey
from teams_app.team_service import ADMIN_ROLE, require_admin, view_json

logger = logging.getLogger(__name__)

HERE = Path(__file__).resolve().parent
TEMPLATES = HERE / "templates"
STATIC = HERE / "static"
TEAMS_JS = HERE.parent / "node_modules" / "@microsoft" / "teams-js" / "dist" / "umd"
DEMO_TEAM = "00000000-0000-4000-8000-00000000d3e0"
DELETE_CONFIRMATION = "delete my data"
MAX_DESIGNATED = 50


@dataclass(frozen=True, slots=True)
class Caller:
    """Who is calling, from validated token claims (or the local-dev demo user)."""

    tenant_id: str
    user_id: str
    name: str
    token: str | None
    roles: frozenset[str] = frozenset()

    @property
    def key(self) -> LearnerKey:
        """The caller's learner key: the same tenant and object id the bot uses."""
        return LearnerKey(self.tenant_id, self.user_id)


@dataclass(frozen=True, slots=True)
class Page:
    """What every tab page template gets."""

    title: str
    demo: bool
    api: str
    static: str = "/static"
    export_url: str = "/api/me/data"
    chat_url: str = ""
    demo_team: str = DEMO_TEAM


def template_environment() -> jinja2.Environment:
    """The one Jinja2 environment, built at start-up, autoescaping HTML."""
    environment = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=jinja2.select_autoescape(("html",)),
        undefined=jinja2.StrictUndefined,
    )
    i18n.install_jinja(environment)
    return environment


@web.middleware
async def language_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Pages and their API answer in the reader's language: ``?locale=`` (the manifest's
    tab URLs carry Teams' ``{locale}``), else ``Accept-Language``; English otherwise."""
    i18n.activate(
        i18n.negotiate(request.query.get("locale"), request.headers.get("Accept-Language"))
    )
    return await handler(request)


async def caller(request: web.Request) -> Caller:
    """The validated caller; raises :class:`TabAuthError` (mapped to 401)."""
    settings = request.app[keys.SETTINGS]
    header = request.headers.get("Authorization")
    if header is None and settings.dev_demo_user is not None:
        tenant, user = settings.dev_demo_user
        # Local development only: the demo user is a programme admin, to try every page.
        return Caller(tenant, user, "Demo user", None, frozenset({ADMIN_ROLE}))
    validator = request.app.get(keys.TAB_VALIDATOR)
    if validator is None:
        raise TabAuthError("tab sign-in is not configured")
    identity = await validator.validate(bearer_token(header))
    return Caller(
        identity.tenant_id, identity.user_id, identity.name, identity.token, identity.roles
    )


def _render(request: web.Request, template: str, page: Page) -> web.Response:
    html = request.app[keys.TEMPLATES].get_template(template).render(page=page)
    response = web.Response(text=html, content_type="text/html")
    # Teams shows tabs in frames; only Teams and Microsoft 365 hosts may frame them.
    response.headers["Content-Security-Policy"] = (
        "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
        # The Teams SDK refreshes its list of valid host domains from Microsoft's CDN.
        "connect-src 'self' https://res.cdn.office.net; "
        "frame-ancestors 'self' https://teams.microsoft.com https://*.teams.microsoft.com "
        "https://teams.live.com https://*.teams.live.com https://*.cloud.microsoft "
        "https://*.office.com https://*.office365.com https://*.microsoft365.com"
    )
    return response


def _chat_url(request: web.Request) -> str:
    bot = request.app[keys.SETTINGS].bot_client_id
    return f"https://teams.microsoft.com/l/chat/0/0?users=28:{bot}" if bot else ""


async def my_learning_page(request: web.Request) -> web.Response:
    """``GET /tabs/my-learning``."""
    demo = request.app[keys.SETTINGS].dev_demo_user is not None
    page = Page(_("My learning"), demo, "/api/me/learning", chat_url=_chat_url(request))
    return _render(request, "my_learning.html", page)


async def team_page(request: web.Request) -> web.Response:
    """``GET /tabs/team``."""
    demo = request.app[keys.SETTINGS].dev_demo_user is not None
    return _render(request, "team.html", Page(_("Team view"), demo, "/api/teams"))


async def organisation_page(request: web.Request) -> web.Response:
    """``GET /tabs/organisation``: the programme admins' organisation view (its API checks
    the admin role; the page itself holds no data)."""
    demo = request.app[keys.SETTINGS].dev_demo_user is not None
    page = Page(_("Organisation"), demo, "/api/organisation/view")
    return _render(request, "organisation.html", page)


async def team_config_page(request: web.Request) -> web.Response:
    """``GET /tabs/team/config``: the configurable tab's set-up page."""
    demo = request.app[keys.SETTINGS].dev_demo_user is not None
    return _render(request, "team_config.html", Page(_("Add AI Ready"), demo, "/api/teams"))


async def my_learning_api(request: web.Request) -> web.Response:
    """``GET /api/me/learning``: the caller's own progress."""
    me = await caller(request)
    services = request.app[keys.SERVICES]
    model = await services.my_learning.page(me.key, me.token)
    assignments = await services.teams.learner_assignments(me.key)
    return web.json_response(
        {
            "user": {"name": me.name},
            **model,
            "assignments": assignments,
            "admin": ADMIN_ROLE in me.roles,
        }
    )


async def my_data_download(request: web.Request) -> web.Response:
    """``GET /api/me/data``: everything stored about the caller, as a JSON file."""
    me = await caller(request)
    data = await request.app[keys.SERVICES].my_learning.export(me.key)
    body = json.dumps(data, indent=2, ensure_ascii=False, default=str)
    return web.Response(
        text=body,
        content_type="application/json",
        headers={"Content-Disposition": 'attachment; filename="ai-ready-my-data.json"'},
    )


async def my_data_delete(request: web.Request) -> web.Response:
    """``DELETE /api/me/data`` with ``{"confirm": "delete my data"}``."""
    me = await caller(request)
    body = await _json_body(request)
    if not isinstance(body, dict) or body.get("confirm") != DELETE_CONFIRMATION:
        raise _json_400(f'send {{"confirm": "{DELETE_CONFIRMATION}"}}')
    await request.app[keys.SERVICES].my_learning.delete(me.key)
    return web.json_response({"deleted": True})


def _team_id(request: web.Request) -> str:
    team_id = request.match_info["team"]
    if not looks_like_object_id(team_id):
        raise web.HTTPNotFound(
            text=json.dumps({"error": "no such team"}), content_type="application/json"
        )
    return team_id.lower()


async def _team_result(request: web.Request) -> Any:
    me = await caller(request)
    return await request.app[keys.SERVICES].teams.leader_view(
        me.tenant_id, me.user_id, _team_id(request), me.token
    )


def _curriculum(request: web.Request) -> Curriculum:
    """The curriculum in the reader's language."""
    curriculum: Curriculum = request.app[keys.SERVICES].curriculum
    return curriculum.in_language(i18n.current().code)


def _labels(request: web.Request) -> dict[str, dict[str, str]]:
    """The names the pages use for skill and track ids, in the reader's language."""
    curriculum = _curriculum(request)
    return {
        "skills": {skill.value: s.name for skill, s in curriculum.skills.items()},
        "tracks": {t.id: t.title for t in curriculum.tracks},
    }


async def team_view_api(request: web.Request) -> web.Response:
    """``GET /api/teams/{team}/view``: the team's figures, for its leaders only."""
    body = view_json(await _team_result(request))
    body["labels"] = _labels(request)
    curriculum = _curriculum(request)
    this_week = iso_week(request.app[keys.SERVICES].clock().date())
    suggested = default_challenge(curriculum, this_week)
    body["team_challenges"] = [
        {"id": c.id, "title": c.title, "minutes": c.minutes, "suggested": c == suggested}
        for c in team_challenges(curriculum)
    ]
    return web.json_response(body)


async def team_challenge(request: web.Request) -> web.Response:
    """``POST /api/teams/{team}/challenge`` with ``{"challenge": id}`` (optional: this
    week's suggestion): a leader sends the team a challenge."""
    me = await caller(request)
    services = request.app[keys.SERVICES]
    team = await services.teams.require_leader(
        me.tenant_id, me.user_id, _team_id(request), me.token
    )
    body = await _json_body(request) if request.can_read_body else {}
    chosen = body.get("challenge") if isinstance(body, dict) else 0
    if chosen is not None and not isinstance(chosen, str):
        raise _json_400('send {"challenge": "<challenge id>"} or nothing')
    try:
        kicked = await services.team_challenges.kick_off(team, chosen or None)
    except UnknownChallenge:
        raise _json_400("no such challenge for a whole team") from None
    if kicked.challenge is None:
        return web.json_response(
            {"week": kicked.week, "challenge": None, "status": "already sent this week"}
        )
    return web.json_response(
        {
            "week": kicked.week,
            "challenge": {"id": kicked.challenge.id, "title": kicked.challenge.title},
            "status": "on its way to the team's chats, within each person's working hours",
        }
    )


async def team_csv(request: web.Request) -> web.Response:
    """``GET /api/teams/{team}/export.csv``: the same aggregates as CSV."""
    result = await _team_result(request)
    if result.view is None:
        raise web.HTTPConflict(
            text=json.dumps({"error": "the team's figures are still being collected"}),
            content_type="application/json",
        )
    name = f"ai-ready-team-{result.view.week}.csv"
    return _csv(csv_rows(result.view, **_labels(request)), name)


def _csv(rows: list[list[str]], name: str) -> web.Response:
    out = io.StringIO()
    csv.writer(out).writerows(rows)
    return web.Response(
        text=out.getvalue(),
        content_type="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


async def organisation_api(request: web.Request) -> web.Response:
    """``GET /api/organisation/view``: the organisation's figures, for programme admins."""
    me = await caller(request)
    org = await request.app[keys.SERVICES].teams.organisation_view(me.tenant_id, me.roles)
    assignments = await request.app[keys.SERVICES].teams.assignments_overview(
        me.tenant_id, me.roles
    )
    deliveries = await request.app[keys.SERVICES].teams.deliveries(me.tenant_id, me.roles)
    return web.json_response(
        {
            "view": org.to_dict(),
            "labels": _labels(request),
            "assignments": assignments,
            "deliveries": deliveries,
        }
    )


async def assignments_api(request: web.Request) -> web.Response:
    """``GET /api/assignments`` lists the tenant's assignments with completion;
    ``POST`` with ``{"track", "group", "due"}`` adds one (programme admins only)."""
    me = await caller(request)
    teams = request.app[keys.SERVICES].teams
    if request.method == "POST":
        body = await _json_body(request)
        if not isinstance(body, dict):
            require_admin(me.roles)
            raise _json_400('send {"track": id, "group": object id, "due": "YYYY-MM-DD"}')
        try:
            made = await teams.assign(me.tenant_id, me.roles, me.token, body)
        except InvalidAssignment as err:
            raise _json_400(str(err)) from None
        return web.json_response(made.to_dict(), status=201)
    return web.json_response(
        {"assignments": await teams.assignments_overview(me.tenant_id, me.roles)}
    )


async def assignment_delete(request: web.Request) -> web.Response:
    """``DELETE /api/assignments/{id}``: withdraw an assignment (programme admins only)."""
    me = await caller(request)
    teams = request.app[keys.SERVICES].teams
    found = request.match_info["id"]
    if not is_assignment_id(found) or not await teams.withdraw(me.tenant_id, me.roles, found):
        require_admin(me.roles)
        raise web.HTTPNotFound(
            text=json.dumps({"error": "no such assignment"}), content_type="application/json"
        )
    return web.json_response({"deleted": True})


async def _json_body(request: web.Request) -> Any:
    """The request's JSON body, or ``None`` when it is not JSON."""
    try:
        return await request.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        return None


def _json_400(reason: str) -> web.HTTPBadRequest:
    return web.HTTPBadRequest(text=json.dumps({"error": reason}), content_type="application/json")


async def organisation_export(request: web.Request) -> web.Response:
    """``GET /api/organisation/export.csv`` or ``.json``: the same figures as a file."""
    me = await caller(request)
    org = await request.app[keys.SERVICES].teams.organisation_view(me.tenant_id, me.roles)
    if request.match_info["format"] == "csv":
        rows = organisation_csv(org, **_labels(request))
        return _csv(rows, f"ai-ready-organisation-{org.view.week}.csv")
    name = f"ai-ready-organisation-{org.view.week}"
    body = json.dumps(
        {"format": "ai-ready-organisation/1", **org.to_dict(), "labels": _labels(request)},
        indent=2,
        ensure_ascii=False,
    )
    return web.Response(
        text=body,
        content_type="application/json",
        headers={"Content-Disposition": f'attachment; filename="{name}.json"'},
    )


async def team_leaders(request: web.Request) -> web.Response:
    """``GET`` or ``PUT /api/teams/{team}/leaders`` (``{"leaders": [object ids]}``): the
    leaders designated for one team, for programme admins only."""
    me = await caller(request)
    require_admin(me.roles)
    team = TeamKey(me.tenant_id, _team_id(request))
    store = request.app[keys.SERVICES].team_store
    if request.method == "PUT":
        body = await _json_body(request)
        chosen = body.get("leaders") if isinstance(body, dict) else None
        if (
            not isinstance(chosen, list)
            or len(chosen) > MAX_DESIGNATED
            or not all(looks_like_object_id(u) for u in chosen)
        ):
            raise _json_400(f'send {{"leaders": [up to {MAX_DESIGNATED} Entra object ids]}}')
        await store.designate(team, frozenset(u.lower() for u in chosen))
        request.app[keys.SERVICES].teams.refresh_roster(team, me.token)
    return web.json_response({"leaders": sorted(await store.designated(team))})


def setup_tab_routes(app: web.Application) -> None:
    """Register the tab pages, their API and their static files."""
    app.router.add_get("/tabs/my-learning", my_learning_page)
    app.router.add_get("/tabs/team", team_page)
    app.router.add_get("/tabs/team/config", team_config_page)
    app.router.add_get("/tabs/organisation", organisation_page)
    app.router.add_get("/api/me/learning", my_learning_api)
    app.router.add_get("/api/me/data", my_data_download)
    app.router.add_delete("/api/me/data", my_data_delete)
    app.router.add_get("/api/teams/{team}/view", team_view_api)
    app.router.add_get("/api/teams/{team}/export.csv", team_csv)
    app.router.add_post("/api/teams/{team}/challenge", team_challenge)
    app.router.add_get("/api/teams/{team}/leaders", team_leaders)
    app.router.add_put("/api/teams/{team}/leaders", team_leaders)
    app.router.add_get("/api/organisation/view", organisation_api)
    app.router.add_get("/api/assignments", assignments_api)
    app.router.add_post("/api/assignments", assignments_api)
    app.router.add_delete("/api/assignments/{id}", assignment_delete)
    app.router.add_get("/api/organisation/export.{format:csv|json}", organisation_export)
    if TEAMS_JS.is_dir():  # from npm (@microsoft/teams-js), never a CDN
        app.router.add_static("/static/vendor", TEAMS_JS)
    app.router.add_static("/static", STATIC)
