"""Alert group settings (§7.3); the groups themselves are kept by `alerting`."""

from __future__ import annotations

from typing import Any

from mackerel_sim import scopes
from mackerel_sim.errors import bad_request, not_found
from mackerel_sim.state import JSON, AlertGroupSetting, Organization, World


def normalize(org: Organization, raw: Any) -> JSON:
    if not isinstance(raw, dict):
        raise bad_request("invalid body")
    name = raw.get("name")
    if not isinstance(name, str) or not name:
        raise bad_request("name is required")
    memo = raw.get("memo", "") or ""
    if not isinstance(memo, str):
        raise bad_request("memo must be a string")
    fields: JSON = {"name": name, "memo": memo}
    service_scopes = scopes.services(org, raw.get("serviceScopes"), "serviceScopes")
    role_scopes = scopes.roles(org, raw.get("roleScopes"), "roleScopes")
    monitor_scopes = scopes.monitors(org, raw.get("monitorScopes"), "monitorScopes")
    fields.update(
        serviceScopes=service_scopes, roleScopes=role_scopes, monitorScopes=monitor_scopes
    )
    interval = raw.get("notificationInterval")
    if interval:
        if isinstance(interval, bool) or not isinstance(interval, int) or interval < 10:
            raise bad_request("notificationInterval must be 10 or more")
        fields["notificationInterval"] = interval
    return fields


def find(org: Organization, setting_id: str) -> AlertGroupSetting:
    setting = org.group_settings.get(setting_id)
    if setting is None:
        raise not_found("Alert group setting")
    return setting


def create(world: World, org: Organization, raw: Any) -> AlertGroupSetting:
    setting = AlertGroupSetting(id=world.ids.new_id(), fields=normalize(org, raw))
    org.group_settings[setting.id] = setting
    return setting


def update(org: Organization, setting_id: str, raw: Any) -> AlertGroupSetting:
    setting = find(org, setting_id)
    setting.fields = normalize(org, raw)
    return setting


def delete(org: Organization, setting_id: str) -> AlertGroupSetting:
    return org.group_settings.pop(find(org, setting_id).id)
