"""One table of every benchmark's latest results against design.md's targets.

Each benchmark writes ``bench/results/<name>.json`` with a list of checks (``kind``: correctness,
target or capacity; ``passed``; ``detail``). This reads them all, newest figures only, and prints
one table: what was measured, when and with which command, and whether it met its target.
``make bench`` runs it after the benchmarks; run it alone to see the last figures again.

Exit status 1 if any correctness check failed (something lost, doubled or wrong); targets missed
are reported, not failed, unless ``--strict``.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).resolve().parent / "results"
MARK = {True: "ok", False: "MISSED"}


def checks_of(document: dict[str, Any]) -> list[dict[str, Any]]:
    """The document's checks in the common shape; older result files kept a summary instead."""
    checks = document.get("checks", [])
    if isinstance(checks, list) and checks:
        return checks
    if document.get("benchmark") == "search" or "search_target_p95_ms" in checks:
        return _search_checks(checks)
    if isinstance(document.get("runs"), list):
        return _fault_checks(document["runs"])
    # bench/sync.py: {"target_seconds", "target_met", "hosts_mirrored", ...}
    phases: list[dict[str, Any]] = document.get("phases", [])
    first: dict[str, Any] = next((p for p in phases if p.get("name") == "first"), {})
    mirrored, expected = checks.get("hosts_mirrored"), checks.get("hosts_expected")
    failed = checks.get("runs_not_successful")
    return [
        {
            "kind": "correctness",
            "name": "every host mirrored, every run successful",
            "passed": mirrored == expected and not failed,
            "detail": f"{mirrored}/{expected} hosts, {failed} failed runs",
        },
        {
            "kind": "target",
            "name": f"full sync < {checks.get('target_seconds', 60):g} s",
            "passed": bool(checks.get("target_met")),
            "detail": f"{first.get('wall_seconds', 0):.1f} s for {first.get('hosts', '?')} hosts",
        },
    ]


def _search_checks(checks: dict[str, Any]) -> list[dict[str, Any]]:
    """bench/search.py: the worst p95 of the search kinds and of the list pages."""
    return [
        {
            "kind": "correctness",
            "name": "every answer 2xx",
            "passed": not checks.get("error_answers"),
            "detail": f"{checks.get('error_answers')} error answers",
        },
        {
            "kind": "target",
            "name": f"search p95 < {checks.get('search_target_p95_ms', 100):g} ms (worst kind)",
            "passed": bool(checks.get("search_target_met")),
            "detail": f"worst p95 {checks.get('search_worst_p95_ms')} ms",
        },
        {
            "kind": "target",
            "name": f"pages p95 < {checks.get('pages_target_p95_ms', 150):g} ms (worst page)",
            "passed": bool(checks.get("pages_target_met")),
            "detail": f"worst p95 {checks.get('pages_worst_p95_ms')} ms",
        },
    ]


def _fault_checks(runs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """bench/notify.py --fault: one run per fault, each must lose and double nothing."""
    return [
        {
            "kind": "correctness",
            "name": f"{run.get('fault')}: lost 0, doubled 0, drained",
            "passed": bool(run.get("passed")),
            "detail": (
                f"lost {run.get('lost')}, doubled {run.get('doubled')}, "
                f"recovered {run.get('recovered_after_s')} s after the fault, "
                f"refused {run.get('refused')}"
            ),
        }
        for run in runs
    ]


def load(paths: Sequence[Path]) -> list[dict[str, Any]]:
    documents = []
    for path in sorted(paths):
        try:
            document = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            print(f"skipped {path.name}: {exc}", file=sys.stderr)
            continue
        document.setdefault("benchmark", path.stem)
        document["_file"] = path.name
        documents.append(document)
    return documents


def rows(documents: list[dict[str, Any]]) -> list[tuple[str, str, str, str]]:
    table: list[tuple[str, str, str, str]] = []
    for document in documents:
        for check in checks_of(document):
            if (
                check.get("kind") == "correctness"
                and check.get("passed")
                and "runs" not in document
            ):
                continue  # shown as one line per benchmark below
            table.append(
                (
                    document["_file"].removesuffix(".json"),
                    check.get("name", ""),
                    "ok" if check.get("passed") else MARK[False],
                    str(check.get("detail", "")),
                )
            )
        correct = [c for c in checks_of(document) if c.get("kind") == "correctness"]
        if correct and all(c.get("passed") for c in correct):
            table.append(
                (
                    document["_file"].removesuffix(".json"),
                    f"correctness ({len(correct)} checks: nothing lost, doubled or wrong)",
                    "ok",
                    "",
                )
            )
    return table


def render(documents: list[dict[str, Any]]) -> str:
    lines = ["Tairyo benchmarks against design.md's targets", ""]
    for document in documents:
        machine = document.get("machine", {})
        busy = machine.get("other_cpu_cores_at_start")
        lines.append(
            f"  {document['_file']}: {document.get('measured_at', '?')}, "
            f"{machine.get('nproc', '?')} cores"
            + (f", other processes {busy} cores at start" if busy is not None else "")
        )
        lines.append(f"    {document.get('command', '')}")
    lines.append("")
    table = rows(documents)
    widths = [max(len(row[i]) for row in table) if table else 0 for i in range(3)]
    for row in table:
        lines.append(
            f"{row[0]:<{widths[0]}}  {row[1]:<{widths[1]}}  {row[2]:<{widths[2]}}  {row[3]}"
        )
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("files", nargs="*", type=Path, help="result files (default: all)")
    parser.add_argument("--strict", action="store_true", help="exit 1 when a target is missed")
    args = parser.parse_args(argv)
    documents = load(args.files or list(RESULTS.glob("*.json")))
    if not documents:
        print(f"no results in {RESULTS}; run make bench first", file=sys.stderr)
        return 2
    print(render(documents))
    checks = [check for document in documents for check in checks_of(document)]
    if not all(c.get("passed") for c in checks if c.get("kind") == "correctness"):
        return 1
    return 1 if args.strict and not all(c.get("passed") for c in checks) else 0


if __name__ == "__main__":
    sys.exit(main())
