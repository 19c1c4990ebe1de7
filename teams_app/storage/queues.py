"""Azure Queue Storage adapter of :class:`~teams_app.storage.engine_ports.DeliveryQueue`.

Queue ``<prefix>deliveries`` carries JSON messages (plain text, 64 KiB at most); a message
that keeps failing moves to ``<prefix>deliveries-poison``. Visibility is whole seconds and
the service clock has one-second resolution, so delays are rounded up and padded by a second
(a message must not wake just before its slot); Azure caps a delay at seven days. Receives
always pass ``max_messages`` (without it the SDK keeps paging until the queue is empty).
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from typing import Any

from azure.core.exceptions import AzureError, ResourceExistsError, ResourceNotFoundError
from azure.core.pipeline.transport import AioHttpTransport
from azure.storage.queue.aio import QueueClient

from teams_app.storage.engine_ports import QueueMessage
from teams_app.storage.guard import StorageGuard
from teams_app.storage.ports import StorageUnavailable

MAX_DELAY_SECONDS = 7 * 24 * 3600 - 60
MAX_BATCH = 32
RETRY_OPTIONS: dict[str, Any] = {"retry_total": 2, "retry_backoff_factor": 0.2}


def _seconds(delay: float) -> int:
    """A delay as Azure takes it: whole seconds, rounded up, plus one, capped."""
    if delay <= 0:
        return 0
    return min(MAX_DELAY_SECONDS, math.ceil(delay) + 1)


class AzureDeliveryQueue:
    """:class:`DeliveryQueue` on an Azure storage queue."""

    def __init__(
        self,
        connection_string: str,
        prefix: str,
        guard: StorageGuard,
        *,
        proxy: Callable[[str], str | None] | None = None,
    ) -> None:
        name = f"{prefix}deliveries"
        endpoint = QueueClient.from_connection_string(connection_string, name).url
        chosen = proxy(endpoint) if proxy is not None else None
        options: dict[str, Any] = {"proxies": {"http": chosen, "https": chosen}} if chosen else {}
        self._queue, self._poison = (
            QueueClient.from_connection_string(
                connection_string,
                queue_name,
                transport=AioHttpTransport(
                    use_env_settings=False, connection_timeout=2, read_timeout=5
                ),
                **RETRY_OPTIONS,
                **options,
            )
            for queue_name in (name, f"{name}-poison")
        )
        self._guard = guard

    async def open(self) -> None:
        """Create the queues if needed."""
        for queue in (self._queue, self._poison):
            try:
                async with self._guard.call("create queue"):
                    await queue.create_queue()
            except ResourceExistsError:
                continue
            except AzureError as err:
                raise StorageUnavailable("cannot create the delivery queue") from err

    async def close(self) -> None:
        await self._queue.close()
        await self._poison.close()

    async def put(self, body: dict[str, Any], *, delay: float = 0.0) -> None:
        text = json.dumps(body, separators=(",", ":"))
        try:
            async with self._guard.call("queue put"):
                await self._queue.send_message(
                    text, visibility_timeout=_seconds(delay) or None, time_to_live=-1
                )
        except AzureError as err:
            raise StorageUnavailable("queue put failed") from err

    async def receive(self, count: int, *, visibility: float) -> list[QueueMessage]:
        wanted = max(1, min(MAX_BATCH, count))
        try:
            async with self._guard.call("queue receive"):
                pages = self._queue.receive_messages(
                    messages_per_page=wanted,
                    max_messages=wanted,
                    visibility_timeout=_seconds(visibility),
                )
                received = [m async for m in pages]
        except AzureError as err:
            raise StorageUnavailable("queue receive failed") from err
        out = []
        for message in received:
            try:
                body = json.loads(message.content)
            except (TypeError, ValueError):
                body = {"type": "unreadable"}
            if not isinstance(body, dict):
                body = {"type": "unreadable"}
            out.append(QueueMessage(message.id, body, message.dequeue_count or 1, message))
        return out

    async def delete(self, message: QueueMessage) -> None:
        try:
            async with self._guard.call("queue delete"):
                await self._queue.delete_message(message.receipt)
        except ResourceNotFoundError:
            return  # gone already (or our receipt is stale: someone else has it)
        except AzureError as err:
            raise StorageUnavailable("queue delete failed") from err

    async def delay(self, message: QueueMessage, seconds: float) -> QueueMessage:
        try:
            async with self._guard.call("queue delay"):
                updated = await self._queue.update_message(
                    message.receipt, visibility_timeout=_seconds(seconds)
                )
        except AzureError as err:
            raise StorageUnavailable("queue delay failed") from err
        message.receipt.pop_receipt = updated.pop_receipt
        return QueueMessage(message.id, message.body, message.dequeue_count, message.receipt)

    async def set_aside(self, message: QueueMessage) -> None:
        try:
            async with self._guard.call("queue set aside"):
                await self._poison.send_message(
                    json.dumps(message.body, separators=(",", ":")), time_to_live=-1
                )
                await self._queue.delete_message(message.receipt)
        except AzureError as err:
            raise StorageUnavailable("queue set aside failed") from err

    async def poisoned(self) -> int:
        try:
            async with self._guard.call("queue properties"):
                properties = await self._poison.get_queue_properties()
        except AzureError as err:
            raise StorageUnavailable("queue properties failed") from err
        return int(properties.approximate_message_count or 0)
