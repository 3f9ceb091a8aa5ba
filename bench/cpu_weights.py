"""docker-compose.yml's CPU weights for the benchmarks' processes.

docker-compose.yml gives the worker and the deliverer ``cpu_shares: 256`` against the web's
default 1024, so that webhooks are answered first when the machine is saturated. Docker puts each
service in a cgroup of its own with those shares; the benchmarks do the same (the cgroup v1
``cpu`` controller, which is what ``cpu_shares`` sets) when they may: run as root, with
/sys/fs/cgroup/cpu writable.

Otherwise they fall back to niceness 6 for the workers (the kernel's weights 1024 / 272, the same
ratio). That is weaker than docker's weights: niceness weighs each thread, so the deliverer's 16
threads together outweigh the web's four processes, where a cgroup's shares are for the whole
service. Measured during the storm: request p99 194-300 ms with niceness, 40 ms with cgroups.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

CGROUP_CPU = Path("/sys/fs/cgroup/cpu")
PREFIX = "tairyo-bench-"
# docker-compose.yml: the web (default) and the two worker services (cpu_shares: 256).
SHARES = {"web": 1024, "worker": 256, "deliverer": 256}
# The fallback: the workers' niceness, the same weight ratio per process.
WORKER_NICE = 6


def _group(service: str) -> Path | None:
    """The service's cgroup, made and given its shares; None when this machine will not allow it."""
    if os.geteuid() != 0 or not (CGROUP_CPU / "cpu.shares").exists():
        return None
    group = CGROUP_CPU / f"{PREFIX}{service}"
    try:
        group.mkdir(exist_ok=True)
        (group / "cpu.shares").write_text(str(SHARES[service]))
    except OSError:
        return None
    return group


def available() -> bool:
    """Whether the benchmarks can give their processes docker-compose's cgroup shares."""
    return _group("web") is not None


def command_prefix(service: str) -> list[str]:
    """What to put before a command so that it runs with ``service``'s CPU weight.

    A shell joins the cgroup, then replaces itself with the command: the pid, its session and
    every process it starts stay in the group.
    """
    group = _group(service)
    if group is not None:
        return ["sh", "-c", 'echo $$ > "$0/cgroup.procs" && exec "$@"', str(group)]
    if SHARES[service] < SHARES["web"]:
        return ["nice", "-n", str(WORKER_NICE)]
    return []


def describe() -> str:
    """How the processes were weighted, for the results."""
    if available():
        shares = ", ".join(f"{service} {value}" for service, value in SHARES.items())
        return f"cgroup v1 cpu.shares as docker-compose.yml: {shares}"
    return f"no cgroups here: workers at niceness {WORKER_NICE}, the web at 0"


def remove_groups() -> None:
    """Remove the benchmark's cgroups once their processes have ended (a busy one stays)."""
    for service in SHARES:
        with contextlib.suppress(OSError):
            (CGROUP_CPU / f"{PREFIX}{service}").rmdir()
