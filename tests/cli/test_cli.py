"""End-to-end contract of the `cls` command-line tool, checked against nibabel and numpy.

Usage: /usr/bin/python3 test_cli.py PATH/TO/cls WORK_DIR

Expectations are computed here from the files themselves (nibabel for reading, numpy for
the definitions), never copied from the tool's output.
"""
import gzip
import hashlib
import json
import math
import shutil
import subprocess
import sys
import unittest
from pathlib import Path

import nibabel as nib
import numpy as np

CLS = ""
WORK = Path()


def run(*args, expect=0):
    proc = subprocess.run([CLS, *map(str, args)], capture_output=True, text=True)
    if proc.returncode != expect:
        raise AssertionError(f"cls {' '.join(map(str, args))} exited {proc.returncode}, "
                             f"expected {expect}\nstdout: {proc.stdout}\nstderr: {proc.stderr}")
    return proc


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
        self.assertEqual(cert["empty_masks"], sum(1 for _, l in cases.values() if not l.any()))
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
        self.assertEqual(cert["n"], 24 - cert["empty_masks"])

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
        self.assertIn("case_002: probability map has 3 NaN or infinite values", proc.stderr)

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


if __name__ == "__main__":
    CLS, WORK = sys.argv[1], Path(sys.argv[2])
    unittest.main(argv=[sys.argv[0], "-v"])
