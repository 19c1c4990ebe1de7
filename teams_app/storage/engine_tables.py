"""Azure Table Storage adapters of the engine's ports.

Key design
----------
==============================================  ===========================================
``<prefix>conversations``                       a learner's :class:`Contact`: PK ``<tenant>``,
                                                RK ``<user>`` (the reference, settings, what
                                                was last sent, the next check); ETag-guarded
``<prefix>learners``                            review items beside the learner's profile:
RK ``review|<lesson>|<question>``               PK ``<tenant>|<user>``; one FSRS card each
``<prefix>at<YYYYMMDDHH>``                       the schedule, a table per UTC hour: PK the
                                                minute, RK ``<tenant>|<user>``: a planner
                                                tick reads only the hours it plans
``<prefix>deliveries``                          the ledger: PK ``<campaign>|<tenant>``, RK
                                                ``<tenant>|<user>`` (or a reply's id); the
                                                claim is an insert (or a guarded update of a
                                                RETRY row) before anything is sent
``<prefix>engine``                              PK ``lease``: leases; PK ``rate``: each
                                                tenant's shared send schedule (see
                                                :class:`TableRateGate`)
==============================================  ===========================================

Every call runs under the account's :class:`~teams_app.storage.guard.StorageGuard`.
"""

from __future__ import annotations

import asyncio
import json
import logging
import math
from collections import Counter
from collections.abc import Awaitable, Mapping
from datetime import UTC, date, datetime, timedelta
from typing import Any

from azure.core.exceptions import (
    AzureError,
    HttpResponseError,
    ResourceExistsError,
    ResourceModifiedError,
    ResourceNotFoundError,
)
from azure.data.tables import UpdateMode
from azure.data.tables.aio import TableClient, TableServiceClient

from teams_app.domain.review import ReviewItem
from teams_app.domain.schedule import Cadence, Preferences
from teams_app.storage.batching import Batcher
from teams_app.storage.engine_memory import CLAIM_LEASE
from teams_app.storage.engine_ports import (
    OPEN_STATES,
    Claim,
    Contact,
    Held,
    Outcome,
    State,
    StoredContact,
)
from teams_app.storage.etags import (
    is_precondition,
    replace_if_unchanged,
    save_if_unchanged,
    save_operation,
)
from teams_app.storage.guard import StorageGuard, create_tables
from teams_app.storage.keys import decode_part, join_key
from teams_app.storage.ports import LearnerKey, StorageUnavailable

logger = logging.getLogger(__name__)

# A claim is made a quarter of a second before its send slot, and can wait this long for
# others of the tenant to go in the same transaction; an outcome, written after the send,
# can wait longer (the more go together, the less each costs).
CLAIM_BATCH_SECONDS = 0.02
RECORD_BATCH_SECONDS = 0.05
BATCH_DEADLINE_SECONDS = 10.0  # for a transaction of up to 100 writes
READS_AT_ONCE = 16  # point reads under way at once for one batch of contacts
RANGE_READ_MIN = 4  # a tenant's contacts read together with one query, from this many
RANGE_READ_MAX = 48  # contacts one range read looks for (its page is parsed at one go)
RANGE_READ_SPREAD = 4  # rows a range read reads at most, per contact it looks for
REVIEW_PREFIX = "review|"
CAMPAIGN_INDEX = "index||campaigns"  # never a campaign's partition: no part is empty
KEPT_CLIENTS = 8  # hour tables whose clients are kept open
SLOT_TABLE = "at"  # the schedule's hourly tables: <prefix>at<YYYYMMDDHH>


def _iso(value: datetime | None) -> str:
    return value.astimezone(UTC).isoformat() if value else ""


def _when(text: Any) -> datetime | None:
    return datetime.fromisoformat(text) if isinstance(text, str) and text else None


def _day(text: Any) -> date | None:
    return date.fromisoformat(text) if isinstance(text, str) and text else None


def contact_to_columns(contact: Contact) -> dict[str, Any]:
    """A contact's columns (without keys)."""
    prefs = contact.preferences
    return {
        "Reference": json.dumps(contact.reference, separators=(",", ":")),
        "InstalledAt": _iso(contact.installed_at),
        "TimeZone": contact.time_zone,
        "Cadence": prefs.cadence.value,
        "Hour": prefs.hour,
        "Days": ",".join(str(d) for d in sorted(prefs.working_days)),
        "Paused": prefs.paused,
        "Unreachable": contact.unreachable,
        "WelcomedBy": contact.welcomed_by,
        "ChallengeWeek": contact.challenge_week,
        "ChallengeId": contact.challenge_id,
        "PulseWeek": contact.pulse_week,
        "ReviewsSentOn": contact.reviews_sent_on.isoformat() if contact.reviews_sent_on else "",
        "NudgedAt": _iso(contact.nudged_at),
        "LastSentOn": contact.last_sent_on.isoformat() if contact.last_sent_on else "",
        "NextCheck": _iso(contact.next_check),
    }


def contact_from_columns(row: dict[str, Any], fallback_installed: datetime) -> Contact:
    """Read :func:`contact_to_columns` (rows from before these columns existed read as a
    contact installed at ``fallback_installed`` with default settings)."""
    days = row.get("Days") or ""
    return Contact(
        reference=json.loads(row.get("Reference") or "{}"),
        installed_at=_when(row.get("InstalledAt")) or fallback_installed,
        time_zone=str(row.get("TimeZone") or ""),
        preferences=Preferences(
            cadence=Cadence(row.get("Cadence") or Cadence.WEEKLY.value),
            hour=int(row.get("Hour") or 9),
            working_days=frozenset(int(d) for d in days.split(","))
            if days
            else frozenset(range(5)),
            paused=bool(row.get("Paused")),
        ),
        unreachable=bool(row.get("Unreachable")),
        welcomed_by=str(row.get("WelcomedBy") or ""),
        challenge_week=str(row.get("ChallengeWeek") or ""),
        challenge_id=str(row.get("ChallengeId") or ""),
        pulse_week=str(row.get("PulseWeek") or ""),
        reviews_sent_on=_day(row.get("ReviewsSentOn")),
        nudged_at=_when(row.get("NudgedAt")),
        last_sent_on=_day(row.get("LastSentOn")),
        next_check=_when(row.get("NextCheck")),
    )


def _stored_contact(row: Any) -> StoredContact:
    """A contacts row as a :class:`StoredContact` (rows written before the install time was
    kept read as installed when the row was last written)."""
    stamp = row.metadata.get("timestamp")
    fallback = stamp if isinstance(stamp, datetime) else datetime(2026, 1, 1, tzinfo=UTC)
    return StoredContact(contact_from_columns(dict(row), fallback), str(row.metadata["etag"]))


_ContactSave = tuple[LearnerKey, Contact, str | None]


def _contact_entity(key: LearnerKey, contact: Contact) -> dict[str, Any]:
    return {
        "PartitionKey": join_key(key.tenant_id),
        "RowKey": join_key(key.user_id),
        **contact_to_columns(contact),
    }


class TableContacts:
    """:class:`~teams_app.storage.engine_ports.ContactStore` on Azure Tables (the learner
    store delegates to it: contacts and review items live in its tables)."""

    def __init__(self, service: TableServiceClient, prefix: str, guard: StorageGuard) -> None:
        self._contacts: TableClient = service.get_table_client(f"{prefix}conversations")
        self._learners: TableClient = service.get_table_client(f"{prefix}learners")
        self._guard = guard
        # A tenant's contacts saved together (a check's learners) go as one transaction.
        self._saves: Batcher[_ContactSave, str] = Batcher(self._save_together, self._save_alone)

    async def close(self) -> None:
        await self._saves.drain()
        await self._contacts.close()
        await self._learners.close()

    async def get_contact(self, key: LearnerKey) -> StoredContact | None:
        try:
            async with self._guard.call("contact read"):
                row = await self._contacts.get_entity(
                    join_key(key.tenant_id), join_key(key.user_id)
                )
        except ResourceNotFoundError:
            return None
        except AzureError as err:
            raise StorageUnavailable("contact read failed") from err
        return _stored_contact(row)

    async def get_contacts(self, keys: list[LearnerKey]) -> dict[LearnerKey, StoredContact]:
        """Many contacts. A tenant's :data:`RANGE_READ_MIN` or more are read in row-key order,
        :data:`RANGE_READ_MAX` at a time, each lot with one query over the range of row keys
        from its first to its last (learners due together are neighbours in the schedule,
        and often in the contacts too: one request instead of dozens). A query reads at most
        :data:`RANGE_READ_SPREAD` times as many rows as it looks for; what lies past them is
        read key by key, as are a tenant's few. (Not one query with the row keys OR-ed
        together: Azure Tables answers that with a scan of the whole partition.)"""
        by_tenant: dict[str, list[LearnerKey]] = {}
        for key in sorted(dict.fromkeys(keys), key=lambda k: join_key(k.user_id)):
            by_tenant.setdefault(key.tenant_id, []).append(key)
        slots = asyncio.Semaphore(READS_AT_ONCE)
        found: dict[LearnerKey, StoredContact] = {}

        async def read(key: LearnerKey) -> None:
            async with slots:
                if (stored := await self.get_contact(key)) is not None:
                    found[key] = stored

        async def read_range(tenant: str, mine: list[LearnerKey]) -> None:
            async with slots:
                past = await self._read_range(tenant, mine, found)
            await asyncio.gather(*(read(key) for key in past))

        work: list[Awaitable[None]] = []
        for tenant, mine in by_tenant.items():
            for first in range(0, len(mine), RANGE_READ_MAX):
                lot = mine[first : first + RANGE_READ_MAX]
                if len(lot) >= RANGE_READ_MIN:
                    work.append(read_range(tenant, lot))
                else:
                    work.extend(read(key) for key in lot)
        await asyncio.gather(*work)
        return found

    async def _read_range(
        self, tenant: str, keys: list[LearnerKey], found: dict[LearnerKey, StoredContact]
    ) -> list[LearnerKey]:
        """One page of the query over ``keys``' row keys; puts what it found in ``found``
        and returns the keys past the end of the page (still to be read)."""
        wanted = {join_key(key.user_id): key for key in keys}
        rows = sorted(wanted)
        last = ""
        try:
            async with self._guard.call("contacts read"):
                pages: Any = self._contacts.query_entities(
                    "PartitionKey eq @pk and RowKey ge @lo and RowKey le @hi",
                    parameters={"pk": join_key(tenant), "lo": rows[0], "hi": rows[-1]},
                    results_per_page=min(1000, RANGE_READ_SPREAD * len(rows)),
                ).by_page()
                page = await anext(pages)
                async for row in page:
                    last = row["RowKey"]
                    if (key := wanted.get(last)) is not None:
                        found[key] = _stored_contact(row)
                finished = pages.continuation_token is None
        except AzureError as err:
            raise StorageUnavailable("contacts read failed") from err
        return [] if finished else [wanted[row] for row in rows if row > last]

    async def save_contact(self, key: LearnerKey, contact: Contact, etag: str | None) -> str:
        return await self._saves.submit(join_key(key.tenant_id), (key, contact, etag))

    async def _save_alone(self, save: _ContactSave) -> str:
        key, contact, etag = save
        try:
            async with self._guard.call("contact write"):
                return await save_if_unchanged(self._contacts, _contact_entity(key, contact), etag)
        except AzureError as err:
            raise StorageUnavailable("contact write failed") from err

    async def _save_together(self, _tenant: object, saves: list[_ContactSave]) -> list[str]:
        operations = [save_operation(_contact_entity(k, c), etag) for k, c, etag in saves]
        async with self._guard.call("contact writes", deadline=BATCH_DEADLINE_SECONDS):
            written = await self._contacts.submit_transaction(operations)
        return [str(meta["etag"]) for meta in written]

    async def review_items(self, key: LearnerKey) -> list[ReviewItem]:
        try:
            async with self._guard.call("review items read"):
                rows = self._learners.query_entities(
                    "PartitionKey eq @pk and RowKey ge @lo and RowKey lt @hi",
                    parameters={
                        "pk": join_key(key.tenant_id, key.user_id),
                        "lo": REVIEW_PREFIX,
                        "hi": "review}",
                    },
                )
                return [ReviewItem.from_json(json.loads(r["Item"])) async for r in rows]
        except AzureError as err:
            raise StorageUnavailable("review items read failed") from err

    async def save_review_items(self, key: LearnerKey, items: list[ReviewItem]) -> None:
        partition = join_key(key.tenant_id, key.user_id)
        entities = [
            {
                "PartitionKey": partition,
                "RowKey": REVIEW_PREFIX + join_key(*i.item.split("/", 1)),
                "Item": json.dumps(i.to_json(), separators=(",", ":")),
                "Due": i.due,
            }
            for i in items
        ]
        try:
            async with self._guard.call("review items write"):
                for start in range(0, len(entities), 100):
                    chunk = entities[start : start + 100]
                    await self._learners.submit_transaction(
                        [("upsert", e, {"mode": UpdateMode.REPLACE}) for e in chunk]
                    )
        except AzureError as err:
            raise StorageUnavailable("review items write failed") from err


_Entry = tuple[datetime, LearnerKey]


class TableSchedule:
    """:class:`~teams_app.storage.engine_ports.ScheduleIndex` on Azure Tables: one table per
    UTC hour (``<prefix>at<YYYYMMDDHH>``), PK the minute, RK the learner. A tick reads only
    the tables of the hours it plans, so its cost follows what is due in them, not the
    number of learners; an hour's table is dropped whole once it is two days old (the
    high-volume delete pattern), not row by row."""

    def __init__(self, service: TableServiceClient, prefix: str, guard: StorageGuard) -> None:
        self._service = service
        self._prefix = prefix
        self._guard = guard
        self._known: set[str] = set()
        self._clients: dict[str, TableClient] = {}  # the hours in use, newest last
        # Learners put in (or taken out of) the same minute together go as one transaction.
        self._adds: Batcher[_Entry, None] = Batcher(self._add_together, self._add_alone)
        self._removes: Batcher[_Entry, None] = Batcher(self._remove_together, self._remove_alone)

    async def open(self) -> None:
        return None  # tables are created as hours fill

    async def close(self) -> None:
        await self._adds.drain()
        await self._removes.drain()
        for client in self._clients.values():
            await client.close()
        self._clients.clear()

    async def _client(self, name: str) -> TableClient:
        """A client for an hour's table, kept while the hour is in use."""
        client = self._clients.pop(name, None) or self._service.get_table_client(name)
        self._clients[name] = client
        while len(self._clients) > KEPT_CLIENTS:
            oldest = next(iter(self._clients))
            await self._clients.pop(oldest).close()
        return client

    def _table(self, hour: datetime) -> str:
        return f"{self._prefix}{SLOT_TABLE}{hour.astimezone(UTC):%Y%m%d%H}"

    def _slot(self, at: datetime) -> tuple[str, str]:
        """The table and partition of an instant."""
        return self._table(at), f"{at.astimezone(UTC):%M}"

    async def add(self, at: datetime, key: LearnerKey) -> None:
        await self._adds.submit(self._slot(at), (at, key))

    async def _add_alone(self, entry: _Entry) -> None:
        await self._add_together(self._slot(entry[0]), [entry])

    async def _add_together(self, slot: object, entries: list[_Entry]) -> list[None]:
        name, partition = self._slot(entries[0][0])
        table = await self._client(name)
        rows = [{"PartitionKey": partition, "RowKey": _learner_row(k)} for _, k in entries]
        try:
            async with self._guard.call("schedule write", deadline=BATCH_DEADLINE_SECONDS):
                if name not in self._known:
                    await self._service.create_table_if_not_exists(name)
                    self._known.add(name)
                if len(rows) == 1:
                    await table.upsert_entity(rows[0], mode=UpdateMode.REPLACE)
                else:
                    await table.submit_transaction(
                        [("upsert", row, {"mode": UpdateMode.REPLACE}) for row in rows]
                    )
        except AzureError as err:
            self._known.discard(name)  # it may have been purged: create it next time
            raise StorageUnavailable("schedule write failed") from err
        return [None] * len(entries)

    async def due(self, start: datetime, end: datetime) -> list[tuple[datetime, LearnerKey]]:
        hours = []
        hour = start.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
        while hour < end:
            hours.append(hour)
            hour += timedelta(hours=1)
        found = await asyncio.gather(*(self._hour(h, start, end) for h in hours))
        return [entry for rows in found for entry in rows]

    async def add_many(
        self, entries: list[tuple[datetime, LearnerKey]], *, new: bool = False
    ) -> None:
        """:meth:`add` for many learners at once, a hundred rows to a transaction (for
        seeding and imports); ``new`` when none of the rows exists yet (creating is much
        cheaper than upserting into a large partition on Azurite)."""
        operation = "create" if new else "upsert"
        groups: dict[tuple[str, str], list[dict[str, Any]]] = {}
        for at, key in entries:
            partition = f"{at.astimezone(UTC):%M}"
            groups.setdefault((self._table(at), partition), []).append(
                {"PartitionKey": partition, "RowKey": _learner_row(key)}
            )
        try:
            for name in {name for name, _ in groups} - self._known:
                async with self._guard.call("create schedule table"):
                    await self._service.create_table_if_not_exists(name)
                self._known.add(name)
            for (name, _), rows in groups.items():
                table = await self._client(name)
                for first in range(0, len(rows), 100):
                    chunk = rows[first : first + 100]
                    async with self._guard.call("schedule write", deadline=30):
                        await table.submit_transaction([(operation, row) for row in chunk])
        except AzureError as err:
            raise StorageUnavailable("schedule write failed") from err

    async def _hour(
        self, hour: datetime, start: datetime, end: datetime
    ) -> list[tuple[datetime, LearnerKey]]:
        low = max(0, math.ceil((start - hour).total_seconds() / 60))
        high = min(60, math.ceil((end - hour).total_seconds() / 60))
        query, params = "", {}
        if low > 0 or high < 60:
            query = "PartitionKey ge @lo and PartitionKey lt @hi"
            params = {"lo": f"{low:02d}", "hi": f"{high:02d}"}
        table = await self._client(self._table(hour))
        out = []
        try:
            async with self._guard.call("schedule read", deadline=30):
                rows = (
                    table.query_entities(
                        query, parameters=params, select=["PartitionKey", "RowKey"]
                    )
                    if query
                    else table.list_entities(select=["PartitionKey", "RowKey"])
                )
                async for row in rows:
                    at = hour + timedelta(minutes=int(row["PartitionKey"]))
                    if start <= at < end:
                        out.append((at, _learner_of(row["RowKey"])))
        except ResourceNotFoundError:
            return []  # nobody is due in that hour
        except AzureError as err:
            raise StorageUnavailable("schedule read failed") from err
        return out

    async def remove(self, at: datetime, key: LearnerKey) -> None:
        await self._removes.submit(self._slot(at), (at, key))

    async def _remove_alone(self, entry: _Entry) -> None:
        name, partition = self._slot(entry[0])
        table = await self._client(name)
        try:
            async with self._guard.call("schedule delete"):
                await table.delete_entity(partition, _learner_row(entry[1]))
        except ResourceNotFoundError:
            return
        except AzureError as err:
            raise StorageUnavailable("schedule delete failed") from err

    async def _remove_together(self, slot: object, entries: list[_Entry]) -> list[None]:
        """All or nothing: a row already gone fails it, and each is then removed alone."""
        name, partition = self._slot(entries[0][0])
        table = await self._client(name)
        operations = [
            ("delete", {"PartitionKey": partition, "RowKey": _learner_row(k)}) for _, k in entries
        ]
        async with self._guard.call("schedule delete", deadline=BATCH_DEADLINE_SECONDS):
            await table.submit_transaction(operations)
        return [None] * len(entries)

    async def purge(self, before: datetime) -> int:
        """Drop the tables of hours before ``before``; returns how many."""
        first = f"{self._prefix}{SLOT_TABLE}"
        last = self._table(before)
        try:
            async with self._guard.call("schedule purge", deadline=60):
                names = [
                    t.name
                    async for t in self._service.query_tables(
                        "TableName ge @lo and TableName lt @hi",
                        parameters={"lo": first, "hi": last},
                    )
                ]
                for name in names:
                    await self._service.delete_table(name)
                    self._known.discard(name)
                    if (client := self._clients.pop(name, None)) is not None:
                        await client.close()
        except AzureError as err:
            raise StorageUnavailable("schedule purge failed") from err
        return len(names)


def _open_etag(state: State, etag: str) -> str | None:
    """What :meth:`Ledger.plan` answers for a row in ``state``: its ETag while queued, ""
    while it waits for a retry (claimed the long way: its counts carry on), else ``None``."""
    if state is State.QUEUED:
        return etag
    return "" if state in OPEN_STATES else None


def ledger_partition(campaign: str, recipient: str) -> str:
    """The partition of the campaign's row for ``recipient``: one per tenant (a learner's
    recipient key begins with their tenant, a reply's with "reply"). A tenant's sends are
    paced by Teams' limit per tenant, so no partition is written faster than a partition
    serves, however many tenants a campaign reaches; a tenant's writes arriving together
    go as one transaction; and a tenant's report reads its own partition."""
    return join_key(campaign, recipient.split("|", 1)[0])


def _campaign_range(campaign: str) -> tuple[str, str]:
    """The campaign's partition keys lie in ``[low, high)`` (and so does the campaign
    index's, were a campaign called "index")."""
    low = join_key(campaign) + "|"
    return low, low[:-1] + chr(ord("|") + 1)


def _learner_row(key: LearnerKey) -> str:
    return join_key(key.tenant_id, key.user_id)


def _learner_of(row_key: str) -> LearnerKey:
    tenant, user = (decode_part(p) for p in row_key.split("|", 1))
    return LearnerKey(tenant, user)


_Record = tuple[Claim, Outcome]


def _outcome_row(claim: Claim, outcome: Outcome) -> dict[str, Any]:
    return {
        "PartitionKey": ledger_partition(claim.campaign, claim.recipient),
        "RowKey": join_key(claim.recipient),
        "State": outcome.state.value,
        "Attempts": claim.attempts,
        "Throttled": claim.throttled + outcome.throttled,
        "Retried": claim.attempts > 1 or outcome.tries > 1,
        "Status": outcome.http_status,
        "ActivityId": outcome.activity_id,
    }


_Plan = tuple[str, str, datetime]
_Replace = tuple[dict[str, Any], str]  # an entity and the ETag it must still have


def _plan_row(campaign: str, recipient: str, now: datetime) -> dict[str, Any]:
    return {
        "PartitionKey": ledger_partition(campaign, recipient),
        "RowKey": join_key(recipient),
        "State": State.QUEUED.value,
        "PlannedAt": now,
        "Attempts": 0,
        "Throttled": 0,
    }


class TableLedger:
    """:class:`~teams_app.storage.engine_ports.Ledger` on Azure Tables. Campaign names are
    also kept in an index partition (one upsert per campaign per process), so the report
    lists campaigns without reading every delivery."""

    def __init__(
        self,
        service: TableServiceClient,
        prefix: str,
        guard: StorageGuard,
        claim_lease: timedelta = CLAIM_LEASE,
    ) -> None:
        self._service = service
        self._table: TableClient = service.get_table_client(f"{prefix}deliveries")
        self._guard = guard
        self._lease = claim_lease
        self._indexed: set[str] = set()
        # A check's deliveries to one tenant are planned in one transaction; the tenant's
        # claims and outcomes arriving within a few milliseconds of each other are too.
        self._plans: Batcher[_Plan, str | None] = Batcher(self._plan_together, self._plan_alone)
        self._claims: Batcher[_Replace, Any] = Batcher(
            self._claim_together, self._claim_alone, window=CLAIM_BATCH_SECONDS
        )
        self._records: Batcher[_Record, None] = Batcher(
            self._record_together, self._record_one, window=RECORD_BATCH_SECONDS
        )

    async def open(self) -> None:
        await create_tables(self._service, self._guard, self._table)

    async def close(self) -> None:
        await self._plans.drain()
        await self._claims.drain()
        await self._records.drain()  # what was recorded is written
        await self._table.close()

    async def _index(self, campaign: str) -> None:
        if campaign in self._indexed:
            return
        await self._table.upsert_entity(
            {"PartitionKey": CAMPAIGN_INDEX, "RowKey": join_key(campaign)},
            mode=UpdateMode.REPLACE,
        )
        self._indexed.add(campaign)

    async def plan(self, campaign: str, recipient: str, now: datetime) -> str | None:
        return await self._plans.submit(
            ledger_partition(campaign, recipient), (campaign, recipient, now)
        )

    async def _plan_together(self, _partition: object, plans: list[_Plan]) -> list[str | None]:
        """All or nothing: a row planned before fails it, and each is then planned alone."""
        operations = [("create", _plan_row(*plan)) for plan in plans]
        async with self._guard.call("ledger plan", deadline=BATCH_DEADLINE_SECONDS):
            await self._index(plans[0][0])
            written = await self._table.submit_transaction(operations)
        return [str(meta["etag"]) for meta in written]

    async def _plan_alone(self, plan: _Plan) -> str | None:
        campaign, recipient, now = plan
        entity = _plan_row(campaign, recipient, now)
        pk, rk = entity["PartitionKey"], entity["RowKey"]
        try:
            async with self._guard.call("ledger plan"):
                await self._index(campaign)
                try:
                    meta = await self._table.create_entity(entity)
                    return str(meta["etag"])
                except ResourceExistsError:
                    row = await self._table.get_entity(pk, rk, select=["State"])
        except AzureError as err:
            raise StorageUnavailable("ledger plan failed") from err
        return _open_etag(State(row["State"]), str(row.metadata["etag"]))

    async def claim(
        self,
        campaign: str,
        recipient: str,
        owner: str,
        now: datetime,
        etag: str | None = None,
    ) -> Claim | Held | None:
        pk, rk = ledger_partition(campaign, recipient), join_key(recipient)
        entity: dict[str, Any] = {
            "PartitionKey": pk,
            "RowKey": rk,
            "State": State.SENDING.value,
            "Owner": owner,
            "ClaimedAt": now,
        }
        if etag:  # queued and, we hope, untouched since: one write
            first = {**entity, "Attempts": 1, "Throttled": 0}
            try:
                meta = await self._claims.submit(pk, (first, etag))
                return Claim(campaign, recipient, str(meta["etag"]), 1)
            except ResourceModifiedError:
                pass  # it moved on: look at it
            except HttpResponseError as err:
                if not is_precondition(err):
                    raise StorageUnavailable("ledger claim failed") from err
            except AzureError as err:
                raise StorageUnavailable("ledger claim failed") from err
        try:
            async with self._guard.call("ledger claim"):
                try:
                    row = await self._table.get_entity(pk, rk)
                except ResourceNotFoundError:  # a reply handed over by its turn: no plan row
                    await self._index(campaign)
                    meta = await self._table.create_entity({**entity, "Attempts": 1})
                    return Claim(campaign, recipient, str(meta["etag"]), 1)
                state, etag = State(row["State"]), str(row.metadata["etag"])
                if state is State.SENDING:
                    age = now - row["ClaimedAt"]
                    if age <= self._lease:
                        return Held((self._lease - age).total_seconds())
                    await self._replace({**row, "State": State.UNKNOWN.value}, etag)
                    return None
                if state not in OPEN_STATES:
                    return None
                attempts = int(row.get("Attempts") or 0) + 1
                throttled = int(row.get("Throttled") or 0)
                entity.update(Attempts=attempts, Throttled=throttled)
                meta = await self._replace(entity, etag)
                return Claim(campaign, recipient, str(meta["etag"]), attempts, throttled)
        except (ResourceExistsError, ResourceModifiedError):
            return Held(1.0)  # someone else moved first: look again shortly
        except HttpResponseError as err:
            if is_precondition(err):
                return Held(1.0)
            raise StorageUnavailable("ledger claim failed") from err
        except AzureError as err:
            raise StorageUnavailable("ledger claim failed") from err

    async def _replace(self, entity: Mapping[str, Any], etag: str) -> Mapping[str, Any]:
        return await replace_if_unchanged(self._table, entity, etag)

    async def _claim_alone(self, claim: _Replace) -> Mapping[str, Any]:
        async with self._guard.call("ledger claim"):
            return await self._replace(*claim)

    async def _claim_together(self, _partition: object, claims: list[_Replace]) -> list[Any]:
        """All or nothing: a row that moved fails it, and each is then claimed alone."""
        operations = [save_operation(entity, etag) for entity, etag in claims]
        async with self._guard.call("ledger claim", deadline=BATCH_DEADLINE_SECONDS):
            return list(await self._table.submit_transaction(operations))

    async def record(self, claim: Claim, outcome: Outcome) -> None:
        """Outcomes arriving within :data:`RECORD_BATCH_SECONDS` of each other are written
        together, a hundred to a transaction per campaign and tenant (a transaction that
        fails, for one row that moved, is written row by row); each call returns once its
        row is written."""
        await self._records.submit(
            ledger_partition(claim.campaign, claim.recipient), (claim, outcome)
        )

    async def _record_together(self, _partition: object, records: list[_Record]) -> list[None]:
        operations = [save_operation(_outcome_row(c, o), c.etag) for c, o in records]
        async with self._guard.call("ledger record", deadline=BATCH_DEADLINE_SECONDS):
            await self._table.submit_transaction(operations)
        return [None] * len(records)

    async def _record_one(self, record: _Record) -> None:
        claim, outcome = record
        entity = _outcome_row(claim, outcome)
        try:
            async with self._guard.call("ledger record"):
                try:
                    await self._replace(entity, claim.etag)
                except (ResourceModifiedError, HttpResponseError) as err:
                    if isinstance(err, HttpResponseError) and not is_precondition(err):
                        raise
                    if outcome.state is State.SENT:  # it arrived: that beats a sweeper's UNKNOWN
                        await self._table.upsert_entity(entity, mode=UpdateMode.REPLACE)
        except AzureError as err:
            raise StorageUnavailable("ledger record failed") from err

    async def counts(self, campaign: str, tenant_id: str | None = None) -> dict[str, int]:
        """A query over the campaign's partitions, or the tenant's one."""
        counted: Counter[str] = Counter()
        if tenant_id is not None:
            query = "PartitionKey eq @pk"
            parameters = {"pk": ledger_partition(campaign, join_key(tenant_id, ""))}
        else:
            first, last = _campaign_range(campaign)
            query = "PartitionKey ge @first and PartitionKey lt @last and PartitionKey ne @index"
            parameters = {"first": first, "last": last, "index": CAMPAIGN_INDEX}
        try:
            async with self._guard.call("ledger read", deadline=120):
                rows = self._table.query_entities(
                    query, parameters=parameters, select=["State", "Retried", "Throttled"]
                )
                async for row in rows:
                    counted[str(row["State"])] += 1
                    counted["retried"] += 1 if row.get("Retried") else 0
                    counted["throttled"] += int(row.get("Throttled") or 0)
        except AzureError as err:
            raise StorageUnavailable("ledger read failed") from err
        return {k: v for k, v in counted.items() if v or k in ("retried", "throttled")}

    async def campaigns(self) -> list[str]:
        try:
            async with self._guard.call("ledger read", deadline=30):
                rows = self._table.query_entities(
                    "PartitionKey eq @pk", parameters={"pk": CAMPAIGN_INDEX}, select=["RowKey"]
                )
                return sorted([decode_part(row["RowKey"]) async for row in rows])
        except AzureError as err:
            raise StorageUnavailable("ledger read failed") from err

    async def deliveries_of(self, recipient: str) -> dict[str, str]:
        """Point reads, one per campaign (:data:`READS_AT_ONCE` at a time)."""
        slots = asyncio.Semaphore(READS_AT_ONCE)

        async def read(campaign: str) -> tuple[str, str | None]:
            async with slots, self._guard.call("ledger read"):
                try:
                    row = await self._table.get_entity(
                        ledger_partition(campaign, recipient),
                        join_key(recipient),
                        select=["State"],
                    )
                except ResourceNotFoundError:
                    return campaign, None
                return campaign, str(row["State"])

        try:
            found = await asyncio.gather(*(read(c) for c in await self.campaigns()))
        except AzureError as err:
            raise StorageUnavailable("ledger read failed") from err
        return {campaign: state for campaign, state in found if state is not None}

    async def forget(self, recipient: str) -> int:
        """The recipient's rows found by :meth:`deliveries_of`, deleted by key."""
        found = await self.deliveries_of(recipient)
        slots = asyncio.Semaphore(READS_AT_ONCE)

        async def delete(campaign: str) -> None:
            async with slots, self._guard.call("ledger delete"):
                await self._table.delete_entity(
                    ledger_partition(campaign, recipient), join_key(recipient)
                )

        try:
            await asyncio.gather(*(delete(c) for c in found))
        except AzureError as err:
            raise StorageUnavailable("ledger delete failed") from err
        return len(found)


class TableLeases:
    """:class:`~teams_app.storage.engine_ports.Leases` on Azure Tables (an ETag race: of
    several contenders exactly one wins)."""

    def __init__(self, service: TableServiceClient, prefix: str, guard: StorageGuard) -> None:
        self._service = service
        self._table: TableClient = service.get_table_client(f"{prefix}engine")
        self._guard = guard
        self._held: dict[tuple[str, str], str] = {}  # (lease, owner): ETag of our last write

    async def open(self) -> None:
        await create_tables(self._service, self._guard, self._table)

    async def close(self) -> None:
        await self._table.close()

    @property
    def table(self) -> TableClient:
        """The engine table (the shared rate gate keeps its rows here too)."""
        return self._table

    async def acquire(self, name: str, owner: str, seconds: float, now: datetime) -> bool:
        entity = {
            "PartitionKey": "lease",
            "RowKey": name,
            "Owner": owner,
            "ExpiresAt": now + timedelta(seconds=seconds),
        }
        held = self._held.pop((name, owner), None)
        try:
            async with self._guard.call("lease"):
                if held is not None:  # renewing our own: one conditional write
                    try:
                        meta = await replace_if_unchanged(self._table, entity, held)
                        self._held[(name, owner)] = str(meta["etag"])
                        return True
                    except ResourceModifiedError:
                        pass  # someone took it over: look at who holds it now
                try:
                    current = await self._table.get_entity("lease", name)
                except ResourceNotFoundError:
                    try:
                        meta = await self._table.create_entity(entity)
                    except ResourceExistsError:
                        return False
                    self._held[(name, owner)] = str(meta["etag"])
                    return True
                if current["Owner"] != owner and current["ExpiresAt"] > now:
                    return False
                meta = await replace_if_unchanged(
                    self._table, entity, str(current.metadata["etag"])
                )
                self._held[(name, owner)] = str(meta["etag"])
                return True
        except ResourceModifiedError:
            return False
        except HttpResponseError as err:
            if is_precondition(err):
                return False
            raise StorageUnavailable("lease failed") from err
        except AzureError as err:
            raise StorageUnavailable("lease failed") from err
