"""The composition root: :func:`create_app` builds the whole server from settings.

Nothing is connected at import time. Storage opens and closes in ``cleanup_ctx``; tests pass
their own store, clock or curriculum as overrides and otherwise get the real defaults.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp
from aiohttp import web
from microsoft_agents.authentication.msal import MsalConnectionManager
from microsoft_agents.hosting.aiohttp import CloudAdapter
from microsoft_agents.hosting.core import AgentAuthConfiguration

from server import keys
from server.config import Environment, Settings
from server.errors import error_middleware
from server.routes import setup_routes
from server.tab_auth import TabTokenValidator
from server.tabs import TEAMS_JS, setup_tab_routes, template_environment
from teams_app.bot.agent import AiReadyAgent
from teams_app.cards import CardRenderer
from teams_app.content_files import load_curriculum
from teams_app.directory import Directory, GraphDirectory
from teams_app.domain.content import Curriculum
from teams_app.learning import LearningService
from teams_app.storage.ports import LearnerStore
from teams_app.storage.tables import TableLearnerStore
from teams_app.storage.team_memory import MemoryTeamStore
from teams_app.storage.team_ports import TeamStore
from teams_app.storage.team_tables import TableTeamStore
from teams_app.team_service import TeamService

logger = logging.getLogger(__name__)

CARDS_DIR = Path(__file__).resolve().parent.parent / "cards"


def auth_configuration(settings: Settings) -> AgentAuthConfiguration:
    """The Agents SDK's connection settings for the bot's Entra ID app."""
    if settings.has_bot_credentials:
        return AgentAuthConfiguration(
            client_id=settings.bot_client_id,
            tenant_id=settings.bot_tenant_id,
            client_secret=settings.bot_client_secret,
            anonymous_allowed=False,
        )
    if settings.dev_allow_anonymous and settings.environment is Environment.DEVELOPMENT:
        logger.warning(
            "*** INSECURE LOCAL-DEV MODE: /api/messages accepts requests WITHOUT a token "
            "(AIREADY_DEV_ALLOW_ANONYMOUS). Never use this outside your own machine. ***"
        )
        return AgentAuthConfiguration(anonymous_allowed=True)
    raise RuntimeError("no bot credentials and no explicit local-dev switch")  # config checks this


def create_app(
    settings: Settings,
    *,
    store: LearnerStore | None = None,
    team_store: TeamStore | None = None,
    curriculum: Curriculum | None = None,
    clock: Callable[[], datetime] | None = None,
    tab_validator: TabTokenValidator | None = None,
    directory: Directory | None = None,
) -> web.Application:
    """Build the aiohttp application; tests override the remote-facing parts."""
    # The Agents SDK stores its objects under plain string keys (app and request); that is
    # its design, not a bug of ours, so its NotAppKeyWarning is silenced for its modules only.
    warnings.filterwarnings("ignore", category=web.NotAppKeyWarning, module=r"microsoft_agents\.")
    app = web.Application(client_max_size=settings.max_body_bytes, middlewares=[error_middleware])
    app[keys.SETTINGS] = settings
    extra = [settings.extra_content_dir] if settings.extra_content_dir else []
    app[keys.CURRICULUM] = curriculum or load_curriculum(settings.content_dir, extra)
    app[keys.TEMPLATES] = template_environment()

    auth_config = auth_configuration(settings)
    app[keys.AUTH_CONFIG] = auth_config
    with warnings.catch_warnings():
        # The SDK's middleware reads a plain string key; ours all use web.AppKey.
        warnings.simplefilter("ignore", web.NotAppKeyWarning)
        app[keys.SDK_AUTH_CONFIG_KEY] = auth_config

    connections = MsalConnectionManager(
        connections_configurations={"SERVICE_CONNECTION": auth_config}
    )
    app[keys.CONNECTIONS] = connections
    app[keys.ADAPTER] = CloudAdapter(connection_manager=connections)

    if store is not None:
        app[keys.STORE] = store
        app[keys.TEAM_STORE] = team_store or MemoryTeamStore()
    else:
        app.cleanup_ctx.append(_table_stores)
    if tab_validator is not None or directory is not None:
        if tab_validator is not None:
            app[keys.TAB_VALIDATOR] = tab_validator
        if directory is not None:
            app[keys.DIRECTORY] = directory
    elif settings.has_bot_credentials:
        app.cleanup_ctx.append(_tab_sign_in)
    app.cleanup_ctx.append(_services(clock or (lambda: datetime.now(UTC))))
    setup_routes(app)
    setup_tab_routes(app)
    if not TEAMS_JS.is_dir():
        logger.warning("Teams JS SDK not found in node_modules: the tabs cannot sign in")
    return app


async def _table_stores(app: web.Application) -> AsyncIterator[None]:
    settings = app[keys.SETTINGS]
    store = TableLearnerStore.from_connection_string(
        settings.storage_connection_string, settings.table_prefix
    )
    await store.open()
    teams = TableTeamStore(store.service, settings.table_prefix)
    await teams.open()
    app[keys.STORE] = store
    app[keys.TEAM_STORE] = teams
    yield
    await teams.close()
    await store.close()


async def _tab_sign_in(app: web.Application) -> AsyncIterator[None]:
    """Token validation and Graph for the tabs, sharing one HTTP session."""
    settings = app[keys.SETTINGS]
    session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10))
    allowed = settings.allowed_tenants or frozenset({settings.bot_tenant_id.lower()})
    app[keys.TAB_VALIDATOR] = TabTokenValidator(
        settings.bot_client_id,
        authority=settings.entra_authority,
        allowed_tenants=allowed,
        session=session,
    )
    graph = GraphDirectory(
        settings.bot_client_id,
        settings.bot_client_secret,
        authority=settings.entra_authority,
        graph_url=settings.graph_url,
        session=session,
    )
    app[keys.DIRECTORY] = graph
    yield
    graph.close()
    await session.close()


def _services(
    clock: Callable[[], datetime],
) -> Callable[[web.Application], AsyncIterator[None]]:
    async def services(app: web.Application) -> AsyncIterator[None]:
        settings = app[keys.SETTINGS]
        leaders = settings.leaders
        if settings.dev_demo_user is not None:  # local development: the demo user leads
            leaders = leaders | {settings.dev_demo_user[1]}
        teams = TeamService(
            app[keys.STORE],
            app[keys.TEAM_STORE],
            app[keys.CURRICULUM],
            app.get(keys.DIRECTORY),
            threshold=settings.min_group_size,
            designated_leaders=leaders,
            roster_ttl=timedelta(hours=settings.roster_hours),
            clock=clock,
        )
        app[keys.TEAMS] = teams
        service = LearningService(
            app[keys.STORE],
            app[keys.CURRICULUM],
            min_group=settings.min_group_size,
            on_change=teams.learner_changed,
            on_delete=teams.learner_deleted,
        )
        app[keys.SERVICE] = service
        agent = AiReadyAgent(service, CardRenderer(CARDS_DIR), clock)
        app[keys.AGENT] = agent.build(app[keys.CONNECTIONS])
        yield
        await teams.close()

    return services
