"""The storm's time to provider as a picture: one dot per (case, contact) pair told.

x is when the pair's webhook arrived (seconds into the storm), y how long until the mail provider
took the mail that told the contact. Own mails and digests are drawn differently (a digest tells
every case it lists, so its dots stand in columns: one send, many arrivals), with the p95 and
design.md's targets (p95 <= 30 s, max <= 90 s) as lines, and, in a fault run, the fault's
window as a shaded band. Drawn with matplotlib's Agg backend: no display needed.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

from intake import log, percentiles

TARGET_P95_S = 30.0
TARGET_MAX_S = 90.0


@dataclass
class PairPoint:
    """One told (case event, contact) pair: when its webhook arrived (seconds into the phase),
    how long until the provider took the mail that told it, and whether that was a digest."""

    arrived_s: float
    time_to_provider_s: float
    digest: bool


def plot_time_to_provider(
    points: list[PairPoint],
    path: Path,
    *,
    title: str,
    fault_window: tuple[float, float] | None = None,
    fault_label: str = "fault",
    drained_s: float | None = None,
) -> None:
    """Write the PNG to ``path``; ``fault_window`` is (start, end) in seconds into the storm,
    ``drained_s`` when the backlog was drained (a dotted vertical line)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    direct = [p for p in points if not p.digest]
    digest = [p for p in points if p.digest]
    fig, ax = plt.subplots(figsize=(10, 5.5), dpi=110)
    try:
        if fault_window is not None:
            start, end = fault_window
            # An instantaneous fault (a flush) still gets a visible band.
            ax.axvspan(start, max(end, start + 0.5), color="tab:red", alpha=0.15,
                       label=f"{fault_label} {start:.0f}–{end:.0f} s")  # fmt: skip
        ax.scatter([p.arrived_s for p in direct], [p.time_to_provider_s for p in direct],
                   s=9, marker="o", color="tab:blue", alpha=0.6,
                   label=f"own mail ({len(direct)} pairs)")  # fmt: skip
        ax.scatter([p.arrived_s for p in digest], [p.time_to_provider_s for p in digest],
                   s=14, marker="x", color="tab:orange", alpha=0.7, linewidths=0.8,
                   label=f"in a digest ({len(digest)} pairs)")  # fmt: skip
        values = [p.time_to_provider_s for p in points]
        p95 = percentiles(values).get("p95", math.nan) if values else math.nan
        if not math.isnan(p95):
            ax.axhline(p95, color="tab:purple", linestyle="-", linewidth=1.2,
                       label=f"p95 {p95:.1f} s")  # fmt: skip
        ax.axhline(TARGET_P95_S, color="tab:green", linestyle="--", linewidth=1,
                   label=f"target p95 ≤ {TARGET_P95_S:.0f} s")  # fmt: skip
        ax.axhline(TARGET_MAX_S, color="tab:red", linestyle="--", linewidth=1,
                   label=f"target max ≤ {TARGET_MAX_S:.0f} s")  # fmt: skip
        if drained_s is not None:
            ax.axvline(drained_s, color="grey", linestyle=":", linewidth=1,
                       label=f"backlog drained {drained_s:.0f} s")  # fmt: skip
        top = max([TARGET_MAX_S, *values]) * 1.08
        ax.set_ylim(0, top)
        ax.set_xlim(left=0)
        ax.set_xlabel("webhook arrived (s into the storm)")
        ax.set_ylabel("time to provider (s)")
        ax.set_title(title, fontsize=10)
        ax.grid(True, alpha=0.3)
        ax.legend(loc="upper left", fontsize=8, framealpha=0.9)
        fig.tight_layout()
        path.parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(path)
    finally:
        plt.close(fig)
    log(f"plot written to {path}")
