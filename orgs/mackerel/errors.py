"""Exceptions raised by the Mackerel client.

Every exception names the Tairyo organization and the endpoint, so a log line from a worker that
syncs seventy organizations says which one failed and where. None of them ever carries the API key:
messages are built from parts we control, and text taken from elsewhere (Mackerel's error body,
an httpx exception) is scrubbed before it is used.
"""

from __future__ import annotations


class MackerelError(Exception):
    """Base class of everything the client raises about a request to Mackerel.

    ``status_code`` is the HTTP status Mackerel answered, or None when no answer came (network
    failure) or the request was refused before it was sent (client-side validation).
    ``detail`` is Mackerel's own error message (or our description when there is none).
    """

    def __init__(
        self,
        *,
        organization: str,
        method: str,
        path: str,
        status_code: int | None,
        detail: str,
    ) -> None:
        self.organization = organization
        self.method = method
        self.path = path
        self.status_code = status_code
        self.detail = detail
        super().__init__(self._compose())

    def _compose(self) -> str:
        where = f"Mackerel organization {self.organization!r}: {self.method} {self.path}"
        if self.status_code is None:
            return f"{where} {self.detail}"
        return f"{where} answered {self.status_code}: {self.detail}"

    def __reduce__(self) -> tuple[object, ...]:
        # Keyword-only __init__ breaks the default pickling, which Celery needs to ship exceptions.
        return (_rebuild, (type(self), self.__dict__.copy()))


def _rebuild(cls: type[MackerelError], state: dict[str, object]) -> MackerelError:
    error = cls.__new__(cls)
    error.__dict__.update(state)
    Exception.__init__(error, error._compose())
    return error


class AuthenticationError(MackerelError):
    """401: the API key is unknown or was revoked."""


class PermissionDeniedError(MackerelError):
    """403: the key lacks the permission (a read-only key on a write), or an IP restriction."""


class NotFoundError(MackerelError):
    """404: the host, monitor, alert, service, ... does not exist (or the path is unknown)."""


class ValidationError(MackerelError, ValueError):
    """400 from Mackerel, or a request we refused to send because Mackerel would reject it.

    It is also a ``ValueError`` because the client-side case is a caller's mistake.
    """


class RateLimitedError(MackerelError):
    """429: too many requests; ``retry_after`` is Mackerel's Retry-After in seconds, if given."""

    def __init__(
        self,
        *,
        organization: str,
        method: str,
        path: str,
        status_code: int | None,
        detail: str,
        retry_after: float | None = None,
    ) -> None:
        self.retry_after = retry_after
        super().__init__(
            organization=organization,
            method=method,
            path=path,
            status_code=status_code,
            detail=detail,
        )


class ServerError(MackerelError):
    """5xx: Mackerel (or a proxy in front of it) failed; retried before it reaches the caller."""


class UnreachableError(MackerelError):
    """No HTTP answer: DNS, connection refused, TLS, proxy, a dropped connection or a timeout."""


class RequestTimeoutError(UnreachableError):
    """A connect, read, write or pool timeout: Mackerel or the network is slow."""


class UnexpectedResponseError(MackerelError):
    """An answer outside the documented contract: another status code (409, 413, 3xx, ...) or a
    success whose body is not the documented JSON shape."""
