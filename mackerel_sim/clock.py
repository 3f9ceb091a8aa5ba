"""The simulator's wall clock: real time, sped up, or frozen and moved by hand."""

from __future__ import annotations

import threading
import time


class Clock:
    """Simulated epoch time.

    `speed` scales real time (60 makes a 10-minute notification interval pass in 10 s); speed 0
    freezes the clock so that only `advance()` moves it, which makes runs fully reproducible.
    """

    def __init__(self, start: float | None = None, speed: float = 1.0) -> None:
        if speed < 0:
            raise ValueError("speed must be >= 0")
        self._lock = threading.Lock()
        self._base_sim = time.time() if start is None else float(start)
        self._base_real = time.monotonic()
        self._speed = float(speed)

    @property
    def speed(self) -> float:
        return self._speed

    @property
    def frozen(self) -> bool:
        return self._speed == 0

    def now(self) -> float:
        with self._lock:
            return self._base_sim + (time.monotonic() - self._base_real) * self._speed

    def advance(self, seconds: float) -> None:
        if seconds < 0:
            raise ValueError("the clock only moves forward")
        with self._lock:
            self._base_sim += seconds

    def set_speed(self, speed: float) -> None:
        if speed < 0:
            raise ValueError("speed must be >= 0")
        # Rebase so that changing speed never makes time jump.
        with self._lock:
            real = time.monotonic()
            self._base_sim += (real - self._base_real) * self._speed
            self._base_real = real
            self._speed = float(speed)

    def sleep(self, seconds: float, stop: threading.Event) -> bool:
        """Let `seconds` of simulated time pass; returns False if `stop` was set meanwhile."""
        if seconds <= 0:
            return not stop.is_set()
        if self.frozen:
            self.advance(seconds)
            return not stop.is_set()
        return not stop.wait(seconds / self._speed)
