from __future__ import annotations

from orgs.tests.simulated import mackerel

__all__ = ["mackerel"]
