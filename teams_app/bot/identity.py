"""Who and when a turn is for, read from the (already authenticated) activity."""

from __future__ import annotations

from datetime import UTC, date, datetime

from microsoft_agents.activity import Activity

from teams_app.storage.ports import LearnerKey

NO_TENANT = "no-tenant"


def learner_key(activity: Activity) -> LearnerKey:
    """Tenant and user of the activity's sender (the Entra object id when Teams sends one)."""
    tenant = activity.conversation.tenant_id if activity.conversation else None
    channel_data = activity.channel_data if isinstance(activity.channel_data, dict) else {}
    tenant_data = channel_data.get("tenant")
    if not tenant and isinstance(tenant_data, dict) and isinstance(tenant_data.get("id"), str):
        tenant = tenant_data["id"]
    sender = activity.from_property
    user = (sender.aad_object_id or sender.id) if sender else None
    if not user:
        raise ValueError("activity has no sender")
    return LearnerKey(tenant_id=tenant or NO_TENANT, user_id=user)


def local_date(activity: Activity, now: datetime) -> date:
    """The sender's local date, from the activity's local timestamp when Teams sends one."""
    stamp = activity.local_timestamp
    if isinstance(stamp, datetime) and stamp.tzinfo is not None:
        return stamp.date()
    return now.astimezone(UTC).date()


def is_personal(activity: Activity) -> bool:
    """Whether this is the 1:1 chat (Teams sends ``personal``; other clients may send none)."""
    kind = activity.conversation.conversation_type if activity.conversation else None
    return kind in (None, "", "personal")
