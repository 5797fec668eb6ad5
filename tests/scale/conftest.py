"""Fixtures of the real scale-out tests: a one-node Slurm cluster on localhost started as root,
and the single-machine run every launch must reproduce."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

# The embedded default (SmolLM2 as generator and LLM-judge PRM) with tiny settings; problems are
# saved one by one so a kill lands between two of them.
TINY = ["--num-samples", "4", "-n", "2", "--max-tokens", "16", "--backend", "transformers",
        "--set", "generator.batch_size=1"]
SBIN = ("/usr/sbin", "/sbin")
SLURM_TOOLS = ("munged", "mungekey", "slurmctld", "slurmd", "sbatch", "squeue", "sinfo", "scancel")


def records(folder: Path) -> list[dict]:
    return [json.loads(line) for line in (folder / "results.jsonl").read_text().splitlines()]


@pytest.fixture(scope="session")
def reference_run(tmp_path_factory) -> list[dict]:
    """`sal search` of the same profile and seed on one machine, one math thread like the workers."""
    out = tmp_path_factory.mktemp("single-machine") / "run"
    proc = subprocess.run([sys.executable, "-m", "sal_cli", "search", *TINY, "-o", str(out), "-q"],
                          env={**os.environ, "OMP_NUM_THREADS": "1"}, capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stderr
    return records(out)


@dataclass
class SlurmCluster:
    env: dict[str, str]  # SLURM_CONF pointing at the test cluster
    root: Path


def _tool(name: str) -> str | None:
    return shutil.which(name, path=os.pathsep.join([os.environ.get("PATH", ""), *SBIN]))


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _memory_mb() -> int:
    total_kb = next(int(line.split()[1]) for line in Path("/proc/meminfo").read_text().splitlines()
                    if line.startswith("MemTotal:"))
    return total_kb * 9 // 10 // 1024  # below what slurmd measures, so the node is not drained


def _slurm_conf(root: Path, socket_path: Path, cpus: int) -> str:
    return f"""ClusterName=saltest
SlurmctldHost=localhost(127.0.0.1)
SlurmctldPort={_free_port()}
SlurmdPort={_free_port()}
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket={socket_path}
StateSaveLocation={root}/state
SlurmdSpoolDir={root}/spool
SlurmctldPidFile={root}/slurmctld.pid
SlurmdPidFile={root}/slurmd.pid
SlurmctldLogFile={root}/log/slurmctld.log
SlurmdLogFile={root}/log/slurmd.log
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
JobCompType=jobcomp/none
MpiDefault=none
ReturnToService=2
MinJobAge=3600
NodeName=localhost NodeHostname={socket.gethostname()} NodeAddr=127.0.0.1 CPUs={cpus} RealMemory={_memory_mb()} State=UNKNOWN
PartitionName=debug Nodes=localhost Default=YES MaxTime=INFINITE State=UP
"""


def _wait_for(check, what: str, seconds: float, logs: Path) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        if time.monotonic() > deadline:
            tail = "".join(f"\n== {p}\n{p.read_text()[-2000:]}" for p in sorted(logs.glob("*")) if p.is_file())
            raise RuntimeError(f"{what} within {seconds:.0f}s{tail}")
        time.sleep(0.5)


@pytest.fixture(scope="session")
def slurm_cluster() -> SlurmCluster:
    """munged, slurmctld and slurmd for one node (this machine, its real CPUs and memory), state
    under a temporary folder; stopped and removed at the end. Skips without Slurm or root."""
    missing = [name for name in SLURM_TOOLS if _tool(name) is None]
    if missing:
        pytest.skip(f"Slurm is not installed ({', '.join(missing)} missing): `apt-get install slurm-wlm munge`")
    if os.geteuid() != 0:
        pytest.skip("starting munged, slurmctld and slurmd needs root")
    root = Path(tempfile.mkdtemp(prefix="sal-slurm-"))
    root.chmod(0o711)  # munged wants its socket's folders searchable by everyone
    for sub in ("state", "spool", "log", "munge"):
        (root / sub).mkdir()
    (root / "socket").mkdir(mode=0o755)
    socket_path = root / "socket" / "munge.sock"
    conf = root / "slurm.conf"
    conf.write_text(_slurm_conf(root, socket_path, os.cpu_count() or 1))
    env = {**os.environ, "SLURM_CONF": str(conf)}
    daemons: list[subprocess.Popen] = []
    try:
        subprocess.run([_tool("mungekey"), "-c", "-k", str(root / "munge" / "munge.key")], check=True, capture_output=True)
        daemons.append(subprocess.Popen(
            [_tool("munged"), "-F", f"--socket={socket_path}", f"--key-file={root}/munge/munge.key",
             f"--pid-file={root}/munge/munged.pid", f"--log-file={root}/log/munged.log", f"--seed-file={root}/munge/seed"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        _wait_for(socket_path.exists, "munged did not start", 30, root / "log")
        for command in ([_tool("slurmctld"), "-D", "-f", str(conf)], [_tool("slurmd"), "-D", "-f", str(conf), "-N", "localhost"]):
            daemons.append(subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))

        def idle() -> bool:
            proc = subprocess.run([_tool("sinfo"), "-h", "-o", "%t"], env=env, capture_output=True, text=True)
            return proc.stdout.strip() == "idle"

        _wait_for(idle, "the Slurm node did not become idle", 60, root / "log")
        yield SlurmCluster(env, root)
    finally:
        if len(daemons) == 3:  # jobs a failed test left behind, on this test cluster only
            subprocess.run([_tool("scancel"), "--user", "root"], env=env, capture_output=True)
        for daemon in reversed(daemons):
            daemon.terminate()
            try:
                daemon.wait(timeout=20)
            except subprocess.TimeoutExpired:
                daemon.kill()
        shutil.rmtree(root, ignore_errors=True)
