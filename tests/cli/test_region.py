"""The region of interest and the exchangeability check through the `cls` command line.

Usage: /usr/bin/python3 test_region.py PATH/TO/cls WORK_DIR

- calibrate --roi mask --roi-masks DIR: the certificate records the region; every critical
  threshold, tau and every case profile equal what numpy computes from the maps multiplied by
  the masks (tests/reference/case_score.py's restrict and profile_of, written from the
  documentation); apply's mask is numpy's p' >= tau and marks no voxel outside the region.
- apply and assess use the certificate's region and refuse another; a region without its files,
  a case without its mask, another grid, an empty mask and a bad --flag-below are refused with
  the messages tests/BAD_INPUTS.md lists.
- A case at another resolution is flagged by apply and assess with the warning line and the
  JSON fields; a case like the calibration cases is not; a certificate of format_version 3
  applies as before and says it cannot check.
"""
import json
import math
import shutil
import subprocess
import sys
import unittest
from fractions import Fraction
from pathlib import Path

import nibabel as nib
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "reference"))
import case_score  # noqa: E402  (restrict and profile_of, the independent reference)

import cli_run  # noqa: E402
from cli_run import run, last_line  # noqa: E402

CLS = ""
WORK = Path()
CASES = 24  # so that p = 1/25 = 0.04 <= 0.05 can flag a case




def load(path):
    return np.asarray(nib.load(str(path)).dataobj, dtype=np.float32)


def critical_threshold(lesion, epsilon):
    lesion = np.sort(lesion.astype(np.float32))
    j = int(Fraction(str(epsilon)) * len(lesion))
    return math.inf if j >= len(lesion) else float(lesion[j])


class Region(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = WORK / "region"
        shutil.rmtree(cls.dir, ignore_errors=True)
        cls.dir.mkdir(parents=True)
        cls.set = cls.dir / "set"
        run("synth", "--cases", CASES, "--size", 16, "--seed", 5, "--out", cls.set)
        # Brain masks: the brighter half of each head, so some lesion voxels fall outside.
        cls.masks = cls.dir / "brainmasks"
        cls.masks.mkdir()
        for image_path in sorted((cls.set / "images").glob("*.nii.gz")):
            image = nib.load(str(image_path))
            data = load(image_path)
            mask = (data > np.median(data[data != 0])).astype(np.uint8)
            name = image_path.name[:-len(".nii.gz")]
            nib.save(nib.Nifti1Image(mask, image.affine),
                     str(cls.masks / f"{name}_brainmask.nii.gz"))
        cls.certificate = cls.dir / "cert.json"
        run("calibrate", "--probs", cls.set / "probs", "--labels", cls.set / "labels",
            "--epsilon", 0.1, "--alpha", 0.2, "--roi", "mask", "--roi-masks", cls.masks,
            "--images", cls.set / "images", "--out", cls.certificate)
        cls.cert = json.loads(cls.certificate.read_text())
        # A held-out set for apply and assess.
        cls.new = cls.dir / "new"
        run("synth", "--cases", 3, "--size", 16, "--seed", 77, "--out", cls.new)
        cls.new_masks = cls.dir / "new_masks"
        cls.new_masks.mkdir()
        for image_path in sorted((cls.new / "images").glob("*.nii.gz")):
            data = load(image_path)
            mask = (data > np.median(data[data != 0])).astype(np.uint8)
            nib.save(nib.Nifti1Image(mask, nib.load(str(image_path)).affine),
                     str(cls.new_masks / image_path.name))

    def case(self, folder, masks, name):
        p = load(folder / "probs" / f"{name}.nii.gz")
        mask_file = next(masks.glob(f"{name}*"))
        return p, load(mask_file), load(folder / "images" / f"{name}.nii.gz")

    def test_the_certificate_records_the_region_and_equals_numpy(self):
        self.assertEqual(self.cert["format_version"], 4)
        self.assertEqual(self.cert["region_of_interest"], "mask")
        thresholds = []
        for entry, profile in zip(self.cert["cases"], self.cert["case_profiles"]):
            p, mask, image = self.case(self.set, self.masks, entry["name"])
            label = load(self.set / "labels" / f"{entry['name']}.nii.gz") != 0
            restricted = case_score.restrict(p, mask)
            t = critical_threshold(restricted[label], 0.1)
            self.assertEqual(entry["critical_threshold"], None if t == math.inf else t)
            thresholds.append(t)
            zooms = nib.load(str(self.set / "probs" / f"{entry['name']}.nii.gz")).header.get_zooms()
            self.assertEqual(profile, case_score.profile_of(restricted, mask, image, zooms[:3]))
        k = int(Fraction("0.2") * (len(thresholds) + 1))
        self.assertEqual(self.cert["threshold"], sorted(thresholds)[k - 1])

    def test_apply_masks_nothing_outside_the_region(self):
        name = "case_001"
        out = self.dir / "mask.nii.gz"
        report = self.dir / "apply.json"
        proc = run("apply", "--calibration", self.certificate, "--probs",
                   self.new / "probs" / f"{name}.nii.gz", "--roi-mask",
                   self.new_masks / f"{name}.nii.gz", "--image",
                   self.new / "images" / f"{name}.nii.gz", "--json", report, "--out", out)
        p, mask, _ = self.case(self.new, self.new_masks, name)
        expected = case_score.restrict(p, mask) >= self.cert["threshold"]
        got = np.asarray(nib.load(str(out)).dataobj)
        np.testing.assert_array_equal(got, expected.astype(np.uint8))
        self.assertFalse(got[mask == 0].any())
        self.assertIn("exchangeability: p = ", proc.stdout)
        result = json.loads(report.read_text())
        self.assertEqual(result["region_of_interest"], "mask")
        self.assertEqual(result["predicted_voxels"], int(expected.sum()))
        self.assertEqual(result["exchangeability"]["compared_with"], CASES)
        self.assertTrue(result["exchangeability"]["image_statistics"])

    def test_apply_and_assess_refuse_another_region_and_missing_files(self):
        name = "case_001"
        probs = self.new / "probs" / f"{name}.nii.gz"
        out = self.dir / "refused.nii.gz"
        proc = run("apply", "--calibration", self.certificate, "--probs", probs, "--roi", "none",
                   "--out", out, expect=2)
        self.assertEqual(last_line(proc.stderr),
                         f"cls apply: error: --roi none is not what {self.certificate} was "
                         f"calibrated on (mask); leave it out to use the recorded region")
        proc = run("apply", "--calibration", self.certificate, "--probs", probs, "--out", out,
                   expect=2)
        self.assertEqual(last_line(proc.stderr),
                         f"cls apply: error: what {self.certificate} was calibrated on restricted "
                         f"every map to region 'mask': --roi mask needs the region masks: give "
                         f"--roi-mask")
        partial = self.dir / "partial_masks"
        partial.mkdir(exist_ok=True)
        shutil.copy(self.new_masks / "case_001.nii.gz", partial)
        proc = run("assess", "--calibration", self.certificate, "--probs", self.new / "probs",
                   "--labels", self.new / "labels", "--roi-masks", partial, expect=1)
        self.assertEqual(last_line(proc.stderr),
                         f"cls assess: error: {partial}: holds no region mask of case "
                         f"'case_000'")
        self.assertFalse(out.exists())

    def test_bad_region_inputs(self):
        probs, labels = self.set / "probs", self.set / "labels"
        out = self.dir / "refused.json"
        proc = run("calibrate", "--probs", probs, "--labels", labels, "--epsilon", 0.1,
                   "--alpha", 0.2, "--roi", "nonzero", "--out", out, expect=2)
        self.assertEqual(last_line(proc.stderr),
                         "cls calibrate: error: --roi nonzero needs the images: give --images")
        proc = run("calibrate", "--probs", probs, "--labels", labels, "--epsilon", 0.1,
                   "--alpha", 0.2, "--roi-masks", self.masks, "--out", out, expect=2)
        self.assertEqual(last_line(proc.stderr),
                         "cls calibrate: error: --roi-masks is for --roi mask, and the region "
                         "is none")
        proc = run("calibrate", "--probs", probs, "--labels", labels, "--epsilon", 0.1,
                   "--alpha", 0.2, "--roi", "brain", "--out", out, expect=2)
        self.assertEqual(last_line(proc.stderr),
                         "cls calibrate: error: unknown region of interest 'brain' (expected "
                         "none, nonzero or mask)")
        # A mask on another grid, and an empty one.
        bad = self.dir / "bad_masks"
        shutil.copytree(self.masks, bad)
        affine = nib.load(str(bad / "case_003_brainmask.nii.gz")).affine
        nib.save(nib.Nifti1Image(np.ones((8, 8, 8), np.uint8), affine),
                 str(bad / "case_003_brainmask.nii.gz"))
        proc = run("calibrate", "--probs", probs, "--labels", labels, "--epsilon", 0.1,
                   "--alpha", 0.2, "--roi", "mask", "--roi-masks", bad, "--out", out, expect=1)
        self.assertEqual(last_line(proc.stderr),
                         f"cls calibrate: error: {probs}/case_003.nii.gz: is 16x16x16 but its "
                         f"region {bad}/case_003_brainmask.nii.gz is 8x8x8")
        nib.save(nib.Nifti1Image(np.zeros((16, 16, 16), np.uint8), affine),
                 str(bad / "case_003_brainmask.nii.gz"))
        proc = run("calibrate", "--probs", probs, "--labels", labels, "--epsilon", 0.1,
                   "--alpha", 0.2, "--roi", "mask", "--roi-masks", bad, "--out", out, expect=1)
        self.assertEqual(last_line(proc.stderr),
                         f"cls calibrate: error: {probs}/case_003.nii.gz: its region "
                         f"{bad}/case_003_brainmask.nii.gz is empty (every voxel is 0 or NaN), so "
                         f"nothing could be predicted")
        proc = run("assess", "--calibration", self.certificate, "--probs", self.new / "probs",
                   "--labels", self.new / "labels", "--roi-masks", self.new_masks,
                   "--flag-below", 1.5, expect=2)
        self.assertEqual(last_line(proc.stderr),
                         "cls assess: error: --flag-below: the flag level must be in (0, 1), "
                         "got 1.5")
        self.assertFalse(out.exists())

    def test_a_case_at_another_resolution_is_flagged(self):
        # The held-out cases' files, case_002 saved with 2 mm voxels (same voxels, new affine).
        shifted = self.dir / "shifted"
        for kind in ("probs", "labels", "images"):
            shutil.copytree(self.new / kind, shifted / kind)
        shutil.copytree(self.new_masks, shifted / "masks")
        for kind in ("probs", "labels", "images", "masks"):
            path = shifted / kind / "case_002.nii.gz"
            image = nib.load(str(path))
            affine = image.affine.copy()
            affine[:3, :3] *= 2
            nib.save(nib.Nifti1Image(np.asarray(image.dataobj), affine), str(path))
        proc = run("apply", "--calibration", self.certificate, "--probs",
                   shifted / "probs" / "case_002.nii.gz", "--roi-mask",
                   shifted / "masks" / "case_002.nii.gz", "--out", self.dir / "m.nii.gz")
        self.assertEqual(last_line(proc.stderr),
                         f"cls apply: warning: {shifted}/probs/case_002.nii.gz: unlike the "
                         f"calibration set (p = 0.04): the guarantee may not hold for it")
        self.assertIn("furthest: log10_voxel_mm3", proc.stdout)
        report = self.dir / "assess.json"
        proc = run("assess", "--calibration", self.certificate, "--probs", shifted / "probs",
                   "--labels", shifted / "labels", "--roi-masks", shifted / "masks",
                   "--images", shifted / "images", "--json", report)
        self.assertIn("case_002: unlike the calibration set (p = 0.04): the guarantee may not "
                      "hold for it", proc.stdout)
        cases = json.loads(report.read_text())["cases"]
        flags = {c["calibrated"]["name"]: c["exchangeability"]["flagged"] for c in cases}
        self.assertEqual(flags, {"case_000": False, "case_001": False, "case_002": True})
        self.assertEqual(json.loads(report.read_text())["unlike_cases"], 1)

    def test_a_certificate_without_profiles_applies_and_says_it_cannot_check(self):
        plain = self.dir / "plain.json"
        run("calibrate", "--probs", self.set / "probs", "--labels", self.set / "labels",
            "--epsilon", 0.1, "--alpha", 0.2, "--out", plain)
        old = json.loads(plain.read_text())
        self.assertEqual(old["region_of_interest"], "none")
        del old["region_of_interest"], old["case_profiles"]
        old["format_version"] = 3
        version_3 = self.dir / "version_3.json"
        version_3.write_text(json.dumps(old))
        probs = self.new / "probs" / "case_001.nii.gz"
        proc = run("apply", "--calibration", version_3, "--probs", probs,
                   "--out", self.dir / "m3.nii.gz")
        self.assertIn(f"exchangeability: not checked ({version_3} records no case profiles",
                      proc.stdout)
        p = load(probs)
        np.testing.assert_array_equal(np.asarray(nib.load(str(self.dir / "m3.nii.gz")).dataobj),
                                      (p >= old["threshold"]).astype(np.uint8))


if __name__ == "__main__":
    CLS = cli_run.CLS = sys.argv[1]
    WORK = Path(sys.argv[2])
    unittest.main(argv=sys.argv[:1], verbosity=2)
