"""The mail provider's delivery reports, as anymail delivers them, into the ledger."""

from __future__ import annotations

from typing import Any

from anymail.signals import AnymailTrackingEvent

from notifications import delivery


def on_tracking(sender: object, event: AnymailTrackingEvent, esp_name: str, **_: Any) -> None:
    """Receiver of anymail's tracking signal (connected in NotificationsConfig.ready)."""
    metadata = event.metadata or {}
    delivery.record_delivery_event(
        notification_id=str(metadata.get("notification_id") or "") or None,
        message_id=event.message_id,
        event_type=event.event_type,
        event_id=event.event_id,
        recipient=event.recipient or "",
        reason=event.reject_reason or event.description or "",
        occurred_at=event.timestamp,
    )
