"""Output and filter serializers of the inventory API (organizations, services, hosts)."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from orgs.models import Host, Organization, Service


class OrganizationSerializer(serializers.ModelSerializer[Organization]):
    """A Mackerel organization; its API key and webhook token never leave the portal."""

    id = serializers.UUIDField(source="code", read_only=True)

    class Meta:
        model = Organization
        fields = ("id", "name", "display_name", "is_active", "last_sync_success_at")
        read_only_fields = fields


class ServiceSerializer(serializers.ModelSerializer[Service]):
    """A Mackerel service, named within its organization."""

    organization = serializers.CharField(source="organization.name", read_only=True)

    class Meta:
        model = Service
        fields = ("organization", "name", "memo")
        read_only_fields = fields


class HostSerializer(serializers.ModelSerializer[Host]):
    """A host, identified by its Mackerel host ID."""

    id = serializers.CharField(source="mackerel_id", read_only=True)
    organization = serializers.CharField(source="organization.name", read_only=True)
    ip_addresses = serializers.SerializerMethodField()
    roles = serializers.SerializerMethodField()
    mackerel_url = serializers.CharField(read_only=True)

    class Meta:
        model = Host
        fields = (
            "id",
            "organization",
            "name",
            "display_name",
            "custom_identifier",
            "status",
            "memo",
            "ip_addresses",
            "roles",
            "is_retired",
            "retired_at",
            "mackerel_url",
            "updated_at",
        )
        read_only_fields = fields

    def get_ip_addresses(self, host: Host) -> list[str]:
        return host.ip_addresses.split()

    def get_roles(self, host: Host) -> list[str]:
        # Prefetched with their services by the view: no query per host.
        return sorted(role.fullname for role in host.roles.all())


class OrganizationFilterSerializer(serializers.Serializer[Any]):
    """Narrows a list to one organization, by its name."""

    organization = serializers.CharField(required=False, help_text="Organization name.")


class HostFilterSerializer(OrganizationFilterSerializer):
    """Query parameters of the host list."""

    status = serializers.ChoiceField(choices=Host.Status.choices, required=False)
    service = serializers.CharField(required=False, help_text="Service name.")
    retired = serializers.BooleanField(
        required=False, allow_null=True, default=None, help_text="Omit for both."
    )
