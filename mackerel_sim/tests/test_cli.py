"""`python -m mackerel_sim` starts a server and says where it is and which keys to use."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx

from mackerel_sim.tests.conftest import SSL_CONTEXT

ROOT = Path(__file__).resolve().parents[2]


def start(*args: str) -> tuple[subprocess.Popen[str], dict[str, Any]]:
    process = subprocess.Popen(
        [sys.executable, "-m", "mackerel_sim", "--port", "0", *args],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    return process, json.loads(process.stdout.readline())


def test_cli_serves_a_demo_world_and_runs_scenarios(tmp_path: Path) -> None:
    state = tmp_path / "state.json"
    state.write_text(
        json.dumps(
            {
                "organizations": [
                    {
                        "name": "from-file",
                        "rwKey": "file-rw",
                        "roKey": "file-ro",
                        "hosts": [{"name": "vm0900", "roles": ["web: app"]}],
                    }
                ]
            }
        )
    )
    process, info = start(
        "--seed",
        "3",
        "--state",
        str(state),
        "--demo",
        "acme-prod",
        "--hosts-per-org",
        "5",
        "--scenario",
        "host-down-up:org=acme-prod,down_for=3600",
        "memo-change",
        "--save-state",
        str(tmp_path / "saved.json"),
    )
    try:
        orgs = {o["name"]: o for o in info["organizations"]}
        with httpx.Client(base_url=str(info["url"]), trust_env=False, verify=SSL_CONTEXT) as c:
            hosts = c.get(
                "/api/v0/hosts", headers={"X-Api-Key": orgs["acme-prod"]["rwKey"]}
            ).json()["hosts"]
            assert len(hosts) == 5
            filed = c.get("/api/v0/hosts", headers={"X-Api-Key": "file-rw"}).json()["hosts"]
            assert [(h["name"], h["roles"]) for h in filed] == [("vm0900", {"web": ["app"]})]
            runs = c.get("/_sim/runs").json()["runs"]
            assert [r["name"] for r in runs] == ["host-down-up", "memo-change"]
    finally:
        process.terminate()
        process.wait(timeout=10)
    saved = json.loads((tmp_path / "saved.json").read_text())
    assert sorted(o["name"] for o in saved["organizations"]) == ["acme-prod", "from-file"]


def test_same_seed_same_keys() -> None:
    keys = []
    for _ in range(2):
        process, info = start("--seed", "42", "--demo", "acme-prod", "--hosts-per-org", "1")
        process.terminate()
        process.wait(timeout=10)
        keys.append(info["organizations"])
    assert keys[0] == keys[1]
