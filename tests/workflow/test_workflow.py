"""The cohort workflow (workflows/Snakefile) on a small synthetic cohort, run by Debian's Snakemake
locally or through a real Slurm started on this machine (local_slurm.py): its certificate must
equal, byte for byte, the one a single `cls calibrate --probs --labels` writes, and so must its
evaluation report and masks equal `cls evaluate` and `cls apply` run by hand. The Slurm run also
checks that every job went through Slurm: slurmctld's own job completion log lists each rule's
jobs as COMPLETED, and Snakemake left one Slurm log per job; then every daemon is stopped and
nothing of the cluster may be left running (local_slurm.py's check of /proc, then `pgrep`).

Usage: /usr/bin/python3 test_workflow.py PATH/TO/cls WORK_DIR local|slurm
Exits 77 (ctest's SKIP_RETURN_CODE) after printing why when it cannot run here: never a pass.
"""
import shutil
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from local_slurm import LocalSlurm, SlurmUnavailable, die_with_parent  # noqa: E402

SNAKEFILE = HERE.parents[1] / "workflows" / "Snakefile"
SKIP = 77
CASES, NEW_CASES = 8, 2


def run(command, **kwargs):
    # Children end with this test however it ends (a killed test leaves no snakemake polling).
    proc = subprocess.run([str(c) for c in command], capture_output=True, text=True,
                          preexec_fn=die_with_parent, **kwargs)
    if proc.returncode != 0:
        raise AssertionError(f"{' '.join(map(str, command))} exited {proc.returncode}\n"
                             f"stdout: {proc.stdout[-4000:]}\nstderr: {proc.stderr[-4000:]}")
    return proc


def skip(reason):
    print(f"SKIPPED: {reason}")
    sys.exit(SKIP)


def make_cohort(cls, work):
    """8 labelled cases and 2 new ones, and what cls writes for them in one process each."""
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    run([cls, "synth", "--cases", CASES, "--size", 12, "--seed", 21, "--out", work / "cal"])
    run([cls, "synth", "--cases", NEW_CASES, "--size", 12, "--seed", 22, "--out", work / "new"])
    # Named apart from the calibration cases, so results show which is which.
    for path in sorted((work / "new" / "probs").glob("case_*.nii.gz")):
        path.rename(path.with_name("new_" + path.name))
    (work / "run.yaml").write_text(f"""\
cls: {cls}
labels: {work}/cal/labels
probs: {work}/cal/probs
new_probs: {work}/new/probs
out: results
epsilon: 0.2
alpha: 0.2
method: cls
evaluate_methods: fixed,cls,crc
splits: 20
seed: 3
mem_mb: 200
runtime: 5
""")
    expected = work / "expected"
    (expected / "masks").mkdir(parents=True)
    volumes = ["--probs", work / "cal" / "probs", "--labels", work / "cal" / "labels"]
    run([cls, "calibrate", *volumes, "--epsilon", 0.2, "--alpha", 0.2, "--method", "cls",
         "--out", expected / "certificate.json"])
    run([cls, "evaluate", *volumes, "--epsilon", 0.2, "--alpha", 0.2, "--methods",
         "fixed,cls,crc", "--splits", 20, "--seed", 3, "--json", expected / "evaluation.json",
         "--csv", expected / "evaluation.csv"])
    for path in sorted((work / "new" / "probs").glob("*.nii.gz")):
        run([cls, "apply", "--calibration", expected / "certificate.json", "--probs", path,
             "--out", expected / "masks" / path.name])
    return expected


def check_results(results, expected):
    for name in ("certificate.json", "evaluation.json", "evaluation.csv"):
        if (results / name).read_bytes() != (expected / name).read_bytes():
            raise AssertionError(f"{results / name} differs from one-machine cls's {name}")
    masks = sorted(p.name for p in (expected / "masks").iterdir())
    if sorted(p.name for p in (results / "masks").iterdir()) != masks:
        raise AssertionError(f"masks {sorted((results / 'masks').iterdir())}, expected {masks}")
    for name in masks:
        if (results / "masks" / name).read_bytes() != (expected / "masks" / name).read_bytes():
            raise AssertionError(f"mask {name} differs from cls apply's")
    print(f"certificate, evaluation and {len(masks)} masks equal one-machine cls byte for byte")


def snakemake(work, *options, env=None, timeout=600):
    started = time.monotonic()
    proc = run(["snakemake", "--snakefile", SNAKEFILE, "--configfile", work / "run.yaml",
                "--directory", work, "--quiet", "rules", *options], env=env, timeout=timeout)
    print(f"snakemake {' '.join(map(str, options))}: {time.monotonic() - started:.1f} s")
    return proc


def test_local(cls, work):
    expected = make_cohort(cls, work)
    snakemake(work, "--cores", 2)
    check_results(work / "results", expected)


def test_slurm(cls, work):
    expected = make_cohort(cls, work)
    try:
        slurm = LocalSlurm(work / "slurm").__enter__()
    except SlurmUnavailable as why:
        skip(f"Slurm could not start on this machine, so the workflow was not run through it: "
             f"{why}")
    try:
        # Snakemake 7.21 polls Slurm every 33 s unless told at most 1 check a second (a larger
        # number is reset to 0.03); a status a second is cheap on a one-node test cluster.
        snakemake(work, "--slurm", "--jobs", 4, "--default-resources", "slurm_partition=debug",
                  "--max-status-checks-per-second", 1, "--latency-wait", 10, env=slurm.env)
        check_results(work / "results", expected)
        # Slurm's own record: one completed job per rule run, named by Snakemake after its rule.
        jobs = slurm.completed_jobs()
        states = Counter(job.get("JobState") for job in jobs)
        rules = Counter(next((r for r in ("score", "calibrate", "apply", "evaluate")
                              if f"_{r}_" in job.get("Name", "") or
                              job.get("Name", "").endswith(f"_{r}")), "?") for job in jobs)
        print(f"slurmctld's job completion log: {len(jobs)} jobs, {dict(states)}, "
              f"by rule {dict(rules)}")
        want = {"score": CASES, "calibrate": 1, "apply": NEW_CASES, "evaluate": 1}
        if states != Counter({"COMPLETED": sum(want.values())}) or rules != Counter(want):
            raise AssertionError(f"expected {want} completed Slurm jobs, slurmctld logged "
                                 f"{[(j.get('JobId'), j.get('Name'), j.get('JobState')) for j in jobs]}")
        logs = sorted((work / ".snakemake" / "slurm_logs").rglob("*.log"))
        if len(logs) != sum(want.values()):
            raise AssertionError(f"{len(logs)} Slurm job logs, expected {sum(want.values())}")
    finally:
        slurm.stop()  # raises if a daemon or a job step is left running
    # And as a person would check: pgrep finds no process naming the cluster's folder, and
    # lists any Slurm daemon or job step still on the machine (another suite's would show here).
    ours = subprocess.run(["pgrep", "-a", "-f", str(slurm.dir)], capture_output=True,
                          text=True).stdout.strip()
    if ours:
        raise AssertionError(f"left running after stop: {ours}")
    named = [line for name in ("slurmctld", "slurmd", "slurmstepd", "munged")
             for line in subprocess.run(["pgrep", "-a", "-x", name], capture_output=True,
                                        text=True).stdout.splitlines()]
    print(f"after stop: pgrep -f {slurm.dir}: nothing; pgrep -x slurmctld, slurmd, slurmstepd, "
          f"munged: {named or 'nothing'}")


def main():
    if len(sys.argv) != 4 or sys.argv[3] not in ("local", "slurm"):
        sys.exit(__doc__)
    cls, work, which = Path(sys.argv[1]).resolve(), Path(sys.argv[2]).resolve(), sys.argv[3]
    if shutil.which("snakemake") is None:
        skip("snakemake not found (scripts/setup.sh installs Debian's snakemake)")
    {"local": test_local, "slurm": test_slurm}[which](cls, work / which)
    print(f"workflow.{which}: passed")


if __name__ == "__main__":
    main()
