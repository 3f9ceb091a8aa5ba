"""Organization admin actions: check the Mackerel API key, rotate the webhook token."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext as _

from orgs.mackerel import MackerelClient, MackerelError
from orgs.models import Organization


def check_key(request: HttpRequest, org: Organization) -> None:
    """Ask Mackerel whose key this is and say so, or say what went wrong (never the key)."""
    if not org.has_api_key:
        messages.warning(request, _("%(org)s has no API key.") % {"org": org.name})
        return
    try:
        with MackerelClient(
            org.get_api_key(), organization=org.name, base_url=settings.MACKEREL_API_URL,
            timeout=5.0, max_retries=1,
        ) as client:  # fmt: skip
            found = client.get_organization()
    except MackerelError as exc:
        messages.error(request, str(exc))
        return
    if found.name != org.name:
        messages.error(
            request,
            _("The key of %(org)s belongs to the Mackerel organization %(other)s.")
            % {"org": org.name, "other": found.name},
        )
        return
    messages.success(
        request, _("The key of %(org)s works: Mackerel answers for %(org)s.") % {"org": org.name}
    )


def check_keys(request: HttpRequest, queryset: QuerySet[Organization]) -> None:
    for org in queryset:
        check_key(request, org)


def rotate_tokens(request: HttpRequest, queryset: QuerySet[Organization]) -> None:
    """Give each organization a new webhook token and show its URL this once."""
    for org in queryset:
        token = org.rotate_webhook_token()
        messages.warning(
            request,
            _(
                "New webhook URL of %(org)s, shown only now: %(url)s — put it in Mackerel's "
                "webhook channel; the old URL works for %(hours)s more hours."
            )
            % {
                "org": org.name,
                "url": org.webhook_url(token),
                "hours": int(settings.WEBHOOK_TOKEN_GRACE.total_seconds() // 3600),
            },
        )
