"""Notification channels (§8.2). Webhook channels are the ones the simulator delivers to."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlparse

from mackerel_sim.errors import bad_request, not_found
from mackerel_sim.state import JSON, Channel, Organization, World
from mackerel_sim.webhooks import CHANNEL_EVENTS

# Only these types can be created or updated through the API (§8.2).
WRITABLE_TYPES = ("email", "slack", "webhook")
# Per-event webhook names are accepted too and folded into the channel event `monitor`.
EVENT_ALIASES = {"monitorCreate": "monitor", "monitorUpdate": "monitor", "monitorDelete": "monitor"}


def normalize_events(raw: Any) -> list[str]:
    if raw is None:
        return list(CHANNEL_EVENTS)
    if not isinstance(raw, list):
        raise bad_request("events must be an array")
    events: list[str] = []
    for given in raw:
        event = EVENT_ALIASES.get(given, given)
        if event not in CHANNEL_EVENTS:
            raise bad_request(f"unknown event: {given!r}")
        if event not in events:
            events.append(event)
    return events


def _url(raw: JSON) -> str:
    url = raw.get("url")
    parsed = urlparse(url if isinstance(url, str) else "")
    if parsed.scheme not in ("http", "https") or not parsed.netloc:
        raise bad_request("url must be an http or https URL")
    return str(url)


def _fields(raw: Any, kind: str) -> JSON:
    if not isinstance(raw, dict):
        raise bad_request("invalid body")
    name = raw.get("name")
    if not isinstance(name, str) or not name:
        raise bad_request("name is required")
    fields: JSON = {"name": name, "events": normalize_events(raw.get("events")), "extra": {}}
    if kind in ("webhook", "slack"):
        fields["url"] = _url(raw)
        graph = raw.get("enabledGraphImage", False)
        if not isinstance(graph, bool):
            raise bad_request("enabledGraphImage must be a boolean")
        fields["enabled_graph_image"] = graph
    if kind == "slack":
        fields["extra"]["mentions"] = raw.get("mentions") or {}
    if kind == "email":
        for key in ("emails", "userIds"):
            value = raw.get(key) or []
            if not isinstance(value, list):
                raise bad_request(f"{key} must be an array")
            fields["extra"][key] = value
    return fields


def find(org: Organization, channel_id: str) -> Channel:
    channel = org.channels.get(channel_id)
    if channel is None:
        raise not_found("Channel")
    return channel


def create(world: World, org: Organization, raw: Any) -> Channel:
    kind = raw.get("type") if isinstance(raw, dict) else None
    if kind not in WRITABLE_TYPES:
        raise bad_request(f"type must be one of {', '.join(WRITABLE_TYPES)}")
    channel = Channel(id=world.ids.new_id(), type=str(kind), **_fields(raw, str(kind)))
    org.channels[channel.id] = channel
    return channel


def update(org: Organization, channel_id: str, raw: Any) -> Channel:
    channel = find(org, channel_id)
    if isinstance(raw, dict) and raw.get("type", channel.type) != channel.type:
        raise bad_request("the type of a channel cannot be changed")
    if channel.type not in WRITABLE_TYPES:
        raise bad_request(f"channels of type {channel.type} cannot be updated")
    for key, value in _fields(raw, channel.type).items():
        setattr(channel, key, value)
    return channel


def delete(org: Organization, channel_id: str) -> Channel:
    return org.channels.pop(find(org, channel_id).id)
