"""Azure Table Storage adapter for :class:`~teams_app.storage.team_ports.TeamStore`.

Key design (table ``<prefix>teams``)
------------------------------------
==========================================  ==============================================
PartitionKey ``team|<tenant>|<team>``       one team
RowKey ``summary``                          the team's live :class:`TeamSummary`
                                            counters, its :class:`Publication` state and
                                            the roster's sync time; ETag-guarded
RowKey ``m|<user>``                         one member's current contribution (no name)
                                            and the epochs it was counted in
RowKey ``designated``                       the leaders an admin designated for the team
PartitionKey ``department|<tenant>``        one row per user whose department the
RowKey ``<user>``                           directory gave (it places them in a group)
PartitionKey ``assign|<tenant>``            the tenant's assignments (a track for a
RowKey ``<assignment id>``                  group, due on a date)
PartitionKey ``user|<tenant>|<user>``       one user's memberships
RowKey ``<team>``                           a link to a team the user belongs to
PartitionKey ``published|<tenant>``         what leaders read: each team's published
RowKey ``<team>``                           snapshot, with the summary row's version
==========================================  ==============================================

A member's change rewrites their ``m|`` row and the summary row in one entity-group
transaction guarded by the summary's ETag (same partition), so the live summary always
equals the sum of the member rows and every change is noted for publication exactly once; a
conflict re-reads and retries. A roster sync writes the member rows in batches of 100 and
then the rebuilt summary with the ETag read before it started, so a member update that
landed meanwhile makes it start over.

Live counters never leave the summary row. :meth:`TableTeamStore.publish` moves the
publication state on (a new snapshot, :mod:`teams_app.domain.publication`) and copies the
snapshot to the tenant's small ``published`` partition, only if its version is newer than
the copy there; the leader's view reads that one row, so its cost does not depend on the
team's size (Azurite's point reads slow down as a partition grows; the team partition holds
a row per member). A copy lost to a crash is redone by the team's next write.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import replace
from datetime import UTC, date, datetime
from typing import Any

from azure.core import MatchConditions
from azure.core.exceptions import AzureError, HttpResponseError, ResourceNotFoundError
from azure.data.tables import TableTransactionError, UpdateMode
from azure.data.tables.aio import TableClient, TableServiceClient

from teams_app.domain.assignment import Assignment
from teams_app.domain.ids import is_object_id
from teams_app.domain.publication import HistoryPoint, Publication
from teams_app.domain.team import Contribution, TeamSummary
from teams_app.storage.codec import contribution_from_json, contribution_to_json
from teams_app.storage.etags import is_precondition, replace_if_unchanged
from teams_app.storage.guard import StorageGuard
from teams_app.storage.keys import decode_part, encode_part, join_key
from teams_app.storage.ports import ConcurrentUpdate, StorageUnavailable
from teams_app.storage.team_ports import Decide, StoredTeam, TeamKey

SUMMARY_ROW = "summary"
DESIGNATED_ROW = "designated"
MEMBER_PREFIX = "m|"
BATCH_LIMIT = 100
MAX_TRIES = 8
ROSTER_DEADLINE_SECONDS = 60.0


def _team_partition(team: TeamKey) -> str:
    return "team|" + join_key(team.tenant_id, team.team_id)


def _department_partition(tenant_id: str) -> str:
    return "department|" + join_key(tenant_id)


def _assignment_partition(tenant_id: str) -> str:
    return "assign|" + join_key(tenant_id)


def _published_partition(tenant_id: str) -> str:
    return "published|" + join_key(tenant_id)


def _user_partition(tenant_id: str, user_id: str) -> str:
    return "user|" + join_key(tenant_id, user_id)


def _member_row(user_id: str) -> str:
    return MEMBER_PREFIX + join_key(user_id)


def _dumps(value: object) -> str:
    return json.dumps(value, separators=(",", ":"))


def _publication(entity: Mapping[str, Any]) -> Publication:
    """The row's publication state; a fresh one when it has none or an older format (the
    next snapshot then starts again from the live figures' sections as they release)."""
    raw = entity.get("Publication")
    try:
        return Publication.from_dict(json.loads(raw)) if raw else Publication()
    except (ValueError, TypeError, KeyError):
        return Publication()


def _counted(entity: Mapping[str, Any]) -> dict[str, int]:
    raw = entity.get("Counted")
    return {str(k): int(v) for k, v in json.loads(raw).items()} if raw else {}


def _summary(text: str | None) -> TeamSummary | None:
    """A stored summary; ``None`` when absent or in an older format (re-published soon)."""
    try:
        return TeamSummary.from_dict(json.loads(text)) if text else None
    except (ValueError, TypeError):
        return None


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
        return None if row is None else _stored(row)

    async def update_member(
        self, team: TeamKey, user_id: str, new: Contribution | None, *, join: bool = False
    ) -> bool:
        """See :meth:`TeamStore.update_member`."""
        async with self._guard.call("team update", deadline=2 * self._guard.deadline):
            return await self._update_member(team, user_id, new, join)

    async def _update_member(
        self, team: TeamKey, user_id: str, new: Contribution | None, join: bool
    ) -> bool:
        partition = _team_partition(team)
        for _ in range(MAX_TRIES):
            summary_row = await self._table_entity(partition, SUMMARY_ROW)
            if summary_row is None and join:
                summary_row = await self._create_summary(partition)
                if summary_row is None:
                    continue  # created meanwhile: read it again
            member_row = await self._get(partition, _member_row(user_id))
            if member_row is None and join:
                member_row = {"PartitionKey": partition, "RowKey": _member_row(user_id)}
            if summary_row is None or member_row is None:
                return False
            entity, etag = summary_row
            old = (
                contribution_from_json(member_row["Contribution"])
                if "Contribution" in member_row
                else None
            )
            if new is not None and old is not None:  # leadership is the roster sync's to decide
                new = replace(new, leader=old.leader)
            if old == new:
                return True
            try:
                summary = TeamSummary.from_dict(json.loads(entity["Summary"]))
            except ValueError:
                return False  # an older format: the next roster sync rebuilds it
            if old is not None:
                summary = summary.add(old, -1)
            if new is not None:
                summary = summary.add(new)
            publication, counted = _publication(entity).note(_counted(member_row), old, new)
            entity["Summary"] = _dumps(summary.to_dict())
            entity["Publication"] = _dumps(publication.to_dict())
            entity["Version"] = int(entity.get("Version", 0)) + 1
            member_op: tuple[Any, ...] = (
                (
                    "upsert",
                    {
                        **member_row,
                        "Contribution": contribution_to_json(new),
                        "Counted": _dumps(counted),
                    },
                )
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
            if new is None and not join:
                await self._unlink(team, user_id)
            return True
        raise ConcurrentUpdate

    async def _create_summary(self, partition: str) -> tuple[dict[str, Any], str] | None:
        """A new team's empty summary row (for teams made by joining); ``None`` if another
        writer created it first."""
        entity = {
            "PartitionKey": partition,
            "RowKey": SUMMARY_ROW,
            "Summary": _dumps(TeamSummary.empty().to_dict()),
            "SyncedAt": datetime.now(UTC).isoformat(),
            "Version": 0,
        }
        try:
            created = await self._table.create_entity(entity)
        except HttpResponseError as err:
            if err.status_code == 409:
                return None
            raise StorageUnavailable("team create failed") from err
        except AzureError as err:
            raise StorageUnavailable("team create failed") from err
        return entity, str(created["etag"])

    async def publish(self, team: TeamKey, decide: Decide) -> StoredTeam | None:
        """See :meth:`TeamStore.publish`."""
        async with self._guard.call("team publish", deadline=2 * self._guard.deadline):
            partition = _team_partition(team)
            for _ in range(MAX_TRIES):
                found = await self._table_entity(partition, SUMMARY_ROW)
                if found is None:
                    return None
                entity, etag = found
                live = TeamSummary.from_dict(json.loads(entity["Summary"]))
                publication = decide(live, _publication(entity))
                if publication is None:  # nothing decided: what leaders read, no more I/O
                    return _stored_of(entity)
                entity["Publication"] = _dumps(publication.to_dict())
                entity["Version"] = int(entity.get("Version", 0)) + 1
                try:
                    await replace_if_unchanged(self._table, entity, etag)
                except HttpResponseError as err:
                    if is_precondition(err):
                        continue
                    raise StorageUnavailable("team publish failed") from err
                except AzureError as err:
                    raise StorageUnavailable("team publish failed") from err
                return _stored(await self._copy_published(team, entity))
            raise ConcurrentUpdate

    async def _copy_published(self, team: TeamKey, summary_row: dict[str, Any]) -> dict[str, Any]:
        """Copy a team's snapshot to where leaders read it, unless a newer copy is there;
        returns the copy that is there."""
        version = int(summary_row["Version"])
        partition, row = _published_partition(team.tenant_id), join_key(team.team_id)
        for _ in range(MAX_TRIES):
            current = await self._table_entity(partition, row)
            if current is not None and int(current[0].get("Version", 0)) >= version:
                return current[0]
            entity = {**_published_row(team, _stored_of(summary_row)), "Version": version}
            try:
                if current is None:
                    await self._table.create_entity(entity)
                else:
                    await replace_if_unchanged(self._table, entity, current[1])
                return entity
            except HttpResponseError as err:
                if is_precondition(err) or err.status_code == 409:
                    continue
                raise StorageUnavailable("team publish failed") from err
            except AzureError as err:
                raise StorageUnavailable("team publish failed") from err
        raise ConcurrentUpdate

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
        existing = await self._member_rows(partition)
        publication = _publication(before[0]) if before else Publication()
        summary = TeamSummary.empty()
        rows: list[tuple[str, dict[str, Any]]] = []
        for user, contribution in members.items():
            summary = summary.add(contribution)
            old = existing.get(user)
            publication, counted = publication.note(
                _counted(old) if old else {},
                contribution_from_json(old["Contribution"]) if old else None,
                contribution,
            )
            row = {
                "PartitionKey": partition,
                "RowKey": _member_row(user),
                "Contribution": contribution_to_json(contribution),
                "Counted": _dumps(counted),
            }
            if old is None or any(old.get(k) != row[k] for k in ("Contribution", "Counted")):
                rows.append(("upsert", row))
        for user in existing.keys() - members.keys():
            old = existing[user]
            publication, _ = publication.note(
                _counted(old), contribution_from_json(old["Contribution"]), None
            )
            rows.append(("delete", {"PartitionKey": partition, "RowKey": _member_row(user)}))
        try:
            for start in range(0, len(rows), BATCH_LIMIT):
                await self._table.submit_transaction(rows[start : start + BATCH_LIMIT])
            entity = {
                "PartitionKey": partition,
                "RowKey": SUMMARY_ROW,
                "Summary": _dumps(summary.to_dict()),
                "Publication": _dumps(publication.to_dict()),
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
        await self._copy_published(team, entity)
        for user in members.keys() - existing.keys():
            await self._link(team, user)
        for user in existing.keys() - members.keys():
            await self._unlink(team, user)

    async def _member_rows(self, partition: str) -> dict[str, dict[str, Any]]:
        try:
            rows = self._table.query_entities(
                "PartitionKey eq @pk and RowKey ge @lo and RowKey lt @hi",
                parameters={"pk": partition, "lo": MEMBER_PREFIX, "hi": "m}"},
                select=["RowKey", "Contribution", "Counted"],
            )
            return {decode_part(r["RowKey"][len(MEMBER_PREFIX) :]): dict(r) async for r in rows}
        except AzureError as err:
            raise StorageUnavailable("roster read failed") from err

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

    async def designated(self, team: TeamKey) -> frozenset[str]:
        """See :meth:`TeamStore.designated`."""
        async with self._guard.call("leaders read"):
            row = await self._get(_team_partition(team), DESIGNATED_ROW)
        return frozenset(json.loads(row["Users"])) if row else frozenset()

    async def designate(self, team: TeamKey, user_ids: frozenset[str]) -> None:
        """See :meth:`TeamStore.designate`."""
        entity = {
            "PartitionKey": _team_partition(team),
            "RowKey": DESIGNATED_ROW,
            "Users": _dumps(sorted(user_ids)),
        }
        try:
            async with self._guard.call("leaders write"):
                await self._table.upsert_entity(entity, mode=UpdateMode.REPLACE)
        except AzureError as err:
            raise StorageUnavailable("leaders write failed") from err

    async def published_teams(self, tenant_id: str) -> list[TeamSummary]:
        """See :meth:`TeamStore.published_teams` (one query of the small published
        partition)."""
        try:
            async with self._guard.call("published read", deadline=30):
                rows = self._table.query_entities(
                    "PartitionKey eq @pk",
                    parameters={"pk": _published_partition(tenant_id)},
                    select=["RowKey", "Summary"],
                )
                found = [
                    summary
                    async for row in rows
                    if is_object_id(decode_part(row["RowKey"]))
                    and (summary := _summary(row.get("Summary"))) is not None
                ]
        except AzureError as err:
            raise StorageUnavailable("published read failed") from err
        return found

    async def published_groups(self, tenant_id: str, prefix: str) -> list[tuple[str, StoredTeam]]:
        """See :meth:`TeamStore.published_groups` (a row-key range of the small published
        partition)."""
        low = encode_part(prefix)
        try:
            async with self._guard.call("published read", deadline=30):
                rows = self._table.query_entities(
                    "PartitionKey eq @pk and RowKey ge @lo and RowKey lt @hi",
                    parameters={
                        "pk": _published_partition(tenant_id),
                        "lo": low,
                        "hi": low + "~~",  # "~" sorts after every encoded character
                    },
                )
                return [(decode_part(row["RowKey"]), _stored(row)) async for row in rows]
        except AzureError as err:
            raise StorageUnavailable("published read failed") from err

    async def group_ids(self, tenant_id: str, prefix: str) -> list[str]:
        """See :meth:`TeamStore.group_ids` (a scan of the tenant's range of team
        partitions for their summary rows: for the daily publication, not for views)."""
        low = "team|" + join_key(tenant_id) + "|" + encode_part(prefix)
        try:
            async with self._guard.call("groups read", deadline=60):
                rows = self._table.query_entities(
                    "PartitionKey ge @lo and PartitionKey lt @hi and RowKey eq @row",
                    parameters={"lo": low, "hi": low + "~~", "row": SUMMARY_ROW},
                    select=["PartitionKey"],
                )
                start = len("team|" + join_key(tenant_id) + "|")
                return sorted([decode_part(row["PartitionKey"][start:]) async for row in rows])
        except AzureError as err:
            raise StorageUnavailable("groups read failed") from err

    async def department_of(self, tenant_id: str, user_id: str) -> str | None:
        """See :meth:`TeamStore.department_of`."""
        async with self._guard.call("department read"):
            row = await self._get(_department_partition(tenant_id), join_key(user_id))
        return str(row["Department"]) if row else None

    async def set_department(self, tenant_id: str, user_id: str, department: str | None) -> None:
        """See :meth:`TeamStore.set_department`."""
        partition, row = _department_partition(tenant_id), join_key(user_id)
        try:
            async with self._guard.call("department write"):
                if department is None:
                    await self._table.delete_entity(partition, row)
                else:
                    await self._table.upsert_entity(
                        {"PartitionKey": partition, "RowKey": row, "Department": department},
                        mode=UpdateMode.REPLACE,
                    )
        except AzureError as err:
            raise StorageUnavailable("department write failed") from err

    async def put_published(self, team: TeamKey, stored: StoredTeam) -> None:
        """See :meth:`TeamStore.put_published`."""
        entity = _published_row(team, stored)
        try:
            async with self._guard.call("team publish"):
                await self._table.upsert_entity(entity, mode=UpdateMode.REPLACE)
        except AzureError as err:
            raise StorageUnavailable("team publish failed") from err

    async def assignments(self, tenant_id: str) -> list[Assignment]:
        """See :meth:`TeamStore.assignments`."""
        try:
            async with self._guard.call("assignments read"):
                rows = self._table.query_entities(
                    "PartitionKey eq @pk", parameters={"pk": _assignment_partition(tenant_id)}
                )
                found = [
                    Assignment(
                        str(r["RowKey"]),
                        str(r["Track"]),
                        str(r["Group"]),
                        date.fromisoformat(r["Due"]),
                        date.fromisoformat(r["Created"]),
                        r.get("GroupName") or None,
                    )
                    async for r in rows
                ]
        except AzureError as err:
            raise StorageUnavailable("assignments read failed") from err
        return sorted(found, key=lambda a: (a.due, a.id))

    async def save_assignment(self, tenant_id: str, assignment: Assignment) -> None:
        """See :meth:`TeamStore.save_assignment`."""
        entity = {
            "PartitionKey": _assignment_partition(tenant_id),
            "RowKey": assignment.id,
            "Track": assignment.track_id,
            "Group": assignment.group_id,
            "Due": assignment.due.isoformat(),
            "Created": assignment.created.isoformat(),
            "GroupName": assignment.group_name or "",
        }
        try:
            async with self._guard.call("assignment write"):
                await self._table.upsert_entity(entity, mode=UpdateMode.REPLACE)
        except AzureError as err:
            raise StorageUnavailable("assignment write failed") from err

    async def delete_assignment(self, tenant_id: str, assignment_id: str) -> bool:
        """See :meth:`TeamStore.delete_assignment`."""
        partition = _assignment_partition(tenant_id)
        try:
            async with self._guard.call("assignment delete"):
                if await self._get(partition, assignment_id) is None:
                    return False
                await self._table.delete_entity(partition, assignment_id)
        except AzureError as err:
            raise StorageUnavailable("assignment delete failed") from err
        return True


def _stored_of(summary_row: Mapping[str, Any]) -> StoredTeam:
    """What leaders read, from a team's summary row (its publication state)."""
    publication = _publication(summary_row)
    return StoredTeam(
        publication.snapshot,
        datetime.fromisoformat(summary_row["SyncedAt"]),
        publication.published_on,
        publication.previous,
        publication.history,
    )


def _published_row(team: TeamKey, stored: StoredTeam) -> dict[str, Any]:
    """The published partition's row for what leaders read of ``team``."""
    return {
        "PartitionKey": _published_partition(team.tenant_id),
        "RowKey": join_key(team.team_id),
        "Summary": _dumps(stored.summary.to_dict()) if stored.summary else "",
        "Previous": _dumps(stored.previous.to_dict()) if stored.previous else "",
        "PublishedOn": stored.published_on.isoformat() if stored.published_on else "",
        "History": _dumps([p.to_list() for p in stored.history]),
        "SyncedAt": stored.synced_at.astimezone(UTC).isoformat(),
    }


def _stored(row: Mapping[str, Any]) -> StoredTeam:
    published_on = row.get("PublishedOn")
    return StoredTeam(
        _summary(row.get("Summary")),
        datetime.fromisoformat(row["SyncedAt"]),
        date.fromisoformat(published_on) if published_on else None,
        _summary(row.get("Previous")),
        _history(row.get("History")),
    )


def _history(text: str | None) -> tuple[HistoryPoint, ...]:
    """A stored history; empty when absent or unreadable (it grows again from here)."""
    try:
        return tuple(HistoryPoint.from_list(p) for p in json.loads(text)) if text else ()
    except (ValueError, TypeError):
        return ()
