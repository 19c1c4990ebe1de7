"""Every object shared through the aiohttp application, under a typed key."""

from __future__ import annotations

import jinja2
from aiohttp import web
from microsoft_agents.authentication.msal import MsalConnectionManager
from microsoft_agents.hosting.aiohttp import CloudAdapter
from microsoft_agents.hosting.core import AgentApplication, AgentAuthConfiguration, TurnState

from server.config import Settings
from server.tab_auth import TabTokenValidator
from teams_app.directory import Directory
from teams_app.domain.content import Curriculum
from teams_app.learning import LearningService
from teams_app.storage.ports import LearnerStore
from teams_app.storage.team_ports import TeamStore
from teams_app.team_service import TeamService

SETTINGS = web.AppKey("settings", Settings)
TEMPLATES = web.AppKey("templates", jinja2.Environment)
TEAM_STORE = web.AppKey("team_store", TeamStore)
TEAMS = web.AppKey("teams", TeamService)
TAB_VALIDATOR = web.AppKey("tab_validator", TabTokenValidator)
DIRECTORY = web.AppKey("directory", Directory)
CURRICULUM = web.AppKey("curriculum", Curriculum)
STORE = web.AppKey("store", LearnerStore)
SERVICE = web.AppKey("service", LearningService)
ADAPTER = web.AppKey("adapter", CloudAdapter)
AGENT = web.AppKey("agent", AgentApplication[TurnState])
CONNECTIONS = web.AppKey("connections", MsalConnectionManager)
AUTH_CONFIG = web.AppKey("auth_config", AgentAuthConfiguration)
# The Agents SDK's JWT middleware reads its configuration from this plain string key.
SDK_AUTH_CONFIG_KEY = "agent_configuration"
