"""Optimistic concurrency on Azure Tables: the writes guarded by an entity's ETag, and how a
lost race looks, shared by every table adapter."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from azure.core import MatchConditions
from azure.core.exceptions import HttpResponseError, ResourceExistsError, ResourceModifiedError
from azure.data.tables import UpdateMode
from azure.data.tables.aio import TableClient

from teams_app.storage.ports import ConcurrentUpdate


def is_precondition(err: HttpResponseError) -> bool:
    """Whether a failed write lost an ETag race (412, or the service's error code for it)."""
    return err.status_code == 412 or "UpdateConditionNotSatisfied" in str(
        getattr(err, "error_code", "")
    )


async def replace_if_unchanged(
    table: TableClient, entity: Mapping[str, Any], etag: str
) -> Mapping[str, Any]:
    """Replace ``entity`` only if its row still has ``etag`` (the SDK's errors otherwise)."""
    return await table.update_entity(
        dict(entity),
        mode=UpdateMode.REPLACE,
        etag=etag,
        match_condition=MatchConditions.IfNotModified,
    )


def save_operation(entity: Mapping[str, Any], etag: str | None) -> tuple[Any, ...]:
    """:func:`save_if_unchanged` as an operation of a transaction."""
    if etag is None:
        return ("create", dict(entity))
    conditions = {
        "mode": UpdateMode.REPLACE,
        "etag": etag,
        "match_condition": MatchConditions.IfNotModified,
    }
    return ("update", dict(entity), conditions)


async def save_if_unchanged(table: TableClient, entity: Mapping[str, Any], etag: str | None) -> str:
    """Create ``entity`` (``etag`` None) or replace it if unchanged since ``etag``; returns the
    new ETag. Raises :class:`ConcurrentUpdate` when the row exists already or moved on."""
    try:
        if etag is None:
            meta = await table.create_entity(dict(entity))
        else:
            meta = await replace_if_unchanged(table, entity, etag)
    except (ResourceExistsError, ResourceModifiedError) as err:
        raise ConcurrentUpdate from err
    except HttpResponseError as err:
        if is_precondition(err):
            raise ConcurrentUpdate from err
        raise
    return str(meta["etag"])
