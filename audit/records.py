"""How Tairyo writes its audit log with django-auditlog.

Each app registers its own models (in its ``AppConfig.ready``) and names the fields that hold
secrets: their values never reach the log, only whether one was set, changed or cleared. Inside
a request the actor is the logged-in user (``AuditMiddleware``), or the maker of the API token
the request came with; a management command names itself with ``by_command``.
"""

from __future__ import annotations

import getpass
from collections.abc import Callable, Collection, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from auditlog.context import set_extra_data
from auditlog.middleware import AuditlogMiddleware
from auditlog.models import LogEntry
from auditlog.registry import auditlog
from django.conf import settings
from django.db import models
from django.http import HttpRequest, HttpResponse
from django.utils.module_loading import import_string
from django.utils.translation import gettext as _
from django_stubs_ext import StrOrPromise

# What the log shows for a secret that is set; an empty secret stays empty.
MASK = "••••••••"
# Where AuditMiddleware leaves the request's audit context, so authentication that happens later
# (the REST API's bearer tokens, inside the view) can still name the actor.
CONTEXT_ATTRIBUTE = "_tairyo_audit_context"


def mask_secret(value: str) -> str:
    """The whole value hidden: not half of it, as django-auditlog's default mask leaves."""
    return MASK if value not in ("", "None") else ""


def register(
    model: type[models.Model],
    *,
    secrets: Collection[str] = (),
    exclude: Collection[str] = (),
    m2m: Collection[str] = (),
    labels: Mapping[str, StrOrPromise] | None = None,
) -> None:
    """Log every create, change and delete of ``model``.

    ``secrets`` are logged masked, ``exclude`` not at all (state that only machines write),
    ``m2m`` as the objects added and removed; ``labels`` name fields that have no verbose name.
    """
    auditlog.register(
        model,
        exclude_fields=list(exclude),
        mask_fields=list(secrets),
        mask_callable="audit.records.mask_secret",
        m2m_fields=set(m2m),
        mapping_fields=dict(labels or {}),
    )


@contextmanager
def by_command(name: str) -> Iterator[None]:
    """Changes made inside are logged as made by ``manage.py <name>`` and the system user."""
    try:
        os_user = getpass.getuser()
    except (KeyError, OSError):  # no user name in a bare container
        os_user = ""
    with set_extra_data({"actor": None, "additional_data": {"via": name, "os_user": os_user}}):
        yield


def attribute_to(request: HttpRequest, actor: models.Model, **extra: str) -> None:
    """Name ``actor`` as who makes this request's changes, once authentication found them."""
    context: dict[str, Any] | None = getattr(request, CONTEXT_ATTRIBUTE, None)
    if context is not None:
        # The very dict django-auditlog reads when it writes an entry; changing it here is seen.
        context["actor"] = actor
        if extra:
            context["additional_data"] = extra


class AuditMiddleware(AuditlogMiddleware):  # type: ignore[misc]
    """django-auditlog's middleware, leaving its context on the request (see attribute_to)."""

    @staticmethod
    def _get_remote_addr(request: HttpRequest) -> str | None:
        # django-auditlog trusts the leftmost X-Forwarded-For, which any client can write; use
        # the project's rule for which proxies to believe.
        client_ip: Callable[[HttpRequest], str] = import_string(settings.AUDIT_CLIENT_IP_CALLABLE)
        return client_ip(request) or None

    def __call__(self, request: HttpRequest) -> HttpResponse:
        # The webhook intake and the probes change nothing audited, and the intake's budget is
        # a couple of milliseconds: skip the context (a signal connected and disconnected).
        if request.path_info.startswith(settings.AUDIT_SKIP_PATHS):
            response: HttpResponse = self.get_response(request)
        else:
            response = super().__call__(request)
        return response

    def get_extra_data(self, request: HttpRequest) -> dict[str, Any]:
        context: dict[str, Any] = super().get_extra_data(request)
        setattr(request, CONTEXT_ATTRIBUTE, context)
        return context


def describe_actor(entry: LogEntry) -> str:
    """The actor's address, or the command that made the change, or "system"."""
    if entry.actor_email:
        return str(entry.actor_email)
    extra = entry.additional_data if isinstance(entry.additional_data, dict) else {}
    if extra.get("via"):
        return _("manage.py %(command)s (as %(os_user)s)") % {
            "command": extra["via"],
            "os_user": extra.get("os_user") or "?",
        }
    return str(_("system"))
