"""Factories for Teams-shaped activities, so tests don't copy JSON around."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

BOT_ID = "28:ai-ready-bot"
_ids = itertools.count(1)


@dataclass
class TeamsUser:
    """One user in one tenant, chatting 1:1 with the bot through ``service_url``."""

    service_url: str
    user_id: str = "29:user-1"
    aad_object_id: str = "00000000-0000-4000-8000-000000000001"
    tenant_id: str = "11111111-1111-4111-8111-111111111111"
    name: str = "Ada Lovelace"
    conversation_type: str = "personal"
    local_timestamp: str | None = None
    local_timezone: str | None = None  # Teams sends the client's IANA zone
    conversation_id: str = field(default="")
    locale: str = "en-GB"  # the Teams client's language, on every activity

    def __post_init__(self) -> None:
        if not self.conversation_id:
            self.conversation_id = f"a:personal-{self.aad_object_id}"

    def _base(self, kind: str) -> dict[str, Any]:
        activity: dict[str, Any] = {
            "type": kind,
            "id": f"act-{next(_ids)}",
            "timestamp": datetime.now(UTC).isoformat(),
            "channelId": "msteams",
            "serviceUrl": self.service_url,
            "from": {"id": self.user_id, "name": self.name, "aadObjectId": self.aad_object_id},
            "recipient": {"id": BOT_ID, "name": "AI Ready"},
            "conversation": {
                "id": self.conversation_id,
                "conversationType": self.conversation_type,
                "tenantId": self.tenant_id,
            },
            "channelData": {"tenant": {"id": self.tenant_id}},
            "locale": self.locale,
        }
        if self.local_timestamp:
            activity["localTimestamp"] = self.local_timestamp
        if self.local_timezone:
            activity["localTimezone"] = self.local_timezone
        return activity

    def message(self, text: str) -> dict[str, Any]:
        """A typed message."""
        return {**self._base("message"), "text": text, "textFormat": "plain"}

    def invoke(self, verb: str, data: dict[str, Any] | None = None) -> dict[str, Any]:
        """An ``Action.Execute`` click (inputs already merged into ``data``, as Teams does)."""
        return {
            **self._base("invoke"),
            "name": "adaptiveCard/action",
            "value": {"action": {"type": "Action.Execute", "verb": verb, "data": data or {}}},
        }

    def installed(self) -> dict[str, Any]:
        """The ``conversationUpdate`` Teams sends when the app is added to the 1:1 chat."""
        return {
            **self._base("conversationUpdate"),
            "membersAdded": [{"id": BOT_ID}],
        }

    def installation_update(self, action: str = "add") -> dict[str, Any]:
        """The ``installationUpdate`` Teams sends on install or uninstall."""
        return {**self._base("installationUpdate"), "action": action}
