"""Webhook fixtures shared by every app's tests (registered in the root conftest)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client

from alerts.models import WebhookReceipt
from alerts.tests import payloads
from orgs.models import Organization


@pytest.fixture
def acme_token(acme_org: Organization) -> str:
    return acme_org.rotate_webhook_token(grace=timedelta(0))


@pytest.fixture
def post_webhook(client: Client, acme_token: str) -> Callable[..., Any]:
    """POST a payload to acme's webhook URL as Mackerel does."""

    def _post(payload: dict[str, Any] | bytes, token: str | None = None, **extra: Any) -> Any:
        body = payload if isinstance(payload, bytes) else payloads.encode(payload)
        return client.post(
            f"/hooks/mackerel/{token or acme_token}/",
            data=body,
            content_type=extra.pop("content_type", "application/json"),
            **extra,
        )

    return _post


@pytest.fixture
def deliver(acme_org: Organization) -> Callable[..., WebhookReceipt]:
    """Store and process a webhook as the worker would, returning the processed receipt."""
    from alerts import services

    def _deliver(payload: dict[str, Any], org: Organization = acme_org) -> WebhookReceipt:
        body = payloads.encode(payload)
        receipt = services.accept(org, body, {}, "192.0.2.1", str(payload.get("event", "")))
        services.process_receipt(receipt.pk)
        receipt.refresh_from_db()
        return receipt

    return _deliver
