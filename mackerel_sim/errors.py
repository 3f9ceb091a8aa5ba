"""The error every simulated endpoint raises, rendered the way Mackerel renders errors."""

from __future__ import annotations

from typing import Any


class ApiError(Exception):
    """An HTTP error with Mackerel's body `{"error": {"message": ...}}` (mackerel-api.md §1.3)."""

    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(f"{status} {message}")
        self.status = status
        self.message = message
        self.headers = headers or {}

    def body(self) -> dict[str, Any]:
        return {"error": {"message": self.message}}


def not_found(what: str) -> ApiError:
    return ApiError(404, f"{what} Not Found.")


def bad_request(message: str) -> ApiError:
    return ApiError(400, message)
