"""Every log line written while a case is handled carries its case ID and organization, from
the webhook through processing and planning to the mail provider (portal/logcontext.py)."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Callable, Iterator
from typing import Any, cast

import pytest
from django.conf import settings

from alerts import services
from alerts.models import WebhookReceipt
from alerts.tests import payloads
from notifications import delivery, planning
from notifications.models import Notification, Route
from portal import logcontext

pytestmark = pytest.mark.django_db

ALERT_ID = "3k73ZJscVcW"


@pytest.fixture
def log_lines() -> Iterator[Callable[[], list[dict[str, Any]]]]:
    """The root logger's output in production's format (settings.LOGGING with json), parsed."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logcontext.JsonFormatter())
    handler.addFilter(logcontext.ContextFilter())
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)

    def lines() -> list[dict[str, Any]]:
        return [json.loads(line) for line in stream.getvalue().splitlines()]

    yield lines
    root.removeHandler(handler)
    root.setLevel(level)


def _about(lines: list[dict[str, Any]], text: str) -> dict[str, Any]:
    (line,) = [line for line in lines if text in line["message"]]
    return line


def test_a_case_is_named_on_every_line_from_webhook_to_provider(
    post_webhook: Callable[..., Any],
    route: Route,
    mail_provider: Any,
    log_lines: Callable[[], list[dict[str, Any]]],
) -> None:
    assert post_webhook(payloads.alert(alert_id=ALERT_ID)).status_code == 200
    receipt = WebhookReceipt.objects.get()
    services.process_receipt(receipt.pk)
    planning.plan_pending()
    delivery.deliver(Notification.objects.get().pk)

    lines = log_lines()
    processed = _about(lines, f"receipt {receipt.pk} processed")
    planned = _about(lines, "opened event: notification")
    sent = _about(lines, "handed to the provider")
    for line in (processed, planned, sent):
        assert line["case_id"] == ALERT_ID
        assert line["organization"] == "acme-prod"
        assert line["level"] == "INFO"
        assert line["time"].endswith("+00:00")
    assert processed["receipt"] == str(receipt.pk)
    assert sent["notification"] == str(Notification.objects.get().pk)
    # Nothing stays bound once the work is done.
    logging.getLogger("tairyo.test").info("after")
    assert "case_id" not in _about(log_lines(), "after")


def test_a_rejected_webhook_names_its_organization_and_case(
    post_webhook: Callable[..., Any], log_lines: Callable[[], list[dict[str, Any]]]
) -> None:
    response = post_webhook(payloads.alert(alert_id=ALERT_ID, org="someone-else"))
    assert response.status_code == 400
    line = _about(log_lines(), "webhook rejected")
    assert (line["organization"], line["case_id"]) == ("acme-prod", ALERT_ID)
    assert line["level"] == "WARNING"
    assert line["logger"] == "alerts.views"


def test_json_lines_keep_exceptions_and_japanese_on_one_line(
    log_lines: Callable[[], list[dict[str, Any]]],
) -> None:
    logger = logging.getLogger("tairyo.test")
    with logcontext.bind(case_id=ALERT_ID, organization="acme-prod"):
        try:
            raise ValueError("壊れた\npayload")
        except ValueError:
            logger.exception("メモ: 本番 Web")
    (line,) = log_lines()
    assert line["message"] == "メモ: 本番 Web"
    assert "ValueError: 壊れた" in line["exception"]
    assert line["case_id"] == ALERT_ID


def test_text_lines_show_the_case_in_brackets() -> None:
    record = logging.LogRecord("alerts", logging.WARNING, __file__, 1, "case %s", ("x",), None)
    config = cast(dict[str, Any], settings.LOGGING)
    formatter = logging.Formatter(config["formatters"]["text"]["format"])
    with logcontext.bind(case_id=ALERT_ID, organization="acme-prod"):
        logcontext.ContextFilter().filter(record)
    assert formatter.format(record).endswith(
        f"WARNING alerts case x [case_id={ALERT_ID} organization=acme-prod]"
    )


def test_added_fields_end_with_their_block_and_need_one() -> None:
    logcontext.add(case_id="outside")
    assert logcontext.current() == {}
    with logcontext.bind(organization="acme-prod"):
        logcontext.add(case_id=ALERT_ID, receipt=None)
        with logcontext.bind(notification=7):
            assert logcontext.current() == {
                "organization": "acme-prod",
                "case_id": ALERT_ID,
                "notification": "7",
            }
        assert "notification" not in logcontext.current()
    assert logcontext.current() == {}
