"""The composition root: :func:`create_app` builds the web server from settings.

Nothing is connected at import time. The services (:func:`server.services.build_services`)
open and close in ``cleanup_ctx``; tests pass their own store, clock or curriculum as
overrides, each replacing that part only.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable
from typing import Any

from aiohttp import web

from server import keys
from server.bot_auth import ChannelTokenValidator
from server.config import Settings
from server.errors import error_middleware
from server.jwks import KeySet
from server.lesson_links import setup_lesson_links
from server.logs import (
    correlation_middleware,
    install_correlation_ids,
    quiet_sdk_validation_log,
)
from server.routes import setup_routes
from server.services import CARDS_DIR, Services, build_services
from server.tab_auth import TabTokenValidator
from server.tabs import TEAMS_JS, language_middleware, setup_tab_routes, template_environment
from server.telemetry import Telemetry, telemetry_for
from teams_app.bot.adapter import TeamsAdapter
from teams_app.bot.agent import AiReadyAgent
from teams_app.cards import CardRenderer
from teams_app.extension import MessageExtension

logger = logging.getLogger(__name__)


def create_app(
    settings: Settings,
    *,
    tab_validator: TabTokenValidator | None = None,
    channel_validator: ChannelTokenValidator | None = None,
    telemetry: Telemetry | None = None,
    **overrides: Any,
) -> web.Application:
    """Build the aiohttp application. ``overrides`` go to :func:`build_services` (store,
    team_store, curriculum, clock, directory, tokens, gate, outbox); the validators replace
    the bot's and the tabs' token checks (tests point them at local identity providers);
    ``telemetry`` replaces the process's OpenTelemetry providers."""
    install_correlation_ids()
    quiet_sdk_validation_log()
    telemetry = telemetry or telemetry_for(settings.applicationinsights_connection_string)
    app = web.Application(
        client_max_size=settings.max_body_bytes,
        middlewares=[
            telemetry.middleware(),
            correlation_middleware,
            error_middleware,
            language_middleware,
        ],
    )
    app[keys.SETTINGS] = settings
    app[keys.TELEMETRY] = telemetry
    overrides.setdefault("on_send", telemetry.message_sent)
    app[keys.TEMPLATES] = template_environment()
    if settings.has_bot_credentials:
        _warn_if_missing_identity(settings)
    elif settings.dev_allow_anonymous and settings.is_development:
        logger.warning(
            "*** INSECURE LOCAL-DEV MODE: /api/messages accepts requests WITHOUT a token "
            "(AIREADY_DEV_ALLOW_ANONYMOUS). Never use this outside your own machine. ***"
        )
    else:  # load_settings refuses this; a hand-built Settings must not slip through either
        raise RuntimeError("no bot credentials and no explicit local-dev switch")
    app.cleanup_ctx.append(_services(settings, overrides, tab_validator, channel_validator))
    setup_routes(app)
    setup_tab_routes(app)
    setup_lesson_links(app)
    if not TEAMS_JS.is_dir():
        logger.warning("Teams JS SDK not found in node_modules: the tabs cannot sign in")
    return app


def _warn_if_missing_identity(settings: Settings) -> None:
    if not settings.public_url and not settings.app_id_uri:
        logger.info(
            "AIREADY_PUBLIC_URL and AIREADY_APP_ID_URI are unset: tab tokens must carry the "
            "client id as their audience"
        )


def _services(
    settings: Settings,
    overrides: dict[str, Any],
    tab_validator: TabTokenValidator | None,
    channel_validator: ChannelTokenValidator | None,
) -> Callable[[web.Application], AsyncIterator[None]]:
    async def services(app: web.Application) -> AsyncIterator[None]:
        async with build_services(settings, **overrides) as built:
            app[keys.SERVICES] = built
            _sign_in(app, built, tab_validator, channel_validator)
            app[keys.ADAPTER] = TeamsAdapter(built.sender)
            renderer = CardRenderer(CARDS_DIR)
            agent = AiReadyAgent(
                built.learning,
                renderer,
                built.contacts,
                extension=MessageExtension(
                    built.curriculum,
                    renderer,
                    bot_id=settings.bot_client_id,
                    public_url=settings.public_url,
                ),
                clock=built.clock,
                metrics=app[keys.TELEMETRY],
                background=built.background,
            )
            app[keys.AGENT] = agent.build()
            if not settings.engine_in_web:
                yield
                return
            engine = built.engine_runner()
            app[keys.ENGINE] = engine
            running = asyncio.create_task(engine.run(), name="engine")
            try:
                yield
            finally:
                engine.stop()
                await running

    return services


def _sign_in(
    app: web.Application,
    built: Services,
    tab_validator: TabTokenValidator | None,
    channel_validator: ChannelTokenValidator | None,
) -> None:
    """The bot's channel-token check and the tabs' SSO check (only with credentials: the
    local-dev switches never coexist with them)."""
    settings = built.settings
    if channel_validator is None and settings.has_bot_credentials:
        keys_ = KeySet(built.http, metadata_url=settings.bot_openid_metadata)
        channel_validator = ChannelTokenValidator(settings.bot_client_id, keys_)
    if channel_validator is not None:
        app[keys.CHANNEL_VALIDATOR] = channel_validator
    if tab_validator is None and settings.has_bot_credentials:
        allowed = settings.allowed_tenants or frozenset({settings.bot_tenant_id.lower()})
        tab_validator = TabTokenValidator(
            settings.tab_audiences,
            authority=settings.entra_authority,
            allowed_tenants=allowed,
            http=built.http,
        )
    if tab_validator is not None:
        app[keys.TAB_VALIDATOR] = tab_validator
