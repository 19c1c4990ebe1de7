"""Azure Table Storage adapter for :class:`~teams_app.storage.team_ports.TeamStore`.

Key design (table ``<prefix>teams``)
------------------------------------
==========================================  ==============================================
PartitionKey ``team|<tenant>|<team>``       one team
RowKey ``summary``                          the team's :class:`TeamSummary` counters and
                                            the roster's sync time; ETag-guarded
RowKey ``m|<user>``                         one member's current contribution (no name)
PartitionKey ``user|<tenant>|<user>``       one user's memberships
RowKey ``<team>``                           a link to a team the user belongs to
PartitionKey ``published|<tenant>``         what leaders read: a copy of each team's
RowKey ``<team>``                           summary with its version number
==========================================  ==============================================

A member's change rewrites their ``m|`` row and the summary in one entity-group transaction
guarded by the summary's ETag (same partition), so the summary always equals the sum of the
member rows; a conflict re-reads and retries. A roster sync writes the member rows in
batches of 100 and then the rebuilt summary with the ETag read before it started, so a member
update that landed meanwhile makes it start over.

Each write then publishes the new summary to the tenant's small ``published`` partition,
only if its version is newer than the copy there, and the leader's view reads that one row:
its cost does not depend on the team's size (Azurite's point reads slow down as a partition
grows; the team partition holds a row per member). A publish lost to a crash is redone by
the team's next change.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from azure.core import MatchConditions
from azure.core.exceptions import AzureError, HttpResponseError, ResourceNotFoundError
from azure.data.tables import TableTransactionError, UpdateMode
from azure.data.tables.aio import TableClient, TableServiceClient

from teams_app.domain.team import Contribution, TeamSummary
from teams_app.storage.codec import contribution_from_json, contribution_to_json
from teams_app.storage.etags import is_precondition, replace_if_unchanged
from teams_app.storage.guard import StorageGuard
from teams_app.storage.keys import decode_part, join_key
from teams_app.storage.ports import ConcurrentUpdate, StorageUnavailable
from teams_app.storage.team_ports import StoredTeam, TeamKey

SUMMARY_ROW = "summary"
MEMBER_PREFIX = "m|"
BATCH_LIMIT = 100
MAX_TRIES = 8
ROSTER_DEADLINE_SECONDS = 60.0


def _team_partition(team: TeamKey) -> str:
    return "team|" + join_key(team.tenant_id, team.team_id)


def _published_partition(tenant_id: str) -> str:
    return "published|" + join_key(tenant_id)


def _user_partition(tenant_id: str, user_id: str) -> str:
    return "user|" + join_key(tenant_id, user_id)


def _member_row(user_id: str) -> str:
    return MEMBER_PREFIX + join_key(user_id)


class TableTeamStore:
    """:class:`TeamStore` on Azure Table Storage."""

    def __init__(
        self, service: TableServiceClient, prefix: str, guard: StorageGuard | None = None
    ) -> None:
        self._service = service
        self._guard = guard or StorageGuard()
        self._table: TableClient = service.get_table_client(f"{prefix}teams")

    async def open(self) -> None:
        """Create the table if needed."""
        try:
            async with self._guard.call("create the teams table"):
                await self._service.create_table_if_not_exists(self._table.table_name)
        except AzureError as err:
            raise StorageUnavailable("cannot create the teams table") from err

    async def close(self) -> None:
        """Close the table client (the service client is closed by its owner)."""
        await self._table.close()

    async def _get(self, partition: str, row: str) -> dict[str, Any] | None:
        try:
            return dict(await self._table.get_entity(partition, row))
        except ResourceNotFoundError:
            return None
        except AzureError as err:
            raise StorageUnavailable("team read failed") from err

    async def get_team(self, team: TeamKey) -> StoredTeam | None:
        """See :meth:`TeamStore.get_team` (reads the published copy)."""
        async with self._guard.call("team read"):
            row = await self._get(_published_partition(team.tenant_id), join_key(team.team_id))
        if row is None:
            return None
        return StoredTeam(
            TeamSummary.from_dict(json.loads(row["Summary"])),
            datetime.fromisoformat(row["SyncedAt"]),
        )

    async def update_member(self, team: TeamKey, user_id: str, new: Contribution | None) -> bool:
        """See :meth:`TeamStore.update_member`."""
        async with self._guard.call("team update", deadline=2 * self._guard.deadline):
            return await self._update_member(team, user_id, new)

    async def _update_member(self, team: TeamKey, user_id: str, new: Contribution | None) -> bool:
        partition = _team_partition(team)
        for _ in range(MAX_TRIES):
            summary_row = await self._table_entity(partition, SUMMARY_ROW)
            member_row = await self._get(partition, _member_row(user_id))
            if summary_row is None or member_row is None:
                return False
            entity, etag = summary_row
            old = contribution_from_json(member_row["Contribution"])
            if new is not None:  # leadership is the roster sync's to decide
                new = replace(new, leader=old.leader)
            if old == new:
                return True
            summary = TeamSummary.from_dict(json.loads(entity["Summary"])).add(old, -1)
            if new is not None:
                summary = summary.add(new)
            entity["Summary"] = json.dumps(summary.to_dict(), separators=(",", ":"))
            entity["Version"] = int(entity.get("Version", 0)) + 1
            member_op: tuple[Any, ...] = (
                ("upsert", {**member_row, "Contribution": contribution_to_json(new)})
                if new is not None
                else ("delete", member_row)
            )
            operations: list[Any] = [
                (
                    "update",
                    entity,
                    {
                        "mode": UpdateMode.REPLACE,
                        "etag": etag,
                        "match_condition": MatchConditions.IfNotModified,
                    },
                ),
                member_op,
            ]
            try:
                await self._table.submit_transaction(operations)
            except TableTransactionError as err:
                if is_precondition(err):
                    continue
                raise StorageUnavailable("team update failed") from err
            except AzureError as err:
                raise StorageUnavailable("team update failed") from err
            await self._publish(team, entity)
            if new is None:
                await self._unlink(team, user_id)
            return True
        raise ConcurrentUpdate

    async def _publish(self, team: TeamKey, summary_row: dict[str, Any]) -> None:
        """Copy a summary to where leaders read it, unless a newer copy is already there."""
        version = int(summary_row["Version"])
        partition, row = _published_partition(team.tenant_id), join_key(team.team_id)
        for _ in range(MAX_TRIES):
            current = await self._table_entity(partition, row)
            if current is not None and int(current[0].get("Version", 0)) >= version:
                return
            entity = {
                "PartitionKey": partition,
                "RowKey": row,
                "Summary": summary_row["Summary"],
                "SyncedAt": summary_row["SyncedAt"],
                "Version": version,
            }
            try:
                if current is None:
                    await self._table.create_entity(entity)
                else:
                    await replace_if_unchanged(self._table, entity, current[1])
                return
            except HttpResponseError as err:
                if is_precondition(err) or err.status_code == 409:
                    continue
                raise StorageUnavailable("team publish failed") from err
            except AzureError as err:
                raise StorageUnavailable("team publish failed") from err

    async def _table_entity(self, partition: str, row: str) -> tuple[dict[str, Any], str] | None:
        try:
            entity = await self._table.get_entity(partition, row)
        except ResourceNotFoundError:
            return None
        except AzureError as err:
            raise StorageUnavailable("team read failed") from err
        return dict(entity), str(entity.metadata["etag"])

    async def replace_roster(
        self, team: TeamKey, members: Mapping[str, Contribution], synced_at: datetime
    ) -> None:
        """See :meth:`TeamStore.replace_roster`."""
        async with self._guard.call("roster write", deadline=ROSTER_DEADLINE_SECONDS):
            await self._replace_roster(team, members, synced_at)

    async def _replace_roster(
        self, team: TeamKey, members: Mapping[str, Contribution], synced_at: datetime
    ) -> None:
        partition = _team_partition(team)
        before = await self._table_entity(partition, SUMMARY_ROW)
        existing = await self._member_ids(partition)
        summary = TeamSummary.empty()
        for contribution in members.values():
            summary = summary.add(contribution)
        rows = [
            (
                "upsert",
                {
                    "PartitionKey": partition,
                    "RowKey": _member_row(user),
                    "Contribution": contribution_to_json(c),
                },
            )
            for user, c in members.items()
        ]
        rows += [
            ("delete", {"PartitionKey": partition, "RowKey": _member_row(user)})
            for user in existing - members.keys()
        ]
        try:
            for start in range(0, len(rows), BATCH_LIMIT):
                await self._table.submit_transaction(rows[start : start + BATCH_LIMIT])
            entity = {
                "PartitionKey": partition,
                "RowKey": SUMMARY_ROW,
                "Summary": json.dumps(summary.to_dict(), separators=(",", ":")),
                "SyncedAt": synced_at.astimezone(UTC).isoformat(),
                "Members": len(members),
                "Version": int(before[0].get("Version", 0)) + 1 if before else 1,
            }
            if before is None:
                await self._table.create_entity(entity)
            else:
                await replace_if_unchanged(self._table, entity, before[1])
        except HttpResponseError as err:
            if is_precondition(err) or err.status_code == 409:
                raise ConcurrentUpdate from err
            raise StorageUnavailable("roster write failed") from err
        except AzureError as err:
            raise StorageUnavailable("roster write failed") from err
        await self._publish(team, entity)
        for user in members.keys() - existing:
            await self._link(team, user)
        for user in existing - members.keys():
            await self._unlink(team, user)

    async def _member_ids(self, partition: str) -> set[str]:
        try:
            rows = self._table.query_entities(
                "PartitionKey eq @pk and RowKey ge @lo and RowKey lt @hi",
                parameters={"pk": partition, "lo": MEMBER_PREFIX, "hi": "m}"},
                select=["RowKey"],
            )
            return {decode_part(r["RowKey"][len(MEMBER_PREFIX) :]) async for r in rows}
        except AzureError as err:
            raise StorageUnavailable("roster read failed") from err

    async def _link(self, team: TeamKey, user_id: str) -> None:
        entity = {
            "PartitionKey": _user_partition(team.tenant_id, user_id),
            "RowKey": join_key(team.team_id),
            "TeamId": team.team_id,
        }
        try:
            await self._table.upsert_entity(entity, mode=UpdateMode.REPLACE)
        except AzureError as err:
            raise StorageUnavailable("membership write failed") from err

    async def _unlink(self, team: TeamKey, user_id: str) -> None:
        try:
            await self._table.delete_entity(
                _user_partition(team.tenant_id, user_id), join_key(team.team_id)
            )
        except AzureError as err:
            raise StorageUnavailable("membership delete failed") from err

    async def member_ids(self, team: TeamKey) -> list[str]:
        """See :meth:`TeamStore.member_ids`."""
        async with self._guard.call("roster read", deadline=30):
            return sorted(await self._member_ids(_team_partition(team)))

    async def teams_of(self, tenant_id: str, user_id: str) -> list[str]:
        """See :meth:`TeamStore.teams_of`."""
        try:
            async with self._guard.call("membership read"):
                rows = self._table.query_entities(
                    "PartitionKey eq @pk", parameters={"pk": _user_partition(tenant_id, user_id)}
                )
                return sorted([r["TeamId"] async for r in rows])
        except AzureError as err:
            raise StorageUnavailable("membership read failed") from err
