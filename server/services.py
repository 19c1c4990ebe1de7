"""The one wiring function: :func:`build_services` turns settings into working services.

The web app, the queue worker, the demo seeder and the benchmarks all call it, so they share
one set of defaults (Azure Tables from the connection string, Graph with the bot's
credentials, MSAL for the bot's token, the paced sender). Each keyword argument replaces one
part and nothing else: passing a store does not silently change the team store, passing a
directory does not switch tab sign-in on or off.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from server.config import Settings
from teams_app.adapters.bot_tokens import MsalBotTokens
from teams_app.adapters.connector import (
    AnonymousTokens,
    ConnectorClient,
    HostAllowList,
    TokenSource,
)
from teams_app.adapters.http import OutboundHttp, open_outbound_http
from teams_app.adapters.msal_http import msal_executor
from teams_app.background import Background
from teams_app.content_files import load_curriculum
from teams_app.delivery.pacing import LocalRateGate, RateGate
from teams_app.delivery.sender import Outbox, Sender
from teams_app.directory import Directory, GraphDirectory
from teams_app.domain.content import Curriculum
from teams_app.learning import LearningService
from teams_app.storage.ports import LearnerStore
from teams_app.storage.tables import TableLearnerStore
from teams_app.storage.team_ports import TeamStore
from teams_app.storage.team_tables import TableTeamStore
from teams_app.team_service import TeamService

logger = logging.getLogger(__name__)


@dataclass
class Services:
    """Everything the edges (web app, worker, CLI) need, built from settings."""

    settings: Settings
    curriculum: Curriculum
    clock: Callable[[], datetime]
    http: OutboundHttp
    store: LearnerStore
    team_store: TeamStore
    connector: ConnectorClient
    sender: Sender
    learning: LearningService
    teams: TeamService
    directory: Directory | None
    background: Background
    executor: ThreadPoolExecutor = field(repr=False)


def connector_hosts(settings: Settings) -> HostAllowList:
    """The outbound allow-list: the configured Teams hosts, plus loopback in development."""
    return HostAllowList(settings.connector_hosts, allow_loopback=settings.is_development)


@contextlib.asynccontextmanager
async def build_services(
    settings: Settings,
    *,
    store: LearnerStore | None = None,
    team_store: TeamStore | None = None,
    curriculum: Curriculum | None = None,
    clock: Callable[[], datetime] | None = None,
    directory: Directory | None = None,
    tokens: TokenSource | None = None,
    gate: RateGate | None = None,
    outbox: Outbox | None = None,
    on_send: Callable[[str], None] | None = None,
) -> AsyncIterator[Services]:
    """Build the services, and close what was opened when the block ends."""
    async with contextlib.AsyncExitStack() as stack:
        executor = msal_executor()
        stack.callback(executor.shutdown, wait=False, cancel_futures=True)
        http = open_outbound_http(settings.https_proxy, settings.no_proxy)
        stack.push_async_callback(http.close)
        extra = [settings.extra_content_dir] if settings.extra_content_dir else []
        curriculum = curriculum or load_curriculum(settings.content_dir, extra)
        now = clock or (lambda: datetime.now(UTC))
        if store is None or team_store is None:
            tables = TableLearnerStore.from_connection_string(
                settings.storage_connection_string, settings.table_prefix, proxy=http.proxy
            )
            await tables.open()
            stack.push_async_callback(tables.close)
            if store is None:
                store = tables
            if team_store is None:
                teams_table = TableTeamStore(tables.service, settings.table_prefix, tables.guard)
                await teams_table.open()
                stack.push_async_callback(teams_table.close)
                team_store = teams_table
        if tokens is None:
            tokens = _bot_tokens(settings, executor)
            if isinstance(tokens, MsalBotTokens):
                stack.callback(tokens.close)
        if directory is None and settings.has_bot_credentials:
            graph = GraphDirectory(
                settings.bot_client_id,
                settings.bot_client_secret,
                authority=settings.entra_authority,
                graph_url=settings.graph_url,
                http=http,
                executor=executor,
            )
            stack.callback(graph.close)
            directory = graph
        connector = ConnectorClient(http, tokens, connector_hosts(settings))
        sender = Sender(
            connector, gate or LocalRateGate(settings.send_rate), outbox=outbox, observe=on_send
        )
        leaders = settings.leaders
        if settings.dev_demo_user is not None:  # local development: the demo user leads
            leaders = leaders | {settings.dev_demo_user[1]}
        background = Background()
        stack.push_async_callback(background.drain)
        teams = TeamService(
            store,
            team_store,
            curriculum,
            directory,
            threshold=settings.min_group_size,
            designated_leaders=leaders,
            roster_ttl=timedelta(hours=settings.roster_hours),
            clock=now,
        )
        stack.push_async_callback(teams.close)
        learning = LearningService(
            store,
            curriculum,
            min_group=settings.min_group_size,
            on_change=teams.learner_changed,
            on_delete=teams.learner_deleted,
            background=background,
        )
        yield Services(
            settings=settings,
            curriculum=curriculum,
            clock=now,
            http=http,
            store=store,
            team_store=team_store,
            connector=connector,
            sender=sender,
            learning=learning,
            teams=teams,
            directory=directory,
            background=background,
            executor=executor,
        )


def _bot_tokens(settings: Settings, executor: ThreadPoolExecutor) -> TokenSource:
    if not settings.has_bot_credentials:
        return AnonymousTokens()  # only reachable with the explicit local-dev switch
    return MsalBotTokens(
        settings.bot_client_id,
        settings.bot_client_secret,
        tenant_id=settings.bot_tenant_id,
        authority=settings.entra_authority,
        executor=executor,
    )
