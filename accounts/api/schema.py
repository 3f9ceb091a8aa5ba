"""OpenAPI generation: every operation documents the shared error responses."""

from __future__ import annotations

from typing import Any

from drf_spectacular.openapi import AutoSchema

from accounts.api.errors import ErrorResponseSerializer

_ERRORS = ("400", "401", "403", "404", "429")


class ApiAutoSchema(AutoSchema):
    """drf-spectacular's schema with the error envelope on every operation."""

    def _get_response_bodies(self, direction: Any = "response") -> dict[str, Any]:
        responses: dict[str, Any] = super()._get_response_bodies(direction)
        for status in _ERRORS:
            if status not in responses:
                responses[status] = self._get_response_for_code(  # type: ignore[no-untyped-call]
                    ErrorResponseSerializer, status
                )
        return responses
