"""End-to-end contract of the `cls` command-line tool, checked against nibabel and numpy.

Usage: /usr/bin/python3 test_cli.py PATH/TO/cls WORK_DIR

Expectations are computed here from the files themselves (nibabel for reading, numpy for
the definitions), never copied from the tool's output.
"""
import gzip
import hashlib
import json
import math
import os
import shutil
import stat
import subprocess
import sys
import tempfile
import unittest
import xml.etree.ElementTree as ElementTree
from fractions import Fraction
from pathlib import Path

import nibabel as nib
import numpy as np
import scipy.ndimage

import cli_run
from cli_run import run

CLS = ""
WORK = Path()
# Real MS lesion masks (Lesjak et al., Neuroinformatics 2017, DOI 10.1007/s12021-017-9348-7,
# CC-BY): read from ../shared beside the repository, linked from a temporary folder, never copied.
OPEN_MS = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "open_ms"



def critical_threshold(lesion, epsilon):
    """(floor(epsilon*m)+1)-th smallest lesion probability; inf when there is none."""
    lesion = np.sort(lesion)
    j = int(math.floor(round(epsilon * 1e9) * len(lesion) / 1e9))
    return math.inf if j >= len(lesion) else float(lesion[j])


def load_cases(root):
    cases = {}
    for prob_path in sorted((root / "probs").glob("*.nii.gz")):
        name = prob_path.name[: -len(".nii.gz")]
        p = np.asanyarray(nib.load(prob_path).dataobj).astype(np.float32)
        label = np.asanyarray(nib.load(root / "labels" / prob_path.name).dataobj) != 0
        cases[name] = (p, label)
    return cases


# --- An independent evaluation: cls::Random's split stream re-implemented here, and every
# threshold and metric recomputed from the files with numpy, scipy and exact fractions. ------

MASK64 = (1 << 64) - 1


def rotl(x, k):
    return ((x << k) | (x >> (64 - k))) & MASK64


class Xoshiro:
    """xoshiro256** seeded through SplitMix64, as cls/random.hpp."""

    def __init__(self, seed):
        self.s, x = [], seed
        for _ in range(4):
            x = (x + 0x9E3779B97F4A7C15) & MASK64
            z = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & MASK64
            z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK64
            self.s.append(z ^ (z >> 31))

    def next(self):
        s = self.s
        result = (rotl((s[1] * 5) & MASK64, 7) * 9) & MASK64
        t = (s[1] << 17) & MASK64
        s[2] ^= s[0]
        s[3] ^= s[1]
        s[1] ^= s[2]
        s[0] ^= s[3]
        s[2] ^= t
        s[3] = rotl(s[3], 45)
        return result

    def below(self, n):
        return min(n - 1, int(((self.next() >> 11) * 2.0 ** -53) * n))


def random_split(n, n_cal, rng):
    """Fisher-Yates from the identity; the first n_cal positions calibrate."""
    order = list(range(n))
    for i in range(n, 1, -1):
        j = rng.below(i)
        order[i - 1], order[j] = order[j], order[i - 1]
    return sorted(order[:n_cal]), sorted(order[n_cal:])


def decimal(x):
    return Fraction(round(x * 1e9), 10 ** 9)


def evaluation_cases(root):
    cases = []
    for name, (p, label) in sorted(load_cases(root).items()):
        components, count = scipy.ndimage.label(label, structure=np.ones((3, 3, 3)))
        maxima = scipy.ndimage.maximum(p, components, index=np.arange(1, count + 1)) if count else []
        cases.append({"name": name, "voxels": p.size,
                      "lesion": np.sort(p[label]).astype(np.float64),
                      "background": np.sort(p[~label]).astype(np.float64),
                      "maxima": np.sort(np.asarray(maxima, np.float64))})
    return cases


def conformal_threshold(values, alpha):
    k = (round(alpha * 1e9) * (len(values) + 1)) // 10 ** 9
    return sorted(values)[k - 1]


def crc_reference(cases, epsilon):
    """Largest t with sum_i FNR_i(t) <= epsilon (n+1) - 1, in exact fractions."""
    budget = decimal(epsilon) * (len(cases) + 1) - 1
    def risk(t):
        return sum((Fraction(int((c["lesion"] < t).sum()), len(c["lesion"])) for c in cases
                    if len(c["lesion"])), Fraction(0))
    if risk(math.inf) <= budget:
        return math.inf
    candidates = np.unique(np.concatenate([c["lesion"] for c in cases]))
    lo, hi = 0, len(candidates) - 1  # risk(candidates[0]) = 0 always fits
    while lo < hi:
        mid = (lo + hi + 1) // 2
        lo, hi = (mid, hi) if risk(candidates[mid]) <= budget else (lo, mid - 1)
    return float(candidates[lo])


def split_metrics(cases, threshold_of, epsilon):
    covered = lesion_covered = lesion_cases = missed = lesions = detected = 0
    fnr = fpr = dice = compactness = 0.0
    for c in cases:
        t = threshold_of(c)
        m, fn = len(c["lesion"]), int((c["lesion"] < t).sum())
        fp = int((c["background"] >= t).sum())
        tp = m - fn
        case_fnr = fn / m if m else 0.0
        found = int((c["maxima"] >= t).sum())
        covered += case_fnr <= epsilon
        lesion_covered += (1 - found / len(c["maxima"]) if len(c["maxima"]) else 0.0) <= epsilon
        lesion_cases += m > 0
        missed += m > 0 and tp == 0
        lesions += len(c["maxima"])
        detected += found
        fnr += case_fnr
        fpr += fp / len(c["background"]) if len(c["background"]) else 0.0
        dice += 2 * tp / (2 * tp + fp + fn) if 2 * tp + fp + fn else 1.0
        compactness += (tp + fp) / c["voxels"]
    n = len(cases)
    return {"coverage": covered / n, "fnr": fnr / n, "fpr": fpr / n, "dice": dice / n,
            "compactness": compactness / n, "lesion_coverage": lesion_covered / n,
            "missed_lesion_rate": missed / lesion_cases if lesion_cases else 0.0,
            "lesion_detection_rate": detected / lesions if lesions else 1.0}


def reference_evaluation(cases, epsilon, alpha, splits, seed, share=0.5):
    """Per method, the mean over splits of every metric (and of the threshold)."""
    rng = Xoshiro(seed)
    n_cal = (round(share * 1e9) * len(cases)) // 10 ** 9
    sums = {}
    for _ in range(splits):
        cal, test = random_split(len(cases), n_cal, rng)
        cal_cases, test_cases = [cases[i] for i in cal], [cases[i] for i in test]
        thresholds = {
            "fixed": 0.5,
            "cls": conformal_threshold([critical_threshold(c["lesion"], epsilon) for c in cal_cases], alpha),
            "crc": crc_reference(cal_cases, epsilon),
            "lesion-cls": conformal_threshold([critical_threshold(c["maxima"], epsilon) for c in cal_cases], alpha),
        }
        for method, t in thresholds.items():
            metrics = split_metrics(test_cases, lambda c: t, epsilon)
            metrics["threshold"] = t
            for key, value in metrics.items():
                sums.setdefault(method, {}).setdefault(key, 0.0)
                sums[method][key] += value / splits
    return sums


class Cli(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        shutil.rmtree(WORK, ignore_errors=True)
        WORK.mkdir(parents=True)
        cls.data = WORK / "set"
        run("synth", "--cases", 24, "--size", 20, "--seed", 3, "--out", cls.data)

    def test_version_and_usage(self):
        self.assertIn("cls 0.1.0", run("--version").stdout)
        self.assertIn("usage:", run("--help").stdout)
        proc = run("frobnicate", expect=2)
        self.assertIn("unknown command 'frobnicate'", proc.stderr)
        proc = run("calibrate", "--epsilonn", "0.1", expect=2)
        self.assertIn("unknown option --epsilonn", proc.stderr)

    def test_synth_layout_and_determinism(self):
        for sub in ("images", "labels", "probs"):
            names = sorted(p.name for p in (self.data / sub).iterdir())
            self.assertEqual(names, [f"case_{i:03d}.nii.gz" for i in range(24)])
        again = WORK / "set_again"
        run("synth", "--cases", 3, "--size", 20, "--seed", 3, "--out", again)
        for i in range(3):
            a = nib.load(self.data / "probs" / f"case_{i:03d}.nii.gz").get_fdata()
            b = nib.load(again / "probs" / f"case_{i:03d}.nii.gz").get_fdata()
            np.testing.assert_array_equal(a, b)
        label = nib.load(self.data / "labels" / "case_000.nii.gz")
        self.assertEqual(label.get_data_dtype(), np.uint8)

    def test_synth_scans(self):
        out = WORK / "scans"
        run("synth", "--kind", "scans", "--cases", 4, "--size", 24, "--seed", 5, "--out", out)
        self.assertEqual(sorted(p.name for p in out.iterdir()), ["images", "labels"])
        for sub in ("images", "labels"):
            names = sorted(p.name for p in (out / sub).iterdir())
            self.assertEqual(names, [f"case_{i:03d}.nii.gz" for i in range(4)])
        again = WORK / "scans_again"
        run("synth", "--kind", "scans", "--cases", 2, "--size", 24, "--seed", 5, "--out", again)
        centred = np.eye(4)
        centred[:3, 3] = -(24 - 1) / 2  # 1 mm RAS+ grid centred on the origin
        for i in range(2):
            image = nib.load(out / "images" / f"case_{i:03d}.nii.gz")
            label = nib.load(out / "labels" / f"case_{i:03d}.nii.gz")
            self.assertEqual(image.get_data_dtype(), np.float32)
            self.assertEqual(label.get_data_dtype(), np.uint8)
            self.assertEqual(image.shape, (24, 24, 24))
            np.testing.assert_array_equal(image.affine, centred)
            np.testing.assert_array_equal(label.affine, centred)
            self.assertTrue(np.all(np.isfinite(image.get_fdata())))
            self.assertTrue(set(np.unique(label.get_fdata())) <= {0.0, 1.0})
            np.testing.assert_array_equal(
                image.get_fdata(), nib.load(again / "images" / f"case_{i:03d}.nii.gz").get_fdata())
        proc = run("synth", "--kind", "masks", "--cases", 1, "--size", 24, "--seed", 5,
                   "--out", WORK / "bad_kind", expect=2)
        self.assertIn("--kind must be probabilities or scans, not 'masks'", proc.stderr)

    def test_info_matches_nibabel(self):
        rng = np.random.default_rng(0)
        angle = 0.3
        oblique = np.array([[math.cos(angle) * 0.9, -math.sin(angle) * 1.1, 0, -40],
                            [math.sin(angle) * 0.9, math.cos(angle) * 1.1, 0, 12],
                            [0, 0, -2.5, 30], [0, 0, 0, 1]])
        files = []
        img = nib.Nifti1Image(rng.random((7, 5, 3)).astype(np.float32), oblique)
        files.append(WORK / "oblique.nii.gz")
        nib.save(img, files[-1])
        hdr = nib.Nifti1Header(endianness=">")
        hdr.set_data_dtype(np.int16)
        img = nib.Nifti1Image(rng.integers(-100, 100, (6, 4, 5)).astype(np.int16), np.diag([-1, 2, 3, 1.0]), hdr)
        img.header.set_slope_inter(0.5, -3)
        files.append(WORK / "scaled_big_endian.nii")
        nib.save(img, files[-1])
        files.append(self.data / "probs" / "case_001.nii.gz")
        for path in files:
            info = json.loads(run("info", "--json", path).stdout)
            ref = nib.load(path)
            data = ref.get_fdata()
            self.assertEqual(info["dims"], list(ref.shape))
            np.testing.assert_allclose(np.array(info["affine"]), ref.affine, atol=1e-5)
            self.assertEqual(info["datatype"], str(ref.get_data_dtype().newbyteorder("=")))
            self.assertAlmostEqual(info["min"], data.min(), places=5)
            self.assertAlmostEqual(info["max"], data.max(), places=5)
            self.assertAlmostEqual(info["mean"], data.mean(), places=5)
            self.assertEqual(info["sha256"], hashlib.sha256(path.read_bytes()).hexdigest())
        self.assertIn("affine", run("info", files[0]).stdout)

    def test_calibrate_apply_assess(self):
        cert_path = WORK / "cert.json"
        run("calibrate", "--probs", self.data / "probs", "--labels", self.data / "labels",
            "--epsilon", 0.1, "--alpha", 0.2, "--out", cert_path)
        cert = json.loads(cert_path.read_text())
        cases = load_cases(self.data)

        # The threshold, recomputed from the files with numpy.
        t = sorted(critical_threshold(p[label], 0.1) for p, label in cases.values())
        k = math.floor(25 * 0.2)
        self.assertEqual((cert["method"], cert["n"], cert["k"]), ("cls", 24, k))
        self.assertEqual(cert["threshold"], t[k - 1])
        self.assertEqual(cert["empty_mask_policy"], "satisfied")
        self.assertEqual(cert["empty_mask_count"], sum(1 for _, l in cases.values() if not l.any()))
        for entry in cert["cases"]:
            p, label = cases[entry["name"]]
            self.assertEqual(entry["lesion_voxels"], int(label.sum()))
            expected = critical_threshold(p[label], 0.1)
            self.assertEqual(entry["critical_threshold"], None if expected == math.inf else expected)
            prob_file = self.data / "probs" / (entry["name"] + ".nii.gz")
            self.assertEqual(entry["probabilities_sha256"], hashlib.sha256(prob_file.read_bytes()).hexdigest())

        # apply: uint8 mask p >= tau in the probability map's affine.
        mask_path = WORK / "mask.nii.gz"
        source = self.data / "probs" / "case_004.nii.gz"
        run("apply", "--calibration", cert_path, "--probs", source, "--out", mask_path)
        mask, prob = nib.load(mask_path), nib.load(source)
        self.assertEqual(mask.get_data_dtype(), np.uint8)
        np.testing.assert_allclose(mask.affine, prob.affine, atol=1e-6)
        p = np.asanyarray(prob.dataobj).astype(np.float32)
        np.testing.assert_array_equal(np.asanyarray(mask.dataobj), (p >= cert["threshold"]).astype(np.uint8))

        # assess: coverage over held-out cases, recomputed here.
        held_out = WORK / "held_out"
        run("synth", "--cases", 10, "--size", 20, "--seed", 99, "--out", held_out)
        report_path = WORK / "assess.json"
        out = run("assess", "--calibration", cert_path, "--probs", held_out / "probs",
                  "--labels", held_out / "labels", "--json", report_path).stdout
        self.assertIn("calibrated (cls)", out)
        report = json.loads(report_path.read_text())
        covered = 0
        for p, label in load_cases(held_out).values():
            fnr = float((p[label] < cert["threshold"]).mean()) if label.any() else 0.0
            covered += fnr <= 0.1
        self.assertEqual(report["calibrated"]["covered"], covered)
        self.assertEqual(report["calibrated"]["cases"], 10)

    def test_other_methods(self):
        for method in ("crc", "fixed"):
            cert_path = WORK / f"{method}.json"
            run("calibrate", "--probs", self.data / "probs", "--labels", self.data / "labels",
                "--epsilon", 0.2, "--alpha", 0.1, "--method", method, "--out", cert_path)
            cert = json.loads(cert_path.read_text())
            self.assertEqual(cert["method"], method)
            if method == "fixed":
                self.assertEqual(cert["threshold"], 0.5)
        excluded = WORK / "excluded.json"
        run("calibrate", "--probs", self.data / "probs", "--labels", self.data / "labels",
            "--epsilon", 0.2, "--alpha", 0.1, "--empty-masks", "exclude", "--out", excluded)
        cert = json.loads(excluded.read_text())
        self.assertEqual(cert["n"], 24 - cert["empty_mask_count"])


    def test_evaluate_matches_an_independent_reference(self):
        json_path, csv_path, plots = WORK / "evaluate.json", WORK / "evaluate.csv", WORK / "plots"
        out = run("evaluate", "--probs", self.data / "probs", "--labels", self.data / "labels",
                  "--epsilon", 0.2, "--alpha", 0.2, "--splits", 30, "--seed", 5,
                  "--methods", "fixed,cls,crc,lesion-cls", "--json", json_path,
                  "--csv", csv_path, "--plots", plots).stdout
        self.assertIn("cls promises P(FNR <= 0.2) >= 0.8 for a new case", out)
        report = json.loads(json_path.read_text())
        self.assertEqual((report["splits"], report["n_cal"], report["n_test"]), (30, 12, 12))
        self.assertEqual((report["epsilon"], report["alpha"]), (0.2, 0.2))
        expected = reference_evaluation(evaluation_cases(self.data), 0.2, 0.2, 30, 5)
        self.assertEqual(sorted(report["methods"]), sorted(expected))
        for method, metrics in expected.items():
            for key, value in metrics.items():
                self.assertAlmostEqual(report["methods"][method][key], value, places=12,
                                       msg=f"{method} {key}")
            spread = report["methods"][method]["spread"]["coverage"]
            self.assertLessEqual(spread["p5"], report["methods"][method]["coverage"])
            self.assertLessEqual(report["methods"][method]["coverage"], spread["p95"])
        # The CSV holds the same means, at round-trip precision.
        rows = {(r.split(",")[0], r.split(",")[2]): r.split(",") for r in csv_path.read_text().splitlines()[1:]}
        self.assertEqual(float(rows[("cls", "coverage")][3]), report["methods"]["cls"]["coverage"])
        self.assertEqual(float(rows[("crc", "fnr")][3]), report["methods"]["crc"]["fnr"])
        for svg in ("coverage_by_split.svg", "fnr_fpr_first_split.svg"):
            self.assertTrue(ElementTree.parse(plots / svg).getroot().tag.endswith("svg"))

    def test_evaluate_beyond_the_paper(self):
        json_path = WORK / "beyond.json"
        run("evaluate", "--probs", self.data / "probs", "--labels", self.data / "labels",
            "--epsilon", 0.3, "--alpha", 0.25, "--splits", 20, "--methods", "cls,pac,mondrian",
            "--delta", 0.2, "--mondrian", "lesion-voxels:100", "--json", json_path)
        report = json.loads(json_path.read_text())
        self.assertEqual(report["mondrian"], "lesion-voxels:100")
        burden = [int(label.sum()) for _, label in load_cases(self.data).values()]
        for method in ("cls", "pac", "mondrian"):
            groups = report["methods"][method]["groups"]
            self.assertEqual([g["name"] for g in groups], ["lesion-voxels < 100", "lesion-voxels >= 100"])
            self.assertEqual([g["cases"] for g in groups],
                             [sum(b < 100 for b in burden), sum(b >= 100 for b in burden)])
            for g in groups:
                self.assertAlmostEqual(g["mean_n_cal"] + g["mean_n_test"], g["cases"])
        self.assertIsNone(report["methods"]["mondrian"]["threshold"])  # one per group
        self.assertIn("with probability >= 0.8", report["methods"]["pac"]["promise"])

    def test_paper_suite(self):
        out_dir = WORK / "suite"
        out = run("evaluate", "--probs", self.data / "probs", "--labels", self.data / "labels",
                  "--paper-suite", out_dir, "--splits", 10).stdout
        self.assertIn("files written to", out)
        index = (out_dir / "README.md").read_text()
        for name in ("coverage_vs_alpha", "fnr_fpr_scatter", "compactness_heatmap",
                     "coverage_vs_calibration_share"):
            self.assertIn(f"({name}.svg)", index)
            self.assertTrue(ElementTree.parse(out_dir / f"{name}.svg").getroot().tag.endswith("svg"))
            self.assertTrue((out_dir / f"{name}.csv").exists())
        # 24 cases, 12 calibrate: alpha 0.05 needs 19, so the heat map leaves it out and says so.
        self.assertIn("## Left out", index)
        self.assertIn("alpha = 0.05 needs at least 19 calibration cases", index)
        # The fixed cut's FNR in the table, recomputed on the same splits (seed 1).
        table = [line.split(",") for line in (out_dir / "table_fnr_missed.csv").read_text().splitlines()]
        self.assertEqual(len(table), 1 + 9)
        fixed = [row for row in table if row[2] == "fixed"]
        expected = reference_evaluation(evaluation_cases(self.data), 0.1, 0.2, 10, 1)["fixed"]
        self.assertAlmostEqual(float(fixed[0][3]), expected["fnr"], places=12)
        self.assertAlmostEqual(float(fixed[0][5]), expected["missed_lesion_rate"], places=12)

    def test_evaluate_errors(self):
        base = ("evaluate", "--probs", self.data / "probs", "--labels", self.data / "labels",
                "--epsilon", 0.2)
        proc = run(*base, "--alpha", 0.2, "--methods", "cls,mondrian", expect=2)
        self.assertIn("the mondrian method needs --mondrian RULE", proc.stderr)
        proc = run(*base, "--alpha", 0.2, "--mondrian", "size:5", expect=2)
        self.assertIn("Mondrian rule 'size:5' names an unknown feature", proc.stderr)
        proc = run(*base, "--alpha", 0.2, "--methods", "cls,fixd", expect=2)
        self.assertIn("unknown method 'fixd'", proc.stderr)
        proc = run(*base, "--alpha", 0.02, expect=1)
        self.assertIn("cls with alpha = 0.02 needs at least 49 calibration cases", proc.stderr)
        proc = run(*base, "--alpha", 0.2, "--memory-limit", 0.0001, expect=1)
        self.assertRegex(proc.stderr, r"case_\d+: evaluation would need more than 0.1 MiB")
        self.assertIn("evaluate fewer cases", proc.stderr)
        self.assertIn("raise the memory limit (--memory-limit GIB)", proc.stderr)

    def test_errors_name_the_file_and_the_problem(self):
        bad = WORK / "bad"
        shutil.copytree(self.data / "probs", bad / "probs")
        shutil.copytree(self.data / "labels", bad / "labels")
        cert = WORK / "never.json"

        # Too few cases for alpha.
        proc = run("calibrate", "--probs", bad / "probs", "--labels", bad / "labels",
                   "--epsilon", 0.1, "--alpha", 0.02, "--out", cert, expect=1)
        self.assertIn("at least 49 calibration cases", proc.stderr)

        # A truncated file.
        victim = bad / "probs" / "case_002.nii.gz"
        raw = gzip.decompress(victim.read_bytes())
        victim.write_bytes(gzip.compress(raw[: len(raw) // 2]))
        proc = run("calibrate", "--probs", bad / "probs", "--labels", bad / "labels",
                   "--epsilon", 0.1, "--alpha", 0.2, "--out", cert, expect=1)
        self.assertIn("case_002.nii.gz", proc.stderr)
        self.assertIn("truncated", proc.stderr)
        self.assertFalse(cert.exists(), "no certificate is written when calibration fails")

        # NaN probabilities.
        img = nib.load(self.data / "probs" / "case_002.nii.gz")
        data = img.get_fdata().astype(np.float32)
        data[0, 0, :3] = np.nan
        nib.save(nib.Nifti1Image(data, img.affine), victim)
        proc = run("calibrate", "--probs", bad / "probs", "--labels", bad / "labels",
                   "--epsilon", 0.1, "--alpha", 0.2, "--out", cert, expect=1)
        self.assertIn(f"{victim}: probability map has 3 NaN or infinite values", proc.stderr)

        # An unpaired case.
        victim.unlink()
        proc = run("calibrate", "--probs", bad / "probs", "--labels", bad / "labels",
                   "--epsilon", 0.1, "--alpha", 0.2, "--out", cert, expect=1)
        self.assertIn("no probability map for case_002.nii.gz", proc.stderr)

        # A shape mismatch.
        small = nib.Nifti1Image(np.zeros((4, 4, 4), np.uint8), np.eye(4))
        nib.save(small, bad / "labels" / "case_002.nii.gz")
        shutil.copy(self.data / "probs" / "case_002.nii.gz", victim)
        proc = run("calibrate", "--probs", bad / "probs", "--labels", bad / "labels",
                   "--epsilon", 0.1, "--alpha", 0.2, "--out", cert, expect=1)
        self.assertIn("labels/case_002.nii.gz: is 4x4x4 but its probability map", proc.stderr)

        # Missing options and files.
        proc = run("apply", "--probs", victim, "--out", WORK / "m.nii.gz", expect=2)
        self.assertIn("option --calibration is required", proc.stderr)
        proc = run("info", WORK / "does_not_exist.nii", expect=1)
        self.assertIn("does_not_exist.nii: no such file", proc.stderr)

    def test_threads_change_no_output_byte(self):
        """Cases are loaded, hashed and scored on several threads and taken in name order: every
        output is byte for byte a single thread's, and of two broken cases the first in name
        order is reported."""
        held_out = WORK / "threads_held_out"
        run("synth", "--cases", 12, "--size", 20, "--seed", 41, "--out", held_out)
        outputs = {}
        for threads in ("1", "3", "8", None):
            out = WORK / f"threads_{threads}"
            out.mkdir(exist_ok=True)
            option = ("--threads", threads) if threads else ()
            printed = run(*self.calibrate_args(), *option, "--out", out / "cert.json").stdout
            printed += run("assess", "--calibration", out / "cert.json", "--probs",
                           held_out / "probs", "--labels", held_out / "labels", *option,
                           "--json", out / "assess.json").stdout
            printed += run("evaluate", "--probs", self.data / "probs", "--labels",
                           self.data / "labels", "--epsilon", 0.2, "--alpha", 0.2, "--splits", 30,
                           *option, "--json", out / "evaluate.json").stdout
            outputs[threads] = [printed.replace(str(out), "OUT")] + [
                (out / name).read_bytes() for name in ("cert.json", "assess.json", "evaluate.json")]
        for threads in ("3", "8", None):
            self.assertEqual(outputs[threads], outputs["1"], f"--threads {threads}")

        bad = WORK / "threads_bad"
        shutil.copytree(self.data, bad, dirs_exist_ok=True)
        for name, damage in (("case_005", "truncate"), ("case_019", "nan")):
            path = bad / "probs" / f"{name}.nii.gz"
            if damage == "truncate":
                raw = gzip.decompress(path.read_bytes())
                path.write_bytes(gzip.compress(raw[: len(raw) // 2]))
            else:
                img = nib.load(path)
                data = img.get_fdata().astype(np.float32)
                data[0, 0, 0] = np.nan
                nib.save(nib.Nifti1Image(data, img.affine), path)
        # The error is stderr's last line (progress lines, with their times, come before it).
        errors = {threads: run(*self.calibrate_args(bad / "probs", bad / "labels"), "--threads",
                               threads, "--out", WORK / "never.json", expect=1).stderr
                  .splitlines()[-1] for threads in (1, 8)}
        self.assertIn("case_005.nii.gz", errors[1])
        self.assertIn("truncated", errors[1])
        self.assertEqual(errors[8], errors[1])
        proc = run(*self.calibrate_args(), "--threads", 0, "--out", WORK / "never.json", expect=2)
        self.assertIn("--threads must be from 1 to 256, got 0", proc.stderr)

    # --- Outputs that never destroy, and inputs through links. ---------------------------

    def calibrate_args(self, probs=None, labels=None, alpha=0.2):
        return ("calibrate", "--probs", probs or self.data / "probs",
                "--labels", labels or self.data / "labels", "--epsilon", 0.1, "--alpha", alpha)

    def test_outputs_to_a_fifo_stdout_a_link_and_refusals(self):
        tmp = Path(tempfile.mkdtemp(prefix="outputs-", dir=WORK))
        regular = tmp / "regular.json"
        run(*self.calibrate_args(), "--out", regular)
        certificate = regular.read_bytes()

        # A FIFO is written through, not replaced: a reader gets the same certificate.
        fifo = tmp / "cert.fifo"
        os.mkfifo(fifo)
        received = tmp / "received.json"
        with open(received, "wb") as sink:
            cat = subprocess.Popen(["cat", str(fifo)], stdout=sink)
            run(*self.calibrate_args(), "--out", fifo)
            self.assertEqual(cat.wait(timeout=60), 0)
        self.assertEqual(received.read_bytes(), certificate)
        self.assertTrue(stat.S_ISFIFO(os.lstat(fifo).st_mode), "the FIFO is still a FIFO")

        # "-" is standard output: the certificate alone, its summary on stderr.
        proc = run(*self.calibrate_args(), "--out", "-")
        self.assertEqual(proc.stdout, certificate.decode())
        self.assertIn("certificate written to -", proc.stderr)

        # A link to a regular file stays a link; its target gets the certificate.
        (tmp / "real").mkdir()
        (tmp / "real" / "cert.json").write_text("old")
        (tmp / "link.json").symlink_to("real/cert.json")
        run(*self.calibrate_args(), "--out", tmp / "link.json")
        self.assertTrue((tmp / "link.json").is_symlink())
        self.assertEqual((tmp / "real" / "cert.json").read_bytes(), certificate)
        self.assertEqual(sorted(p.name for p in (tmp / "real").iterdir()), ["cert.json"])

        # A failed run leaves an earlier output byte for byte (alpha 0.02 needs 49 cases).
        proc = run(*self.calibrate_args(alpha=0.02), "--out", regular, expect=1)
        self.assertIn("at least 49 calibration cases", proc.stderr)
        self.assertEqual(regular.read_bytes(), certificate)

        # A folder, or a link to nothing, is refused by name and left as it was.
        proc = run(*self.calibrate_args(), "--out", tmp / "real", expect=1)
        self.assertEqual(proc.stderr.strip().splitlines()[-1],
                         f"cls calibrate: error: {tmp / 'real'}: is a folder, not a file to write to")
        (tmp / "dangling.json").symlink_to("missing/cert.json")
        proc = run(*self.calibrate_args(), "--out", tmp / "dangling.json", expect=1)
        self.assertEqual(proc.stderr.strip().splitlines()[-1],
                         f"cls calibrate: error: {tmp / 'dangling.json'}: is a link to "
                         "missing/cert.json, which does not exist")
        self.assertTrue((tmp / "dangling.json").is_symlink())
        self.assertEqual(sorted(p.name for p in tmp.iterdir()),
                         ["cert.fifo", "dangling.json", "link.json", "real", "received.json",
                          "regular.json"], "no temporary file is left")

    def test_inputs_through_links(self):
        tmp = Path(tempfile.mkdtemp(prefix="links-", dir=WORK))
        direct = tmp / "direct.json"
        run(*self.calibrate_args(), "--out", direct)
        # A folder of links to files, and a link to a folder.
        (tmp / "probs").mkdir()
        for real in sorted((self.data / "probs").iterdir()):
            (tmp / "probs" / real.name).symlink_to(real)
        (tmp / "labels").symlink_to(self.data / "labels", target_is_directory=True)
        linked = tmp / "linked.json"
        run(*self.calibrate_args(tmp / "probs", tmp / "labels"), "--out", linked)
        self.assertEqual(linked.read_bytes(), direct.read_bytes())
        # A dangling link is an error naming the link and its target.
        (tmp / "probs" / "case_900.nii.gz").symlink_to(tmp / "gone" / "case_900.nii.gz")
        proc = run(*self.calibrate_args(tmp / "probs", tmp / "labels"), "--out", tmp / "x.json",
                   expect=1)
        self.assertEqual(proc.stderr.strip().splitlines()[-1],
                         f"cls calibrate: error: {tmp / 'probs' / 'case_900.nii.gz'}: is a link to "
                         f"{tmp / 'gone' / 'case_900.nii.gz'}, which does not exist")
        self.assertFalse((tmp / "x.json").exists())

    def test_real_size_bids_names_through_links(self):
        if not OPEN_MS.is_dir():
            self.skipTest(f"{OPEN_MS} is absent (the open_ms data sits in ../shared beside the repo)")
        tmp = Path(tempfile.mkdtemp(prefix="open-ms-", dir=WORK))
        probs, labels = tmp / "derivatives" / "probs", tmp / "derivatives" / "labels"
        probs.mkdir(parents=True)
        labels.mkdir(parents=True)
        patients = ("07", "19", "26")
        for p in patients:
            gold = next((OPEN_MS / f"patient{p}").glob("GOLD_STANDARD*.nii.gz"))
            (probs / f"sub-{p}_ses-01_space-MNI_label-lesion_probseg.nii.gz").symlink_to(
                OPEN_MS / "lesion_masks_MNI" / f"patient{p}_GOLD_STANDARD.nii.gz")
            (labels / f"sub-{p}_ses-01_space-MNI_desc-lesion_mask.nii.gz").symlink_to(gold)
        out = tmp / "cert.json"
        # A binary uint8 mask is a segmentation, never read as probabilities.
        proc = run(*self.calibrate_args(probs, labels, alpha=0.5), "--out", out, expect=1)
        self.assertIn("is stored as uint8 integers without scaling", proc.stderr)
        # Float maps made from the masks (a sharp but valid map), linked under the same names.
        maps = tmp / "maps"
        maps.mkdir()
        for p in patients:
            mask = nib.load(OPEN_MS / "lesion_masks_MNI" / f"patient{p}_GOLD_STANDARD.nii.gz")
            data = (np.asanyarray(mask.dataobj) != 0).astype(np.float32) * np.float32(0.75)
            nib.save(nib.Nifti1Image(data, mask.affine), str(maps / f"patient{p}.nii"))
            link = probs / f"sub-{p}_ses-01_space-MNI_label-lesion_probseg.nii.gz"
            link.unlink()
            link.with_name(link.name[: -len(".gz")]).symlink_to(maps / f"patient{p}.nii")
        proc = run(*self.calibrate_args(probs, labels, alpha=0.5), "--out", out)
        self.assertIn("of n = 3 cases", proc.stdout)
        document = json.loads(out.read_text())
        self.assertEqual(document["n"], 3)
        sha = [hashlib.sha256(next((OPEN_MS / f"patient{p}").glob("GOLD_STANDARD*")).read_bytes())
               .hexdigest() for p in patients]
        self.assertEqual([c["label_sha256"] for c in document["cases"]], sha)


if __name__ == "__main__":
    CLS, WORK = sys.argv[1], Path(sys.argv[2])
    cli_run.CLS = CLS
    unittest.main(argv=[sys.argv[0], "-v"])
