"""The outbox: replies that could not be sent within their turn wait on the delivery queue.

A turn has a few seconds to answer. When the tenant's send rate is used up (an install
burst) or the connector keeps answering 429 or 502, the reply is not dropped: the sender
hands it here, and it goes on the delivery queue as a ``deliver`` message with its own
delivery id. A worker claims it in the ledger (campaign ``replies-<UTC date>``) and sends it
through the same sender, so the learner gets it late, and once.
"""

from __future__ import annotations

from typing import Any

from teams_app.delivery.sender import Outbound
from teams_app.engine.clock import Clock
from teams_app.storage.engine_ports import DeliveryQueue

REPLY_KIND = "reply"


def reply_campaign(day: str) -> str:
    """The ledger campaign of the replies queued on a UTC day."""
    return f"replies-{day}"


def reply_delivery(message: Outbound, day: str) -> dict[str, Any]:
    """The queued form of a reply."""
    return {
        "campaign": reply_campaign(day),
        "recipient": message.delivery_id,
        "tenant": message.tenant_id,
        "user": message.user_id,
        "kind": REPLY_KIND,
        "activity": message.activity,
    }


class QueueOutbox:
    """:class:`~teams_app.delivery.sender.Outbox` on the delivery queue."""

    def __init__(self, queue: DeliveryQueue, clock: Clock) -> None:
        self._queue = queue
        self._clock = clock

    async def put(self, message: Outbound, *, delay: float) -> None:
        """See :meth:`Outbox.put`."""
        day = self._clock.now().date().isoformat()
        await self._queue.put(
            {"type": "deliver", "deliveries": [reply_delivery(message, day)]}, delay=delay
        )
