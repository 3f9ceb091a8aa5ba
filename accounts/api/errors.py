"""One error shape for every API error: ``{"error": {"code", "message", "fields"}}``."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, JsonResponse
from django.utils.translation import gettext as _
from rest_framework import exceptions, serializers
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler


def _flatten(detail: Any) -> list[str]:
    if isinstance(detail, dict):
        return [message for value in detail.values() for message in _flatten(value)]
    if isinstance(detail, list):
        return [message for value in detail for message in _flatten(value)]
    return [str(detail)]


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """DRF's handler (statuses, headers such as Retry-After), with the body reshaped."""
    response = drf_exception_handler(exc, context)
    if response is None:
        return None  # not an API exception: a 500, left to Django's logging
    fields: dict[str, list[str]] = {}
    if isinstance(exc, exceptions.ValidationError):
        code = "invalid"
        message = _("The request has invalid values.")
        if isinstance(exc.detail, dict):
            fields = {name: _flatten(value) for name, value in exc.detail.items()}
        else:
            fields = {"non_field_errors": _flatten(exc.detail)}
    elif isinstance(exc, exceptions.APIException):
        codes = exc.get_codes()
        code = codes if isinstance(codes, str) else exc.default_code
        message = " ".join(_flatten(exc.detail))
    else:  # Http404 and PermissionDenied from Django, which DRF has already translated
        code = "not_found" if response.status_code == 404 else "permission_denied"
        message = " ".join(_flatten(response.data))
    response.data = {"error": {"code": code, "message": message, "fields": fields}}
    return response


def not_found(request: HttpRequest) -> JsonResponse:
    """A path under /api/v1/ that names no endpoint."""
    body = {"error": {"code": "not_found", "message": _("Not found."), "fields": {}}}
    return JsonResponse(body, status=404)


class ErrorSerializer(serializers.Serializer[Any]):
    """The body of an error (documentation only)."""

    def get_fields(self) -> dict[str, serializers.Field[Any, Any, Any, Any]]:
        # Declared here, not as attributes: a field called "fields" would hide Serializer.fields.
        return {
            "code": serializers.CharField(help_text="A stable code, e.g. not_found or invalid."),
            "message": serializers.CharField(help_text="A human-readable explanation."),
            "fields": serializers.DictField(
                child=serializers.ListField(child=serializers.CharField()),
                help_text="For invalid input: the messages for each offending field.",
            ),
        }


class ErrorResponseSerializer(serializers.Serializer[Any]):
    """Every error response (documentation only)."""

    error = ErrorSerializer()
