"""Nothing leaves the machine: telemetry off in every configuration, and the chain run with a
loopback-only network while every connect()/sendto() is traced.

The slow test runs, in a fresh network namespace (`unshare --net`, only `lo` up) under
`strace -f`, what `make demo` runs: sample data, the DAGs through Airflow (ingest, build with
one cosmos task per dbt model, gates, publish, export) and then the four Airflow services
(api-server, scheduler, dag-processor, triggerer) until healthy. Any connect or sendto to an
address that is not loopback, or any DNS query (port 53, wherever it goes), fails the test
and names the process and the address.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from ouderpeil.config import REPO_ROOT
from ouderpeil.telemetry import TELEMETRY_OFF

# connect(5, {sa_family=AF_INET, sin_port=htons(53), sin_addr=inet_addr("10.0.0.2")}, 16)
_INET = re.compile(
    r"sa_family=AF_INET, sin_port=htons\((?P<port>\d+)\), "
    r'sin_addr=inet_addr\("(?P<addr>[\d.]+)"\)'
)
_INET6 = re.compile(
    r"sa_family=AF_INET6, sin6_port=htons\((?P<port>\d+)\), .*?"
    r'inet_pton\(AF_INET6, "(?P<addr>[0-9a-fA-F:.]+)"'
)


def outside_attempts(trace: str) -> list[str]:
    """strace lines of connect/sendto calls to another host, or DNS queries anywhere."""
    bad = []
    for line in trace.splitlines():
        if "connect(" not in line and "sendto(" not in line:
            continue
        m = _INET.search(line) or _INET6.search(line)
        if not m:
            continue  # AF_UNIX, AF_NETLINK, or no address (sendto on a connected socket)
        addr, port = m["addr"], int(m["port"])
        loopback = (
            addr.startswith("127.")
            or addr == "::1"
            or addr.startswith("::ffff:127.")
            or addr in ("0.0.0.0", "::")
        )
        if port == 53 or not loopback:
            bad.append(line.strip())
    return bad


def test_trace_parser_flags_other_hosts_and_name_lookups():
    trace = "\n".join(
        [
            '11 connect(3, {sa_family=AF_UNIX, sun_path="/var/run/nscd/socket"}, 110) = -1 ENOENT',
            '11 connect(3, {sa_family=AF_INET, sin_port=htons(8080), sin_addr=inet_addr("127.0.0.1")}, 16) = 0',
            "11 connect(3, {sa_family=AF_INET6, sin6_port=htons(8793), sin6_flowinfo=htonl(0), "
            'inet_pton(AF_INET6, "::1", &sin6_addr), sin6_scope_id=0}, 28) = 0',
            '12 connect(3, {sa_family=AF_INET, sin_port=htons(53), sin_addr=inet_addr("10.255.255.53")}, 16) = -1',
            '13 connect(4, {sa_family=AF_INET, sin_port=htons(443), sin_addr=inet_addr("34.1.2.3")}, 16) = -1',
            '14 sendto(5, "x", 1, 0, {sa_family=AF_INET, sin_port=htons(53), sin_addr=inet_addr("127.0.0.53")}, 16) = 1',
        ]
    )
    bad = outside_attempts(trace)
    assert [line.split()[0] for line in bad] == ["12", "13", "14"]


def _env_file(path: Path) -> dict[str, str]:
    out = {}
    for line in path.read_text().splitlines():
        if "=" in line and not line.lstrip().startswith("#"):
            key, _, value = line.partition("=")
            out[key.strip()] = value.strip()
    return out


def test_telemetry_is_off_in_every_configuration_the_project_ships():
    from ouderpeil.config import Settings
    from ouderpeil.orchestration.local import airflow_env

    # Local runs, the demo's services and the tests: every Airflow process.
    env = airflow_env(Settings.from_env({"OUDERPEIL_DATA_DIR": "/tmp/x"}), Path("/tmp/x/af"))
    assert {k: env[k] for k in TELEMETRY_OFF} == TELEMETRY_OFF
    # Production: the compose file (Airflow services and Superset) and .env.example.
    compose = yaml.safe_load((REPO_ROOT / "docker-compose.yml").read_text())
    for name, service in compose["services"].items():
        environment = service.get("environment") or {}
        if name.startswith("airflow"):
            assert {k: str(environment.get(k)) for k in TELEMETRY_OFF} == TELEMETRY_OFF, name
        if name.startswith("superset"):
            assert str(environment.get("SCARF_ANALYTICS")) == "false", name
    example = _env_file(REPO_ROOT / ".env.example")
    assert {k: example.get(k) for k in TELEMETRY_OFF} == TELEMETRY_OFF
    # dbt run by hand on the project, GX, Superset.
    project = yaml.safe_load((REPO_ROOT / "dbt_project" / "dbt_project.yml").read_text())
    assert project["flags"]["send_anonymous_usage_stats"] is False
    config = (REPO_ROOT / "ouderpeil" / "superset_bootstrap" / "superset_config.py").read_text()
    assert re.search(r"^SCARF_ANALYTICS = False", config, re.M)


CHAIN = r"""
import sys, time
sys.path.insert(0, {tests!r})
from pathlib import Path
from conftest import make_settings
from ouderpeil.generate import generate
from ouderpeil.orchestration.local import run_pipeline_dags
from ouderpeil.orchestration.services import AirflowPorts, start_airflow, stop_airflow

settings = make_settings(Path({data!r}))
generate(settings.inbox_dir, scale="small", seed=1)
states = run_pipeline_dags(settings, settings.data_dir / "airflow")
print("CHAIN", states, flush=True)
home = settings.data_dir / "airflow"
try:
    services = start_airflow(settings, home, AirflowPorts.free())
    print("SERVICES", sorted(services.api().dags()), flush=True)
finally:
    stop_airflow(home)
"""


@pytest.mark.slow
def test_demo_chain_with_loopback_only_network_reaches_no_other_host(tmp_path):
    for tool in ("unshare", "strace", "ip"):
        if not shutil.which(tool):
            pytest.skip(f"{tool} is not installed: cannot limit and trace the network here")
    probe = subprocess.run(["unshare", "--net", "true"], capture_output=True, text=True)
    if probe.returncode != 0:
        pytest.skip(f"cannot create a network namespace here (needs root): {probe.stderr}")
    script = tmp_path / "chain.py"
    script.write_text(CHAIN.format(tests=str(REPO_ROOT / "tests"), data=str(tmp_path / "data")))
    trace = tmp_path / "connect.trace"
    env = {k: v for k, v in os.environ.items() if not k.startswith(tuple(TELEMETRY_OFF))}
    cmd = (
        f"ip link set lo up && exec strace -f -qq -e trace=connect,sendto "
        f"-o {trace} {sys.executable} {script}"
    )
    proc = subprocess.run(
        ["unshare", "--net", "--", "bash", "-c", cmd],
        env=env,
        text=True,
        capture_output=True,
        cwd=REPO_ROOT,
        timeout=2400,
    )
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0 and "CHAIN {'ouderpeil_ingest': 'success'" in out, out[-4000:]
    assert "SERVICES ['ouderpeil_build', 'ouderpeil_export', 'ouderpeil_ingest'" in out
    text = trace.read_text()
    assert "connect(" in text, "the trace saw no connect at all: it did not trace the chain"
    bad = outside_attempts(text)
    assert not bad, f"{len(bad)} attempt(s) to reach another host:\n" + "\n".join(bad[:20])
