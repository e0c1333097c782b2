"""Calibration of a large cohort as map and reduce against one process, on one machine, in one run:
`cls score` once per case (the map; a cluster runs these side by side), `cls calibrate --scores`
(the reduce), and `cls calibrate --probs --labels` on the same cases (one process reading every
volume). Prints the README's table and checks that both certificates are equal byte for byte.

Usage: /usr/bin/python3 bench/cohort_bench.py build/native/cls WORK_DIR [--cases 10000] [--size 32]

The cohort (`cls synth`, seed 2026) is made once in WORK_DIR and reused by later runs; the scores
are rewritten each run. Needs about 1.3 GB a 10,000 cases of 32^3, and a few minutes.
"""
import argparse
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path


def children_cpu():
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def timed(command):
    """(wall seconds, CPU seconds) of one run: CPU time is what the process itself used, which a
    machine shared with other work changes far less than the wall time."""
    cpu, started = children_cpu(), time.perf_counter()
    proc = subprocess.run([str(c) for c in command], capture_output=True, text=True)
    elapsed, cpu = time.perf_counter() - started, children_cpu() - cpu
    if proc.returncode != 0:
        sys.exit(f"{' '.join(map(str, command))} failed:\n{proc.stderr[-2000:]}")
    return elapsed, cpu


def folder_bytes(folder, pattern):
    return sum(p.stat().st_size for p in Path(folder).glob(pattern))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("cls")
    parser.add_argument("work", type=Path)
    parser.add_argument("--cases", type=int, default=10000)
    parser.add_argument("--size", type=int, default=32)
    args = parser.parse_args()
    cohort = args.work / f"cohort_{args.cases}_{args.size}"
    if not (cohort / "complete").exists():
        print(f"making {args.cases} cases of {args.size}^3 in {cohort} ...", flush=True)
        seconds, _ = timed([args.cls, "synth", "--cases", args.cases, "--size", args.size,
                            "--seed", 2026, "--out", cohort])
        (cohort / "complete").write_text(f"cls synth took {seconds:.1f} s\n")
    probs, labels, scores = cohort / "probs", cohort / "labels", args.work / "scores"
    scores.mkdir(parents=True, exist_ok=True)
    for old in scores.glob("*.score"):
        old.unlink()
    settings = ["--epsilon", 0.1, "--alpha", 0.1]

    names = sorted(p.name[: -len(".nii.gz")] for p in labels.glob("*.nii.gz"))
    per_case = []
    print(f"map: cls score on {len(names)} cases, one process each, in turn ...", flush=True)
    for name in names:
        per_case.append(timed([args.cls, "score", "--probs", probs / f"{name}.nii.gz",
                               "--labels", labels / f"{name}.nii.gz",
                               "--out", scores / f"{name}.score"]))
    reduce_seconds = timed([args.cls, "calibrate", "--scores", scores, *settings,
                            "--out", args.work / "certificate_scores.json"])
    one_process_seconds = timed([args.cls, "calibrate", "--probs", probs, "--labels", labels,
                                 *settings, "--out", args.work / "certificate_volumes.json"])
    equal = ((args.work / "certificate_scores.json").read_bytes() ==
             (args.work / "certificate_volumes.json").read_bytes())

    n = len(names)
    map_wall, map_cpu = sum(w for w, _ in per_case), sum(c for _, c in per_case)
    print(f"\n{n:,} synthetic cases of {args.size}^3 (cls synth, seed 2026), one run on this "
          f"machine (load average {os.getloadavg()[0]:.1f}), epsilon 0.1, alpha 0.1")
    print(f"{'step':<50} {'wall s':>7} {'CPU s':>7} {'CPU a case':>11}")
    rows = (
        (f"map: cls score, {n:,} processes one after another", map_wall, map_cpu),
        ("reduce: cls calibrate --scores", *reduce_seconds),
        ("one process: cls calibrate --probs --labels", *one_process_seconds),
    )
    for label, wall, cpu in rows:
        print(f"{label:<50} {wall:7.1f} {cpu:7.1f} {cpu / n * 1000:8.2f} ms")
    median = statistics.median(w for w, _ in per_case)
    print(f"cls score per case: median {median * 1000:.1f} ms wall, "
          f"{statistics.median(c for _, c in per_case) * 1000:.1f} ms CPU")
    print(f"reduce / one process: {reduce_seconds[0] / one_process_seconds[0]:.3f} wall, "
          f"{reduce_seconds[1] / one_process_seconds[1]:.3f} CPU; map + reduce / one process: "
          f"{(map_cpu + reduce_seconds[1]) / one_process_seconds[1]:.2f} CPU")
    print(f"scores {folder_bytes(scores, '*.score') / 1e6:.0f} MB "
          f"({folder_bytes(scores, '*.score') / n / 1e3:.1f} KB a case); probability maps "
          f"{folder_bytes(probs, '*.nii.gz') / 1e6:.0f} MB, labels "
          f"{folder_bytes(labels, '*.nii.gz') / 1e6:.0f} MB")
    print(f"certificates from scores and from volumes equal byte for byte: "
          f"{'yes' if equal else 'NO'}")
    return 0 if equal else 1


if __name__ == "__main__":
    sys.exit(main())
