"""The intake's floor: the least a webhook view can do and still keep design.md's invariant 5.

It stores the body durably in one INSERT, then answers, as the intake does, and does nothing
else: no token, no parsing, no ORM, no wake-up. bench/intake.py saturates it like the intake, so
that the intake's throughput can be read against what storing before answering costs on this
machine, next to the trivial view that stores nothing.
"""

from __future__ import annotations

from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.urls import include, path
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

# A receipt like the intake's, stored as already rejected so that no worker ever takes it.
INSERT = """
    INSERT INTO alerts_webhookreceipt
        (customer_id, organization_id, received_at, event, body, headers, remote_addr,
         status, reason, attempts)
    SELECT customer_id, id, now(), 'alert', %s, '{}', NULL, 'rejected', 'benchmark floor', 0
    FROM orgs_organization WHERE id = (SELECT min(id) FROM orgs_organization)
    RETURNING id
"""


@csrf_exempt
@require_POST
def durable_insert(request: HttpRequest, token: str) -> JsonResponse:
    with connection.cursor() as cursor:
        cursor.execute(INSERT, [request.body.decode("utf-8")])
        (receipt,) = cursor.fetchone()
    return JsonResponse({"status": "accepted", "receipt": receipt})


urlpatterns = [
    path("hooks/mackerel/<str:token>/", durable_insert),
    path("", include("portal.urls")),
]
