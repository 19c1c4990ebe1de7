"""Every object shared through the aiohttp application, under a typed key."""

from __future__ import annotations

import jinja2
from aiohttp import web
from microsoft_agents.hosting.core import AgentApplication, TurnState

from server.bot_auth import ChannelTokenValidator
from server.config import Settings
from server.services import Services
from server.tab_auth import TabTokenValidator
from server.telemetry import Telemetry
from teams_app.bot.adapter import TeamsAdapter
from teams_app.engine.runner import Engine

SETTINGS = web.AppKey("settings", Settings)
TEMPLATES = web.AppKey("templates", jinja2.Environment)
SERVICES = web.AppKey("services", Services)
ADAPTER = web.AppKey("adapter", TeamsAdapter)
AGENT = web.AppKey("agent", AgentApplication[TurnState])
CHANNEL_VALIDATOR = web.AppKey("channel_validator", ChannelTokenValidator)
TAB_VALIDATOR = web.AppKey("tab_validator", TabTokenValidator)
TELEMETRY = web.AppKey("telemetry", Telemetry)
ENGINE = web.AppKey("engine", Engine)
