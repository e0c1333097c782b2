"""A single-node Slurm cluster on this machine, from Debian's packages (slurm-wlm, munge), for
tests: munged, slurmctld and slurmd on localhost, their keys, sockets, state, logs and config in
one temporary folder, on free ports. Everything it starts it stops, even when the test fails or
is killed: each daemon runs in the foreground as a child that the kernel sends SIGTERM when this
process dies (PR_SET_PDEATHSIG), and stop() cancels the jobs, ends the daemons by their process
ids and checks that none of them, and no job step, is left.

    with LocalSlurm(folder) as slurm:      # raises SlurmUnavailable saying why it cannot start
        subprocess.run([...], env=slurm.env)   # sbatch, srun, sacct, snakemake --slurm ...
        slurm.completed_jobs()                 # slurmctld's job completion log, parsed

Needs root (slurmd launches jobs as their user) and the binaries slurmctld, slurmd, munged,
mungekey, sbatch, squeue, scancel.
"""
import ctypes
import os
import re
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

DAEMONS = ("slurmctld", "slurmd", "munged")
NODE = "clsnode"
PARTITION = "debug"


class SlurmUnavailable(Exception):
    """Slurm cannot run here; the message says why (a test skips with it, never passes)."""


def die_with_parent():
    # In the child, before exec: SIGTERM when the process that started it dies, however it dies.
    libc = ctypes.CDLL("libc.so.6", use_errno=True)
    PR_SET_PDEATHSIG = 1
    libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


def _is_zombie(pid):
    """An exited process its parent has not reaped yet: it runs nothing and holds no port."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True  # gone meanwhile
    return stat[stat.rindex(")") + 2] == "Z"


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait(predicate, seconds, failure):
    """Polls `predicate`; after `seconds`, raises SlurmUnavailable with failure()'s words."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.2)
    raise SlurmUnavailable(f"{failure()} (waited {seconds} s)")


class LocalSlurm:
    def __init__(self, folder):
        self.dir = Path(folder).resolve()
        self.processes = {}
        self.env = None

    def __enter__(self):
        try:
            self.start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc):
        self.stop()
        return False

    # --- starting ----------------------------------------------------------------------------

    def start(self):
        if os.geteuid() != 0:
            raise SlurmUnavailable("slurmd must run as root to launch jobs, and this test is "
                                   f"not root (uid {os.geteuid()})")
        missing = [b for b in ("slurmctld", "slurmd", "munged", "mungekey", "sbatch", "squeue",
                               "scancel", "sinfo") if shutil.which(b) is None]
        if missing:
            raise SlurmUnavailable(f"{', '.join(missing)} not found: scripts/setup.sh installs "
                                   f"Debian's slurm-wlm and munge")
        shutil.rmtree(self.dir, ignore_errors=True)
        for sub in ("munge", "state", "spool"):
            (self.dir / sub).mkdir(parents=True, mode=0o700)
        os.chmod(self.dir, 0o700)
        self._start_munge()
        self._write_config()
        self.env = dict(os.environ, SLURM_CONF=str(self.dir / "slurm.conf"),
                        USER=os.environ.get("USER", "root"))
        for name in ("SLURM_JOB_ID", "SLURM_JOBID"):  # not inside another allocation
            self.env.pop(name, None)
        self._spawn("slurmctld", ["slurmctld", "-D", "-f", str(self.dir / "slurm.conf")])
        _wait(lambda: self._quiet(["scontrol", "ping"]).returncode == 0, 30,
              lambda: self._failure("slurmctld did not answer scontrol ping", "slurmctld"))
        self._spawn("slurmd", ["slurmd", "-D", "-N", NODE, "-f", str(self.dir / "slurm.conf")])
        _wait(lambda: self._node_state() in ("idle", "mixed", "allocated"), 60,
              lambda: self._failure(f"node {NODE} did not become idle", "slurmd"))

    def _start_munge(self):
        key = self.dir / "munge" / "munge.key"
        made = self._quiet(["mungekey", "--create", "--keyfile", str(key)])
        if made.returncode != 0:
            raise SlurmUnavailable(f"mungekey failed: {made.stderr.strip()}")
        self.socket = self.dir / "munge" / "munge.socket"
        self._spawn("munged", ["munged", "--foreground", "--force", f"--socket={self.socket}",
                               f"--key-file={key}", f"--pid-file={self.dir / 'munge/munged.pid'}",
                               f"--log-file={self.dir / 'munge/munged.log'}",
                               f"--seed-file={self.dir / 'munge/munged.seed'}"])
        _wait(self.socket.exists, 15, lambda: self._failure("munged made no socket", "munged"))

    def _write_config(self):
        probe = self._quiet(["slurmd", "-C"])
        hardware = re.search(r"(CPUs=\d+.*?ThreadsPerCore=\d+ RealMemory=\d+)", probe.stdout)
        if not hardware:
            raise SlurmUnavailable(f"slurmd -C did not describe this machine: {probe.stdout}"
                                   f"{probe.stderr}")
        d = self.dir
        (d / "plugstack.conf").write_text("")
        (d / "slurm.conf").write_text(f"""\
# Written by tests/workflow/local_slurm.py: a one-node cluster inside {d}
ClusterName=clstest
SlurmctldHost=localhost
SlurmctldPort={_free_port()}
SlurmdPort={_free_port()}
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket={self.socket}
StateSaveLocation={d}/state
SlurmdSpoolDir={d}/spool
SlurmctldPidFile={d}/slurmctld.pid
SlurmdPidFile={d}/slurmd.pid
SlurmctldLogFile={d}/slurmctld.log
SlurmdLogFile={d}/slurmd.log
PlugStackConfig={d}/plugstack.conf
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/filetxt
JobCompLoc={d}/jobcomp.log
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SchedulerType=sched/builtin
MpiDefault=none
ReturnToService=2
MinJobAge=600
NodeName={NODE} NodeAddr=127.0.0.1 {hardware.group(1)} State=UNKNOWN
PartitionName={PARTITION} Nodes={NODE} Default=YES MaxTime=INFINITE State=UP
""")

    def _spawn(self, name, command):
        log = open(self.dir / f"{name}.out", "wb")
        self.processes[name] = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT,
                                                preexec_fn=die_with_parent, env=self.env)

    def _quiet(self, command, timeout=20):
        return subprocess.run(command, capture_output=True, text=True, env=self.env,
                              timeout=timeout)

    def _node_state(self):
        return self._quiet(["sinfo", "-h", "-n", NODE, "-o", "%T"]).stdout.strip().rstrip("*~#")

    def _failure(self, what, daemon):
        """`what`, with whether the daemon exited and the last lines of its logs."""
        process = self.processes.get(daemon)
        exited = process.poll() if process else None
        lines = []
        log = self.dir / ("munge/munged.log" if daemon == "munged" else f"{daemon}.log")
        for path in (log, self.dir / f"{daemon}.out"):
            if path.exists():
                lines += path.read_text(errors="replace").strip().splitlines()[-6:]
        return (what + (f" ({daemon} exited with status {exited})" if exited is not None else "")
                + (": " + " | ".join(lines) if lines else ""))

    # --- what ran --------------------------------------------------------------------------

    def completed_jobs(self):
        """slurmctld's job completion log: one dict per finished job (JobId, JobName,
        JobState, ...), written by slurmctld itself as each job ends."""
        path = self.dir / "jobcomp.log"
        if not path.exists():
            return []
        jobs = []
        for line in path.read_text().splitlines():
            fields = dict(item.split("=", 1) for item in line.split() if "=" in item)
            jobs.append(fields)
        return jobs

    # --- stopping --------------------------------------------------------------------------

    def stop(self):
        """Cancels every job, stops the daemons this object started (by process id) and
        raises if any of them, or anything they started (a job step), is still running."""
        if self.env and "slurmctld" in self.processes and self.processes["slurmctld"].poll() is None:
            try:
                self._quiet(["scancel", "--full", "--partition", PARTITION], timeout=10)
                deadline = time.monotonic() + 20
                while time.monotonic() < deadline and self._quiet(
                        ["squeue", "-h", "-o", "%i"], timeout=10).stdout.strip():
                    time.sleep(0.3)
            except (subprocess.SubprocessError, OSError):
                pass  # the daemons are stopped below whatever happened
        for name in ("slurmd", "slurmctld", "munged"):
            process = self.processes.pop(name, None)
            if process is None or process.poll() is not None:
                continue
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=5)
        left = self.leftovers()
        if left:
            raise RuntimeError(f"processes left running after stopping Slurm: {left}")

    def leftovers(self):
        """Processes of this cluster still running (zombies aside): any whose command line or
        environment names this cluster's folder. That is every daemon started here, and what
        they start (slurmscriptd, slurmstepd and job scripts inherit SLURM_CONF), while a
        Slurm that another test suite runs on this machine is left out."""
        mark = str(self.dir).encode()
        found = []
        for proc in Path("/proc").iterdir():
            if not proc.name.isdigit() or int(proc.name) == os.getpid():
                continue
            try:
                seen = (proc / "cmdline").read_bytes() + b"\0" + (proc / "environ").read_bytes()
                comm = (proc / "comm").read_text().strip()
            except OSError:
                continue  # gone meanwhile, or not ours to read
            if mark in seen and not _is_zombie(proc.name):
                found.append(f"{proc.name} {comm}")
        return found
