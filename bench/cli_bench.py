"""Times what a user waits for, whole commands on whole volumes, and prints one table.

Usage: /usr/bin/python3 bench/cli_bench.py [--repeat N] [--work DIR] [--infer]
after `scripts/build.sh native-release` (and `scripts/build_web.sh` for --infer).

1. `cls calibrate` end to end on 12 float32 probability maps of 128x128x96 with uint8 labels
   (92 MB uncompressed, made here with nibabel, read once first so they sit in the page cache),
   uncompressed and gzipped, side by side with
   (a) `openssl dgst -sha256` of the same files: reading and hashing them, the floor for any
       tool that binds a certificate to its inputs;
   (b) bench/grid_calibrate.py: numpy trying 100 thresholds per case (the MAPIE-style grid).
   Targets: calibrate <= 1.5x (a) and >= 50x faster than (b).
   Also (a) on every core: the files dealt into one group per core by size, an `openssl dgst`
   for each group at once: reading and hashing with every core, before any parsing or scoring.
   (b) over it bounds (b)/cal for a tool that reads and hashes its inputs as openssl does.
2. gzip inflate of a 256^3 float32 .nii.gz: zlib against libdeflate (cls_bench_gzip).
3. With --infer: `node scripts/infer.mjs --threads 2` with the bundled model on a 240x240x155
   FLAIR, with every patch run and with background patches skipped (--skip-background
   nonzero); target <= 20 s. The volume is ../shared/data/open_ms/patient07's skull-stripped
   FLAIR (Lesjak et al., Neuroinformatics 2017, CC-BY; 182x218x182) centred in BraTS's
   240x240x155 grid with zeros, made here and never copied into the repository. Minutes.

Every row of a section comes from the same run, alternating the commands, so their ratios hold
on a shared, noisy machine where absolute times do not. Times are medians of N runs.
"""
import argparse
import json
import os
import resource
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

import nibabel as nib
import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CLS = os.path.join(ROOT, "build/native/cls")
GZIP_BENCH = os.path.join(ROOT, "build/native/bench/cls_bench_gzip")
SHAPE = (128, 128, 96)
CASES = 12
EPSILON, ALPHA = 0.1, 0.2


def make_case(rng):
    """A float32 map and a uint8 label: 2 to 6 spherical lesions, the map a noisy sigmoid of the
    distance to them (background values small but with full float32 mantissas, as a network's
    are, so the maps compress about as badly as real ones)."""
    grid = np.stack(np.meshgrid(*[np.arange(n, dtype=np.float32) for n in SHAPE], indexing="ij"))
    d = np.full(SHAPE, np.inf, dtype=np.float32)
    for _ in range(rng.integers(2, 7)):
        centre = rng.uniform(20, np.array(SHAPE) - 20).astype(np.float32)
        radius = np.float32(rng.uniform(3, 10))
        d = np.minimum(d, np.sqrt(((grid - centre[:, None, None, None]) ** 2).sum(0)) / radius)
    label = (d < 1).astype(np.uint8)
    logit = np.maximum(8 * (1 - d), -12) + rng.normal(0, 1.5, SHAPE).astype(np.float32)
    prob = (1 / (1 + np.exp(-logit))).astype(np.float32)
    return prob, label


def make_sets(work):
    """work/nii/{probs,labels}/case_XXX.nii and the same as .nii.gz under work/gz."""
    marker = os.path.join(work, "done")
    if os.path.exists(marker):
        return
    rng = np.random.default_rng(2026)
    affine = np.diag([1.0, 1.0, 1.2, 1.0])
    for kind in ("nii", "gz"):
        for role in ("probs", "labels"):
            os.makedirs(os.path.join(work, kind, role), exist_ok=True)
    for i in range(CASES):
        prob, label = make_case(rng)
        for kind, suffix in (("nii", ".nii"), ("gz", ".nii.gz")):
            name = f"case_{i:03d}{suffix}"
            nib.save(nib.Nifti1Image(prob, affine), os.path.join(work, kind, "probs", name))
            nib.save(nib.Nifti1Image(label, affine), os.path.join(work, kind, "labels", name))
    open(marker, "w").close()


def files_of(folder):
    return [os.path.join(folder, role, n) for role in ("probs", "labels")
            for n in sorted(os.listdir(os.path.join(folder, role)))]


def megabytes(paths):
    return sum(os.path.getsize(p) for p in paths) / 1e6


def timed(command):
    """Wall time and CPU time (user + system, all threads) of one run."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def side_by_side(commands, repeat):
    """Median wall and CPU time of each command, the commands alternating within each round."""
    runs = {name: [] for name in commands}
    for _ in range(repeat):
        for name, command in commands.items():
            runs[name].append(timed(command))
    return {name: (statistics.median(w for w, _ in r), statistics.median(c for _, c in r))
            for name, r in runs.items()}


def hash_on_every_core(paths):
    """One `openssl dgst -sha256` a core, run at once, over groups of about equal size."""
    groups = [[] for _ in range(os.cpu_count())]
    sizes = [0] * len(groups)
    for p in sorted(paths, key=os.path.getsize, reverse=True):
        i = sizes.index(min(sizes))
        groups[i].append(p)
        sizes[i] += os.path.getsize(p)
    jobs = [shlex.join(["openssl", "dgst", "-sha256", *g]) for g in groups if g]
    return ["sh", "-c", " & ".join(jobs) + " & wait"]


def calibrate_section(work, repeat):
    rows = []
    for kind, title in (("nii", "uncompressed .nii"), ("gz", "gzipped .nii.gz")):
        folder = os.path.join(work, kind)
        paths = files_of(folder)
        for p in paths:  # into the page cache
            with open(p, "rb") as f:
                while f.read(1 << 24):
                    pass
        out = os.path.join(work, f"cert_{kind}.json")
        commands = {
            "cls calibrate": [CLS, "calibrate", "--probs", f"{folder}/probs", "--labels",
                              f"{folder}/labels", "--epsilon", str(EPSILON), "--alpha",
                              str(ALPHA), "--out", out],
            "(a) openssl dgst -sha256": ["openssl", "dgst", "-sha256", *paths],
            "(a) on every core": hash_on_every_core(paths),
            "(b) numpy 100-threshold grid": [sys.executable,
                                             os.path.join(ROOT, "bench/grid_calibrate.py"),
                                             f"{folder}/probs", f"{folder}/labels",
                                             str(EPSILON), str(ALPHA)],
        }
        t = side_by_side(commands, repeat)
        rows.append((title, megabytes(paths), t))
    return rows


OPEN_MS_FLAIR = os.path.join(
    ROOT, "..", "shared", "data", "open_ms", "patient07",
    "FLAIR_N4_noneck_reduced_winsor_regtoFLAIR_brain_N4_regtoMNI.nii.gz")


def make_brats_sized_flair(folder):
    """The open_ms FLAIR centred in a 240x240x155 grid: padded with zeros in x and y, its
    z cropped about the middle, as BraTS volumes are laid out."""
    source = nib.load(OPEN_MS_FLAIR)
    flair = np.asanyarray(source.dataobj).astype(np.float32)
    out = np.zeros((240, 240, 155), np.float32)
    x0, y0 = (240 - flair.shape[0]) // 2, (240 - flair.shape[1]) // 2
    z0 = (flair.shape[2] - 155) // 2
    out[x0:x0 + flair.shape[0], y0:y0 + flair.shape[1], :] = flair[:, :, z0:z0 + 155]
    os.makedirs(folder, exist_ok=True)
    nib.save(nib.Nifti1Image(out, np.diag([1.0, 1.0, 1.0, 1.0])), os.path.join(folder, "flair.nii.gz"))


def infer_section(work, repeat):
    images = os.path.join(work, "flair240")
    if not os.path.exists(os.path.join(images, "flair.nii.gz")):
        make_brats_sized_flair(images)
    commands = {rule: ["node", os.path.join(ROOT, "scripts/infer.mjs"), "--model",
                       os.path.join(ROOT, "models/cls_unet.json"), "--images", images, "--out",
                       os.path.join(work, f"probs_{rule}"), "--threads", "2",
                       "--skip-background", rule]
                for rule in ("none", "nonzero")}
    runs = {rule: [] for rule in commands}
    counts = {}
    for _ in range(repeat):
        for rule, command in commands.items():
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            start = time.perf_counter()
            stderr = subprocess.run(command, capture_output=True, text=True, check=True).stderr
            wall = time.perf_counter() - start
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            runs[rule].append((wall, after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime))
            counts[rule] = next(l for l in stderr.splitlines() if "patches" in l).split(": ", 1)[1]
    times = {rule: (statistics.median(w for w, _ in r), statistics.median(c for _, c in r))
             for rule, r in runs.items()}
    a = nib.load(os.path.join(work, "probs_none", "flair.nii.gz")).get_fdata()
    b = nib.load(os.path.join(work, "probs_nonzero", "flair.nii.gz")).get_fdata()
    return times, counts, float(np.abs(a - b).max()), int(((a >= 0.5) != (b >= 0.5)).sum())


def gzip_section():
    out = subprocess.run([GZIP_BENCH, "--benchmark_format=json", "--benchmark_repetitions=3",
                          "--benchmark_report_aggregates_only=true"],
                         capture_output=True, text=True, check=True).stdout
    return {b["run_name"].split("/")[0]: b for b in json.loads(out)["benchmarks"]
            if b["aggregate_name"] == "median"}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--work", help="folder for the generated cases (kept); default: a temporary one")
    parser.add_argument("--infer", action="store_true", help="also time scripts/infer.mjs (minutes)")
    args = parser.parse_args()
    work = args.work or tempfile.mkdtemp(prefix="cls_cli_bench_")
    os.makedirs(work, exist_ok=True)
    try:
        make_sets(work)
        print(f"cls calibrate, {CASES} cases of {SHAPE[0]}x{SHAPE[1]}x{SHAPE[2]} float32 maps + "
              f"uint8 labels, epsilon {EPSILON}, alpha {ALPHA}; whole commands, files in the page "
              f"cache, median of {args.repeat}, {os.cpu_count()} cores, load average "
              f"{os.getloadavg()[0]:.1f}; wall time (CPU time, all threads)")
        print(f"{'set':<18} {'MB':>5} {'cls calibrate':>15} {'(a) openssl dgst':>17} "
              f"{'(b) numpy grid':>17} {'cal/(a)':>8} {'(b)/cal':>8}")
        cell = lambda t: f"{t[0] * 1e3:.0f} ms ({t[1] * 1e3:.0f})"
        floors = []
        for title, mb, t in calibrate_section(work, args.repeat):
            cal, dgst, grid = (t["cls calibrate"], t["(a) openssl dgst -sha256"],
                               t["(b) numpy 100-threshold grid"])
            print(f"{title:<18} {mb:5.0f} {cell(cal):>15} {cell(dgst):>17} {cell(grid):>17} "
                  f"{cal[0] / dgst[0]:7.2f}x {grid[0] / cal[0]:7.1f}x")
            floors.append((title, t["(a) on every core"][0], grid[0]))
        print("targets (wall time): cal/(a) <= 1.5x, (b)/cal >= 50x")
        for title, floor, grid in floors:
            print(f"{title}: (a) on all {os.cpu_count()} cores at once {floor * 1e3:.0f} ms, so a "
                  f"tool that reads and hashes them so gets at most (b)/that = {grid / floor:.1f}x")
        if os.path.exists(GZIP_BENCH):
            rows = gzip_section()
            print()
            print("gzip inflate of a 256^3 float32 .nii.gz (64 MiB out), in memory, median of 3")
            zlib = rows["BM_InflateZlib"]
            fast = rows["BM_InflateLibdeflate"]
            for label, b in (("zlib, streamed (before)", zlib), ("libdeflate, one call (now)", fast)):
                print(f"{label:<28} {b['real_time']:8.1f} ms {b['bytes_per_second'] / 1e6:8.0f} MB/s out")
            print(f"libdeflate / zlib: {zlib['real_time'] / fast['real_time']:.2f}x faster")
        if args.infer:
            with open(os.path.join(ROOT, "models/cls_unet.json")) as f:
                sha = json.load(f)["sha256"][:12]
            times, counts, diff, flipped = infer_section(work, max(1, min(args.repeat, 2)))
            print()
            print(f"node scripts/infer.mjs --threads 2, bundled model (sha256 {sha}...), 240x240x155 "
                  f"FLAIR (open_ms patient07 in BraTS's grid), whole command, median of "
                  f"{max(1, min(args.repeat, 2))}; wall time (CPU time)")
            for rule in ("none", "nonzero"):
                print(f"--skip-background {rule:<8} {times[rule][0]:7.1f} s ({times[rule][1]:.1f})   "
                      f"{counts[rule]}")
            print(f"skipping: {times['none'][0] / times['nonzero'][0]:.2f}x faster; largest change in the "
                  f"map {diff:.2e}, voxels that change side of 0.5: {flipped}; target <= 20 s")
    finally:
        if not args.work:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
