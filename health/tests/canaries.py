"""What beat's canaries leave behind when every watched queue has a worker."""

from __future__ import annotations

from django.conf import settings

from health.models import Heartbeat
from health.tasks import canary_name


def beat_every_canary() -> None:
    """A canary ran just now on each of TAIRYO_CANARY_QUEUES."""
    for queue in settings.TAIRYO_CANARY_QUEUES:
        Heartbeat.beat(canary_name(queue))
