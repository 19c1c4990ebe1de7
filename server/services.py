"""The one wiring function: :func:`build_services` turns settings into working services.

The web app, the queue worker, the demo seeder and the benchmarks all call it, so they share
one set of defaults (Azure Tables from the connection string, Graph with the bot's
credentials, MSAL for the bot's token, the paced sender). Each keyword argument replaces one
part and nothing else: passing a store does not silently change the team store, passing a
directory does not switch tab sign-in on or off.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import time
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

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
from teams_app.cards import CardRenderer
from teams_app.content_files import load_curriculum
from teams_app.delivery.pacing import LocalRateGate, RateGate
from teams_app.delivery.sender import Outbound, Outbox, Sender
from teams_app.directory import Directory, GraphDirectory
from teams_app.domain.content import Curriculum
from teams_app.engine.clock import Clock
from teams_app.engine.contacts import Contacts
from teams_app.engine.gate import TableRateGate
from teams_app.engine.kickoff import TeamChallenges
from teams_app.engine.outbox import QueueOutbox
from teams_app.engine.planner import TICK, Planner, owner_name
from teams_app.engine.runner import MIN_TICK_SECONDS, Engine
from teams_app.engine.worker import Worker
from teams_app.learning import LearningService
from teams_app.my_learning import MyLearningService
from teams_app.proactive import ProactiveCards
from teams_app.storage.engine_ports import EnginePorts, Ledger
from teams_app.storage.engine_tables import TableLeases, TableLedger, TableSchedule
from teams_app.storage.keys import join_key
from teams_app.storage.ports import LearnerKey, LearnerStore
from teams_app.storage.queues import AzureDeliveryQueue
from teams_app.storage.tables import TableLearnerStore
from teams_app.storage.team_ports import TeamStore
from teams_app.storage.team_tables import TableTeamStore
from teams_app.team_service import TeamService

logger = logging.getLogger(__name__)

CARDS_DIR = Path(__file__).resolve().parent.parent / "cards"


@dataclass
class Services:
    """Everything the edges (web app, worker, CLI) need, built from settings."""

    settings: Settings
    curriculum: Curriculum
    clock: Callable[[], datetime]
    engine_clock: Clock
    http: OutboundHttp
    store: LearnerStore
    team_store: TeamStore
    engine: EnginePorts
    contacts: Contacts
    connector: ConnectorClient
    sender: Sender
    learning: LearningService
    my_learning: MyLearningService
    team_challenges: TeamChallenges
    teams: TeamService
    directory: Directory | None
    background: Background
    executor: ThreadPoolExecutor = field(repr=False)

    def engine_runner(self, owner: str | None = None) -> Engine:
        """A planner and a worker for this process (the web app's, or a worker's)."""
        name = owner or owner_name()
        cards = ProactiveCards(
            CardRenderer(CARDS_DIR), self.curriculum, self.settings.min_group_size
        )
        tick = max(TICK, timedelta(seconds=MIN_TICK_SECONDS * self.engine_clock.speed))
        planner = Planner(
            self.engine.leases,
            self.engine.schedule,
            self.engine.queue,
            self.engine_clock,
            owner=name,
            tick=tick,
        )
        worker = Worker(
            queue=self.engine.queue,
            ledger=self.engine.ledger,
            store=self.store,
            schedule=self.engine.schedule,
            sender=self.sender,
            curriculum=self.curriculum,
            render=cards,
            clock=self.engine_clock,
            owner=name,
            default_zone=self.settings.default_time_zone,
            tenant_rate=self.settings.send_rate,
        )
        return Engine(planner, worker, self.engine_clock)


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
    engine: EnginePorts | None = None,
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
        engine_clock = Clock(
            speed=settings.dev_clock_speed,
            epoch=settings.dev_clock_epoch or time.time(),
            source=clock,
        )
        now = engine_clock.now
        account: TableLearnerStore | None = None
        if store is None or team_store is None or engine is None:
            account = TableLearnerStore.from_connection_string(
                settings.storage_connection_string, settings.table_prefix, proxy=http.proxy
            )
            await account.open()
            stack.push_async_callback(account.close)
        if store is None:
            assert account is not None
            store = account
        if team_store is None:
            assert account is not None
            teams_table = TableTeamStore(account.service, settings.table_prefix, account.guard)
            await teams_table.open()
            stack.push_async_callback(teams_table.close)
            team_store = teams_table
        if engine is None:
            assert account is not None
            engine = await _table_engine(settings, account, http, stack)
        if gate is None:
            leases = engine.leases
            gate = (
                TableRateGate(leases.table, account.guard, settings.send_rate)
                if isinstance(leases, TableLeases) and account is not None
                else LocalRateGate(settings.send_rate)
            )
        contacts = Contacts(store, engine.schedule, now, default_zone=settings.default_time_zone)
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

        async def unreachable(message: Outbound) -> None:
            await contacts.unreachable(LearnerKey(message.tenant_id, message.user_id))

        sender = Sender(
            connector,
            gate,
            outbox=outbox or QueueOutbox(engine.queue, engine_clock),
            on_gone=unreachable,
            observe=on_send,
        )
        background = Background()
        stack.push_async_callback(background.drain)
        teams = TeamService(
            store,
            team_store,
            curriculum,
            directory,
            threshold=settings.min_group_size,
            roster_ttl=timedelta(hours=settings.roster_hours),
            clock=now,
            ledger=engine.ledger,
        )
        stack.push_async_callback(teams.close)
        learning = LearningService(
            store,
            curriculum,
            min_group=settings.min_group_size,
            on_change=teams.learner_changed,
            on_delete=functools.partial(_forget_learner, teams, engine.ledger),
            background=background,
            contacts=contacts,
            assignments=teams.assignments_of,
        )
        yield Services(
            settings=settings,
            curriculum=curriculum,
            clock=now,
            engine_clock=engine_clock,
            http=http,
            store=store,
            team_store=team_store,
            engine=engine,
            contacts=contacts,
            connector=connector,
            sender=sender,
            learning=learning,
            my_learning=MyLearningService(
                learning, store, curriculum, directory, engine.ledger, clock=now, teams=team_store
            ),
            team_challenges=TeamChallenges(
                team_store,
                store,
                engine.ledger,
                engine.queue,
                curriculum,
                clock=now,
                real_now=lambda: datetime.now(UTC),
                default_zone=settings.default_time_zone,
            ),
            teams=teams,
            directory=directory,
            background=background,
            executor=executor,
        )


async def _forget_learner(teams: TeamService, ledger: Ledger, key: LearnerKey) -> None:
    """Before a learner's own rows go: out of every team's figures, then out of the
    delivery ledger (which names them per campaign)."""
    await teams.learner_deleted(key)
    await ledger.forget(join_key(key.tenant_id, key.user_id))


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


async def _table_engine(
    settings: Settings,
    account: TableLearnerStore,
    http: OutboundHttp,
    stack: contextlib.AsyncExitStack,
) -> EnginePorts:
    """The engine's tables and queue on the storage account."""
    service, guard, prefix = account.service, account.guard, settings.table_prefix
    schedule = TableSchedule(service, prefix, guard)
    ledger = TableLedger(service, prefix, guard)
    leases = TableLeases(service, prefix, guard)
    queue = AzureDeliveryQueue(settings.storage_connection_string, prefix, guard, proxy=http.proxy)
    for part in (schedule, ledger, leases, queue):
        await part.open()
        stack.push_async_callback(part.close)
    return EnginePorts(schedule, ledger, leases, queue)
