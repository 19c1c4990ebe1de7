"""Every object shared through the aiohttp application, under a typed key."""

from __future__ import annotations

from aiohttp import web
from microsoft_agents.authentication.msal import MsalConnectionManager
from microsoft_agents.hosting.aiohttp import CloudAdapter
from microsoft_agents.hosting.core import AgentApplication, AgentAuthConfiguration, TurnState

from server.config import Settings
from teams_app.domain.content import Curriculum
from teams_app.learning import LearningService
from teams_app.storage.ports import LearnerStore

SETTINGS = web.AppKey("settings", Settings)
CURRICULUM = web.AppKey("curriculum", Curriculum)
STORE = web.AppKey("store", LearnerStore)
SERVICE = web.AppKey("service", LearningService)
ADAPTER = web.AppKey("adapter", CloudAdapter)
AGENT = web.AppKey("agent", AgentApplication[TurnState])
CONNECTIONS = web.AppKey("connections", MsalConnectionManager)
AUTH_CONFIG = web.AppKey("auth_config", AgentAuthConfiguration)
# The Agents SDK's JWT middleware reads its configuration from this plain string key.
SDK_AUTH_CONFIG_KEY = "agent_configuration"
