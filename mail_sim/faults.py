"""Faults injected into the send API on demand: errors, rate limits, hangs, closed connections."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Any, Literal

FaultKind = Literal["status", "rate_limit", "hang", "disconnect"]
FAULT_KINDS: tuple[FaultKind, ...] = ("status", "rate_limit", "hang", "disconnect")


@dataclass
class Fault:
    """One injected fault, spent either by count (`remaining`) or by time (`until`, monotonic)."""

    kind: FaultKind
    remaining: int | None = None
    until: float | None = None
    status: int = 503
    retry_after: int = 1
    seconds: float = 0.0  # how long a hang lasts
    accept: bool = False  # whether a hang that ends still accepts the message

    def active(self, now: float) -> bool:
        if self.until is not None:
            return now < self.until
        return (self.remaining or 0) > 0

    def as_json(self, now: float) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "remaining": self.remaining,
            "seconds_left": None if self.until is None else round(max(self.until - now, 0), 3),
            "status": self.status,
            "retry_after": self.retry_after,
            "hang_seconds": self.seconds,
            "accept": self.accept,
        }


class FaultPlan:
    """Faults waiting to happen; each send request takes at most one.

    A time-window fault (a provider outage) wins over counted ones; counted faults are
    spent in the order they were added, so `fail_next(2)` then `hang_next(1)` gives
    503, 503, hang.
    """

    def __init__(self) -> None:
        self._faults: list[Fault] = []
        self._lock = threading.Lock()
        # Set on stop() so hanging request threads return at once instead of sleeping on.
        self._released = threading.Event()

    def add(self, fault: Fault) -> None:
        if fault.kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault kind {fault.kind!r}; expected one of {FAULT_KINDS}")
        if (fault.remaining is None) == (fault.until is None):
            raise ValueError("a fault needs exactly one of a count or a time window")
        with self._lock:
            self._faults.append(fault)

    def add_count(self, kind: FaultKind, count: int, **params: Any) -> None:
        if count < 1:
            raise ValueError("count must be at least 1")
        self.add(Fault(kind, remaining=count, **params))

    def add_window(self, kind: FaultKind, seconds: float, **params: Any) -> None:
        self.add(Fault(kind, until=time.monotonic() + seconds, **params))

    def take(self) -> Fault | None:
        """The fault for the request now arriving, if any, spending one of its count."""
        now = time.monotonic()
        with self._lock:
            self._faults = [fault for fault in self._faults if fault.active(now)]
            window = next((f for f in self._faults if f.until is not None), None)
            if window:
                return window
            counted = next((f for f in self._faults if f.remaining), None)
            if counted and counted.remaining is not None:
                counted.remaining -= 1
            return counted

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()

    def snapshot(self) -> list[dict[str, Any]]:
        now = time.monotonic()
        with self._lock:
            return [fault.as_json(now) for fault in self._faults if fault.active(now)]

    def sleep(self, seconds: float) -> None:
        """Sleep for a hang, returning early if the simulator is being stopped."""
        self._released.wait(seconds)

    def release(self) -> None:
        """Wake every hang now sleeping; later hangs sleep again (a new server may start)."""
        released, self._released = self._released, threading.Event()
        released.set()
