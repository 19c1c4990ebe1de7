"""The composition root: :func:`create_app` builds the whole server from settings.

Nothing is connected at import time. Storage opens and closes in ``cleanup_ctx``; tests pass
their own store, clock or curriculum as overrides and otherwise get the real defaults.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path

from aiohttp import web
from microsoft_agents.authentication.msal import MsalConnectionManager
from microsoft_agents.hosting.aiohttp import CloudAdapter
from microsoft_agents.hosting.core import AgentAuthConfiguration

from server import keys
from server.config import Environment, Settings
from server.errors import error_middleware
from server.routes import setup_routes
from teams_app.bot.agent import AiReadyAgent
from teams_app.cards import CardRenderer
from teams_app.content_files import load_curriculum
from teams_app.domain.content import Curriculum
from teams_app.learning import LearningService
from teams_app.storage.ports import LearnerStore
from teams_app.storage.tables import TableLearnerStore

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
    curriculum: Curriculum | None = None,
    clock: Callable[[], datetime] | None = None,
) -> web.Application:
    """Build the aiohttp application."""
    # The Agents SDK stores its objects under plain string keys (app and request); that is
    # its design, not a bug of ours, so its NotAppKeyWarning is silenced for its modules only.
    warnings.filterwarnings("ignore", category=web.NotAppKeyWarning, module=r"microsoft_agents\.")
    app = web.Application(client_max_size=settings.max_body_bytes, middlewares=[error_middleware])
    app[keys.SETTINGS] = settings
    extra = [settings.extra_content_dir] if settings.extra_content_dir else []
    app[keys.CURRICULUM] = curriculum or load_curriculum(settings.content_dir, extra)

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
    else:
        app.cleanup_ctx.append(_table_store)
    app.on_startup.append(_build_agent(clock or (lambda: datetime.now(UTC))))
    setup_routes(app)
    return app


async def _table_store(app: web.Application) -> AsyncIterator[None]:
    settings = app[keys.SETTINGS]
    store = TableLearnerStore.from_connection_string(
        settings.storage_connection_string, settings.table_prefix
    )
    await store.open()
    app[keys.STORE] = store
    yield
    await store.close()


def _build_agent(
    clock: Callable[[], datetime],
) -> Callable[[web.Application], Awaitable[None]]:
    async def build(app: web.Application) -> None:
        settings = app[keys.SETTINGS]
        service = LearningService(
            app[keys.STORE], app[keys.CURRICULUM], min_group=settings.min_group_size
        )
        app[keys.SERVICE] = service
        agent = AiReadyAgent(service, CardRenderer(CARDS_DIR), clock)
        app[keys.AGENT] = agent.build(app[keys.CONNECTIONS])

    return build
