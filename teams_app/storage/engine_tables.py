"""Azure Table Storage adapters of the engine's ports.

Key design
----------
==============================================  ===========================================
``<prefix>conversations``                       a learner's :class:`Contact`: PK ``<tenant>``,
                                                RK ``<user>`` (the reference, settings, what
                                                was last sent, the next check); ETag-guarded
``<prefix>learners``                            review items beside the learner's profile:
RK ``review|<lesson>|<question>``               PK ``<tenant>|<user>``; one FSRS card each
``<prefix>schedule``                            PK ``at|<YYYY-MM-DDTHH:MM>`` (UTC minute), RK
                                                ``<tenant>|<user>``: a planner tick reads only
                                                the partitions whose minute has come
``<prefix>deliveries``                          the ledger: PK ``<campaign>``, RK
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

import json
from collections import Counter
from collections.abc import Mapping
from datetime import UTC, date, datetime, timedelta
from typing import Any

from azure.core import MatchConditions
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
from teams_app.storage.guard import StorageGuard, create_tables
from teams_app.storage.keys import decode_part, join_key
from teams_app.storage.ports import ConcurrentUpdate, LearnerKey, StorageUnavailable

REVIEW_PREFIX = "review|"
CAMPAIGN_INDEX = "index|campaigns"  # never a campaign: encoded keys have no "|"
SLOT_PREFIX = "at|"


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


def _precondition(err: HttpResponseError) -> bool:
    return err.status_code == 412 or "UpdateConditionNotSatisfied" in str(
        getattr(err, "error_code", "")
    )


class TableContacts:
    """:class:`~teams_app.storage.engine_ports.ContactStore` on Azure Tables (the learner
    store delegates to it: contacts and review items live in its tables)."""

    def __init__(self, service: TableServiceClient, prefix: str, guard: StorageGuard) -> None:
        self._contacts: TableClient = service.get_table_client(f"{prefix}conversations")
        self._learners: TableClient = service.get_table_client(f"{prefix}learners")
        self._guard = guard

    async def close(self) -> None:
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
        stamp = row.metadata.get("timestamp")
        fallback = stamp if isinstance(stamp, datetime) else datetime(2026, 1, 1, tzinfo=UTC)
        return StoredContact(contact_from_columns(dict(row), fallback), str(row.metadata["etag"]))

    async def save_contact(self, key: LearnerKey, contact: Contact, etag: str | None) -> str:
        entity = {
            "PartitionKey": join_key(key.tenant_id),
            "RowKey": join_key(key.user_id),
            **contact_to_columns(contact),
        }
        try:
            async with self._guard.call("contact write"):
                if etag is None:
                    meta = await self._contacts.create_entity(entity)
                else:
                    meta = await self._contacts.update_entity(
                        entity,
                        mode=UpdateMode.REPLACE,
                        etag=etag,
                        match_condition=MatchConditions.IfNotModified,
                    )
        except (ResourceExistsError, ResourceModifiedError) as err:
            raise ConcurrentUpdate from err
        except HttpResponseError as err:
            if _precondition(err):
                raise ConcurrentUpdate from err
            raise StorageUnavailable("contact write failed") from err
        except AzureError as err:
            raise StorageUnavailable("contact write failed") from err
        return str(meta["etag"])

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


class TableSchedule:
    """:class:`~teams_app.storage.engine_ports.ScheduleIndex` on Azure Tables."""

    def __init__(self, service: TableServiceClient, prefix: str, guard: StorageGuard) -> None:
        self._service = service
        self._table: TableClient = service.get_table_client(f"{prefix}schedule")
        self._guard = guard

    async def open(self) -> None:
        await create_tables(self._service, self._guard, self._table)

    async def close(self) -> None:
        await self._table.close()

    @staticmethod
    def _partition(at: datetime) -> str:
        return SLOT_PREFIX + at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M")

    async def add(self, at: datetime, key: LearnerKey) -> None:
        entity = {
            "PartitionKey": self._partition(at),
            "RowKey": join_key(key.tenant_id, key.user_id),
        }
        try:
            async with self._guard.call("schedule write"):
                await self._table.upsert_entity(entity, mode=UpdateMode.REPLACE)
        except AzureError as err:
            raise StorageUnavailable("schedule write failed") from err

    async def due(self, start: datetime, end: datetime) -> list[tuple[datetime, LearnerKey]]:
        found: list[tuple[datetime, LearnerKey]] = []
        try:
            async with self._guard.call("schedule read", deadline=30):
                rows = self._table.query_entities(
                    "PartitionKey ge @lo and PartitionKey lt @hi",
                    parameters={"lo": self._partition(start), "hi": self._partition(end)},
                    select=["PartitionKey", "RowKey"],
                )
                async for row in rows:
                    at = datetime.fromisoformat(row["PartitionKey"][len(SLOT_PREFIX) :])
                    tenant, user = (decode_part(p) for p in row["RowKey"].split("|", 1))
                    found.append((at.replace(tzinfo=UTC), LearnerKey(tenant, user)))
        except AzureError as err:
            raise StorageUnavailable("schedule read failed") from err
        return found

    async def remove(self, at: datetime, key: LearnerKey) -> None:
        try:
            async with self._guard.call("schedule delete"):
                await self._table.delete_entity(
                    self._partition(at), join_key(key.tenant_id, key.user_id)
                )
        except AzureError as err:
            raise StorageUnavailable("schedule delete failed") from err


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

    async def open(self) -> None:
        await create_tables(self._service, self._guard, self._table)

    async def close(self) -> None:
        await self._table.close()

    async def _index(self, campaign: str) -> None:
        if campaign in self._indexed:
            return
        await self._table.upsert_entity(
            {"PartitionKey": CAMPAIGN_INDEX, "RowKey": join_key(campaign)},
            mode=UpdateMode.REPLACE,
        )
        self._indexed.add(campaign)

    async def plan(self, campaign: str, recipient: str, now: datetime) -> bool:
        pk, rk = join_key(campaign), join_key(recipient)
        entity = {
            "PartitionKey": pk,
            "RowKey": rk,
            "State": State.QUEUED.value,
            "PlannedAt": now,
            "Attempts": 0,
            "Throttled": 0,
        }
        try:
            async with self._guard.call("ledger plan"):
                await self._index(campaign)
                try:
                    await self._table.create_entity(entity)
                    return True
                except ResourceExistsError:
                    row = await self._table.get_entity(pk, rk, select=["State"])
        except AzureError as err:
            raise StorageUnavailable("ledger plan failed") from err
        return State(row["State"]) in OPEN_STATES

    async def claim(
        self, campaign: str, recipient: str, owner: str, now: datetime
    ) -> Claim | Held | None:
        pk, rk = join_key(campaign), join_key(recipient)
        entity: dict[str, Any] = {
            "PartitionKey": pk,
            "RowKey": rk,
            "State": State.SENDING.value,
            "Owner": owner,
            "ClaimedAt": now,
        }
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
            if _precondition(err):
                return Held(1.0)
            raise StorageUnavailable("ledger claim failed") from err
        except AzureError as err:
            raise StorageUnavailable("ledger claim failed") from err

    async def _replace(self, entity: Mapping[str, Any], etag: str) -> Mapping[str, Any]:
        return await self._table.update_entity(
            dict(entity),
            mode=UpdateMode.REPLACE,
            etag=etag,
            match_condition=MatchConditions.IfNotModified,
        )

    async def record(self, claim: Claim, outcome: Outcome) -> None:
        entity = {
            "PartitionKey": join_key(claim.campaign),
            "RowKey": join_key(claim.recipient),
            "State": outcome.state.value,
            "Attempts": claim.attempts,
            "Throttled": claim.throttled + outcome.throttled,
            "Retried": claim.attempts > 1 or outcome.tries > 1,
            "Status": outcome.http_status,
            "ActivityId": outcome.activity_id,
        }
        try:
            async with self._guard.call("ledger record"):
                try:
                    await self._replace(entity, claim.etag)
                except (ResourceModifiedError, HttpResponseError) as err:
                    if isinstance(err, HttpResponseError) and not _precondition(err):
                        raise
                    if outcome.state is State.SENT:  # it arrived: that beats a sweeper's UNKNOWN
                        await self._table.upsert_entity(entity, mode=UpdateMode.REPLACE)
        except AzureError as err:
            raise StorageUnavailable("ledger record failed") from err

    async def counts(self, campaign: str) -> dict[str, int]:
        counted: Counter[str] = Counter()
        try:
            async with self._guard.call("ledger read", deadline=120):
                rows = self._table.query_entities(
                    "PartitionKey eq @pk",
                    parameters={"pk": join_key(campaign)},
                    select=["State", "Retried", "Throttled"],
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


class TableLeases:
    """:class:`~teams_app.storage.engine_ports.Leases` on Azure Tables (an ETag race: of
    several contenders exactly one wins)."""

    def __init__(self, service: TableServiceClient, prefix: str, guard: StorageGuard) -> None:
        self._service = service
        self._table: TableClient = service.get_table_client(f"{prefix}engine")
        self._guard = guard

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
        try:
            async with self._guard.call("lease"):
                try:
                    current = await self._table.get_entity("lease", name)
                except ResourceNotFoundError:
                    try:
                        await self._table.create_entity(entity)
                        return True
                    except ResourceExistsError:
                        return False
                if current["Owner"] != owner and current["ExpiresAt"] > now:
                    return False
                await self._table.update_entity(
                    entity,
                    mode=UpdateMode.REPLACE,
                    etag=current.metadata["etag"],
                    match_condition=MatchConditions.IfNotModified,
                )
                return True
        except ResourceModifiedError:
            return False
        except HttpResponseError as err:
            if _precondition(err):
                return False
            raise StorageUnavailable("lease failed") from err
        except AzureError as err:
            raise StorageUnavailable("lease failed") from err
