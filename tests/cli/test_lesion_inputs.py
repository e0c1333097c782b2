"""Real pipelines' files through the `cls` command line: multi-channel probability maps (MONAI's
(x, y, z, C), ITK's (x, y, z, 1, C)), multi-class labels (BraTS 0/1/2/4, float32), and the
per-command --help. Fixtures are written by nibabel; every expected threshold is recomputed here
with numpy from the definitions, never copied from the tool.

Usage: /usr/bin/python3 test_lesion_inputs.py PATH/TO/cls WORK_DIR [SHARED_DATA_DIR]

The real-size test builds 4-class softmax maps and BraTS-style labels from the real consensus
lesion masks of ../shared/data/open_ms (Lesjak et al., Neuroinformatics 2017, CC-BY); it is
skipped, saying so, when that folder is absent.
"""
import hashlib
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
import scipy.ndimage
from nibabel.orientations import io_orientation

import cli_run
from cli_run import run, last_line

CLS = ""
WORK = Path()
SHARED = Path()




def critical_threshold(lesion, epsilon):
    """(floor(epsilon*m)+1)-th smallest lesion probability; inf when there is none."""
    lesion = np.sort(lesion.astype(np.float32))
    j = int(Fraction(str(epsilon)) * len(lesion))
    return math.inf if j >= len(lesion) else float(lesion[j])


def cls_threshold(cases, epsilon, alpha):
    """tau = the k-th smallest critical threshold, k = floor((n+1) alpha)."""
    t = sorted(critical_threshold(p[lesion], epsilon) for p, lesion in cases)
    k = int(Fraction(str(alpha)) * (len(t) + 1))
    return t[k - 1]


def lesion_sum(four):
    """The map the tool makes of channels 1+2+3: float32 sums, left to right, and sums within
    1e-4 above 1 read as 1 (float rounding of a softmax)."""
    combined = (four[..., 1] + four[..., 2]) + four[..., 3]
    return np.where((combined > 1) & (combined <= 1 + 1e-4), np.float32(1), combined)


def save(data, path, affine):
    nib.save(nib.Nifti1Image(data, affine), str(path))


def certificate_threshold(path):
    value = json.loads(Path(path).read_text())["threshold"]
    return math.inf if value is None else value


class LesionInputs(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = WORK / "lesion_inputs"
        shutil.rmtree(cls.dir, ignore_errors=True)
        cls.dir.mkdir(parents=True)
        cls.set = cls.dir / "set"
        run("synth", "--cases", 12, "--size", 12, "--seed", 5, "--out", cls.set)
        cls.cases = {}
        for path in sorted((cls.set / "probs").glob("*.nii.gz")):
            name = path.name[: -len(".nii.gz")]
            p = np.asanyarray(nib.load(path).dataobj).astype(np.float32)
            label = np.asanyarray(nib.load(cls.set / "labels" / path.name).dataobj) != 0
            cls.cases[name] = (p, label, nib.load(path).affine)
        rng = np.random.default_rng(7)
        # Per case: a 4-class softmax whose lesion classes 1..3 split p, and a BraTS-style label
        # (lesion voxels 1, 2 or 4; 3 marks non-lesion tissue) stored as float32.
        cls.split = {name: rng.dirichlet([1, 1, 1], size=p.shape).astype(np.float32)
                     for name, (p, _, _) in cls.cases.items()}
        for folder in ("two", "itk", "four", "sigmoid", "brats", "combined"):
            (cls.dir / folder).mkdir()
        for name, (p, label, affine) in cls.cases.items():
            two = np.stack([1 - p, p], axis=-1).astype(np.float32)
            save(two, cls.dir / "two" / f"{name}.nii.gz", affine)
            save(two[:, :, :, None, :], cls.dir / "itk" / f"{name}.nii.gz", affine)
            s = cls.split[name]
            lesion_classes = p[..., None] * s
            four = np.concatenate([(1 - p)[..., None], lesion_classes], axis=-1).astype(np.float32)
            save(four, cls.dir / "four" / f"{name}.nii", affine)
            combined = lesion_sum(four)
            save(combined.astype(np.float32), cls.dir / "combined" / f"{name}.nii", affine)
            sigmoid = np.stack([p, np.clip(p + 0.3, 0, 1)], axis=-1).astype(np.float32)
            save(sigmoid, cls.dir / "sigmoid" / f"{name}.nii.gz", affine)
            brats = np.zeros(p.shape, np.float32)
            brats[~label] = np.where(rng.random((~label).sum()) < 0.05, 3, 0)
            brats[label] = rng.choice([1, 2, 4], size=label.sum())
            save(brats, cls.dir / "brats" / f"{name}.nii.gz", affine)

    def calibrate(self, probs, labels, *extra, out, expect=0):
        return run("calibrate", "--probs", probs, "--labels", labels, "--epsilon", 0.2,
                   "--alpha", 0.2, *extra, "--out", out, expect=expect)

    def test_a_softmax_map_is_refused_until_its_lesion_channel_is_named(self):
        first = sorted(self.cases)[0]
        proc = self.calibrate(self.dir / "two", self.set / "labels", out=self.dir / "no.json",
                              expect=1)
        self.assertEqual(
            last_line(proc.stderr),
            f"cls calibrate: error: {self.dir / 'two' / (first + '.nii.gz')}: holds 2 probability "
            "channels (along its 4th dimension); say which are lesion with --lesion-channels "
            "(counted from 0, e.g. --lesion-channels 1 for a two-class softmax) or the app's "
            "channel picker")
        self.assertFalse((self.dir / "no.json").exists())

        expected = cls_threshold([(p, l) for p, l, _ in self.cases.values()], 0.2, 0.2)
        plain = self.dir / "plain.json"
        self.calibrate(self.set / "probs", self.set / "labels", out=plain)
        for folder in ("two", "itk"):  # (x, y, z, 2) and ITK's (x, y, z, 1, 2)
            out = self.dir / f"{folder}.json"
            self.calibrate(self.dir / folder, self.set / "labels", "--lesion-channels", 1, out=out)
            self.assertEqual(certificate_threshold(out), expected, folder)
            self.assertEqual(certificate_threshold(out), certificate_threshold(plain))
            recorded = json.loads(out.read_text())
            self.assertEqual(recorded["lesion_channels"], {"channels": [1], "combine": "sum"})
            self.assertEqual(recorded["lesion_labels"], "binary")
            self.assertEqual(recorded["format_version"], 4)

    def test_softmax_classes_summed(self):
        cases = []
        for name, (p, label, _) in self.cases.items():
            combined = np.asanyarray(nib.load(self.dir / "combined" / f"{name}.nii").dataobj)
            cases.append((combined, label))
        out = self.dir / "four.json"
        self.calibrate(self.dir / "four", self.set / "labels", "--lesion-channels", "1,2,3",
                       out=out)
        self.assertEqual(certificate_threshold(out), cls_threshold(cases, 0.2, 0.2))
        # The same as calibrating on the 3D map numpy made of the three channels.
        reference = self.dir / "combined.json"
        self.calibrate(self.dir / "combined", self.set / "labels", out=reference)
        self.assertEqual(certificate_threshold(out), certificate_threshold(reference))

    def test_independent_sigmoids_need_max(self):
        proc = self.calibrate(self.dir / "sigmoid", self.set / "labels", "--lesion-channels",
                              "0,1", out=self.dir / "sum.json", expect=1)
        # The first case (in name order) whose two channels sum above 1 + 1e-4 somewhere.
        overs = {name: int(((p + np.clip(p + 0.3, 0, 1)).astype(np.float32) > 1 + 1e-4).sum())
                 for name, (p, _, _) in self.cases.items()}
        first = next(name for name in sorted(overs) if overs[name] > 0)
        over = overs[first]
        self.assertEqual(
            last_line(proc.stderr),
            f"cls calibrate: error: {self.dir / 'sigmoid' / (first + '.nii.gz')}: channels 0+1 sum "
            f"to more than 1 (by over 1e-4) at {over} voxels, so they are not classes of one "
            "softmax; use --combine max (independent sigmoid channels) or a single channel")
        out = self.dir / "max.json"
        self.calibrate(self.dir / "sigmoid", self.set / "labels", "--lesion-channels", "0,1",
                       "--combine", "max", out=out)
        cases = [(np.maximum(p, np.clip(p + 0.3, 0, 1)).astype(np.float32), l)
                 for p, l, _ in self.cases.values()]
        self.assertEqual(certificate_threshold(out), cls_threshold(cases, 0.2, 0.2))
        self.assertEqual(json.loads(out.read_text())["lesion_channels"],
                         {"channels": [0, 1], "combine": "max"})

    def test_apply_and_assess_read_maps_as_the_certificate_says(self):
        certificate = self.dir / "apply.json"
        self.calibrate(self.dir / "two", self.set / "labels", "--lesion-channels", 1,
                       out=certificate)
        tau = certificate_threshold(certificate)
        name = sorted(self.cases)[-1]
        mask = self.dir / "mask.nii.gz"
        run("apply", "--calibration", certificate, "--probs",
            self.dir / "two" / f"{name}.nii.gz", "--out", mask)
        p = self.cases[name][0]
        np.testing.assert_array_equal(np.asanyarray(nib.load(mask).dataobj), (p >= tau))
        proc = run("apply", "--calibration", certificate, "--probs",
                   self.dir / "two" / f"{name}.nii.gz", "--lesion-channels", 0, "--out", mask,
                   expect=2)
        self.assertEqual(last_line(proc.stderr),
                         f"cls apply: error: --lesion-channels 0 (sum) is not what {certificate} "
                         "was calibrated on (channels 1, sum); leave it out to use the "
                         "certificate's")
        # A single-channel certificate does not read a two-channel map.
        plain = self.dir / "plain_apply.json"
        self.calibrate(self.set / "probs", self.set / "labels", out=plain)
        proc = run("apply", "--calibration", plain, "--probs", self.dir / "two" / f"{name}.nii.gz",
                   "--out", mask, expect=1)
        self.assertIn("holds 2 probability channels", proc.stderr)
        # assess reads the held-out maps with the certificate's channels.
        report = self.dir / "assess.json"
        proc = run("assess", "--calibration", certificate, "--probs", self.dir / "two",
                   "--labels", self.set / "labels", "--json", report, expect=1)
        self.assertIn("calibrated on", proc.stderr)  # the same files: refused, as ever

    def test_multi_class_labels(self):
        # The first label (in name order) with more than one non-zero value.
        def classes(name):
            label = np.asanyarray(nib.load(self.dir / "brats" / f"{name}.nii.gz").dataobj)
            return np.unique(label[label != 0])
        first = next(name for name in sorted(self.cases) if len(classes(name)) > 1)
        proc = self.calibrate(self.set / "probs", self.dir / "brats", out=self.dir / "x.json",
                              expect=1)
        self.assertEqual(
            last_line(proc.stderr),
            f"cls calibrate: error: {self.dir / 'brats' / (first + '.nii.gz')}: label is not "
            "binary: besides 0 it holds the values 1, 2, 3, 4; say which are lesion with "
            "--lesion-labels (e.g. --lesion-labels 1,2,4, or nonzero) or the app's "
            "lesion-labels setting")
        expected = cls_threshold([(p, l) for p, l, _ in self.cases.values()], 0.2, 0.2)
        out = self.dir / "brats.json"
        self.calibrate(self.set / "probs", self.dir / "brats", "--lesion-labels", "1,2,4",
                       out=out)
        self.assertEqual(certificate_threshold(out), expected)
        self.assertEqual(json.loads(out.read_text())["lesion_labels"], [1, 2, 4])
        # "nonzero" counts the 3s too: a different, larger lesion set.
        nonzero = self.dir / "nonzero.json"
        self.calibrate(self.set / "probs", self.dir / "brats", "--lesion-labels", "nonzero",
                       out=nonzero)
        cases = []
        for name, (p, _, _) in self.cases.items():
            brats = np.asanyarray(nib.load(self.dir / "brats" / f"{name}.nii.gz").dataobj)
            cases.append((p, brats != 0))
        self.assertEqual(certificate_threshold(nonzero), cls_threshold(cases, 0.2, 0.2))
        self.assertEqual(json.loads(nonzero.read_text())["lesion_labels"], "nonzero")

    def test_interpolated_labels_are_refused(self):
        folder = self.dir / "soft"
        folder.mkdir(exist_ok=True)
        for name, (_, label, affine) in self.cases.items():
            soft = label.astype(np.float32)
            soft[0, 0, 0] = 0.5  # one voxel as linear interpolation leaves it
            save(soft.astype(np.float32), folder / f"{name}.nii.gz", affine)
        first = sorted(self.cases)[0]
        proc = self.calibrate(self.set / "probs", folder, "--lesion-labels", "1",
                              out=self.dir / "soft.json", expect=1)
        self.assertEqual(
            last_line(proc.stderr),
            f"cls calibrate: error: {folder / (first + '.nii.gz')}: label has 1 value that is "
            "not a whole number (e.g. 0.5), so its classes cannot be read; was it resampled with "
            "interpolation? Resample labels with nearest neighbour")

    def test_evaluate_takes_the_same_options(self):
        out = self.dir / "evaluate.json"
        run("evaluate", "--probs", self.dir / "four", "--labels", self.dir / "brats",
            "--lesion-channels", "1,2,3", "--lesion-labels", "1,2,4", "--epsilon", 0.2,
            "--alpha", 0.2, "--splits", 5, "--json", out)
        reference = self.dir / "evaluate_reference.json"
        run("evaluate", "--probs", self.dir / "combined", "--labels", self.set / "labels",
            "--epsilon", 0.2, "--alpha", 0.2, "--splits", 5, "--json", reference)
        self.assertEqual(json.loads(out.read_text())["methods"],
                         json.loads(reference.read_text())["methods"])

    def test_bad_options(self):
        for words, message in [
            (["--lesion-channels", "1,x"], "--lesion-channels '1,x': 'x' is not a whole number >= 0"),
            (["--lesion-channels", "1", "--combine", "mean"],
             "--combine must be sum or max, got 'mean'"),
            (["--combine", "max"],
             "--combine needs --lesion-channels: it says how the lesion channels combine"),
            (["--lesion-labels", "0,1"], "--lesion-labels '0,1': 0 is background, not a lesion class"),
        ]:
            proc = self.calibrate(self.set / "probs", self.set / "labels", *words,
                                  out=self.dir / "bad.json", expect=2)
            self.assertEqual(last_line(proc.stderr), f"cls calibrate: error: {message}")
        proc = self.calibrate(self.dir / "two", self.set / "labels", "--lesion-channels", 2,
                              out=self.dir / "bad.json", expect=1)
        self.assertIn("has 2 probability channels (0 to 1) but --lesion-channels names channel 2",
                      proc.stderr)

    def test_every_command_explains_itself(self):
        for command in ("info", "synth", "calibrate", "apply", "assess", "evaluate"):
            proc = run(command, "--help")
            self.assertIn(f"Usage: cls {command}", proc.stdout)
            self.assertIn("Example:\n  cls " + command, proc.stdout)
            self.assertIn("-h,--help", proc.stdout)
        self.assertIn("--lesion-channels LIST", run("calibrate", "-h").stdout)
        proc = run("calibrate", "--epsilonn", 0.1, expect=2)
        self.assertEqual(last_line(proc.stderr), "cls calibrate: error: unknown option --epsilonn")
        proc = run("apply", "--calibration", expect=2)
        self.assertEqual(last_line(proc.stderr),
                         "cls apply: error: option --calibration needs a value")


def sha256_of(path):
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


class NnunetPredictions(unittest.TestCase):
    """An nnU-Net v2 predictions folder as `nnUNetv2_predict --save_probabilities` leaves it:
    <case>.npz (class probabilities, (C, z, y, x), np.savez_compressed as nnU-Net calls it),
    its hard segmentation <case>.nii.gz, <case>.pkl and the run's JSON files."""

    @classmethod
    def setUpClass(cls):
        cls.dir = WORK / "nnunet_inputs"
        shutil.rmtree(cls.dir, ignore_errors=True)
        cls.set = cls.dir / "set"
        cls.predictions = cls.dir / "predictions"
        cls.segmentations = cls.dir / "segmentations"
        for folder in (cls.predictions, cls.segmentations):
            folder.mkdir(parents=True)
        run("synth", "--cases", 10, "--size", 12, "--seed", 11, "--out", cls.set)
        rng = np.random.default_rng(12)
        cls.cases = {}  # name -> (lesion probability as the tool must combine it, label)
        for path in sorted((cls.set / "probs").glob("*.nii.gz")):
            name = path.name[: -len(".nii.gz")]
            p = np.asanyarray(nib.load(path).dataobj).astype(np.float32)
            label = np.asanyarray(nib.load(cls.set / "labels" / path.name).dataobj) != 0
            share = rng.random(p.shape).astype(np.float32)
            classes = np.stack([1 - p, p * share, p * (1 - share)]).astype(np.float32)  # (C,x,y,z)
            # nnU-Net's array is (C, z, y, x) with x the NIfTI file's first axis.
            np.savez_compressed(str(cls.predictions / name) + ".npz",
                                probabilities=classes.transpose(0, 3, 2, 1))
            segmentation = classes.argmax(axis=0).astype(np.uint8)
            save(segmentation, cls.predictions / f"{name}.nii.gz", nib.load(path).affine)
            save(segmentation, cls.segmentations / f"{name}.nii.gz", nib.load(path).affine)
            (cls.predictions / f"{name}.pkl").write_bytes(b"\x80\x04not for us")
            combined = classes[1] + classes[2]
            combined = np.where((combined > 1) & (combined <= 1 + 1e-4), np.float32(1), combined)
            cls.cases[name] = (combined, label)
        (cls.predictions / "plans.json").write_text("{}")

    def calibrate(self, *extra, probs=None, labels=None, out, expect=0):
        return run("calibrate", "--probs", probs or self.predictions, "--labels",
                   labels or self.set / "labels", "--epsilon", 0.2, "--alpha", 0.2, *extra,
                   "--out", out, expect=expect)

    def test_the_npz_probabilities_are_read_and_the_segmentations_set_aside(self):
        out = self.dir / "nnunet.json"
        proc = self.calibrate("--lesion-channels", "1,2", out=out)
        self.assertEqual(certificate_threshold(out),
                         cls_threshold(list(self.cases.values()), 0.2, 0.2))
        self.assertIn(f"cls: note: 10 file(s) in {self.predictions} set aside as nnU-Net's "
                      "segmentations beside their .npz probabilities, which are read instead "
                      f"({sorted(self.cases)[0]}.nii.gz, ...)", proc.stderr)
        certificate = json.loads(out.read_text())
        first = sorted(self.cases)[0]
        self.assertEqual(certificate["cases"][0]["probabilities_sha256"],
                         sha256_of(self.predictions / f"{first}.npz"))

    def test_the_classes_must_be_named(self):
        proc = self.calibrate(out=self.dir / "never.json", expect=1)
        first = sorted(self.cases)[0]
        self.assertEqual(
            last_line(proc.stderr),
            f"cls calibrate: error: {self.predictions / (first + '.npz')}: holds 3 probability "
            "channels (nnU-Net's classes); say which are lesion with --lesion-channels (counted "
            "from 0, e.g. --lesion-channels 1 for a two-class softmax) or the app's channel "
            "picker")

    def test_a_segmentation_is_never_read_as_probabilities(self):
        proc = self.calibrate(probs=self.segmentations, out=self.dir / "never.json", expect=1)
        first = sorted(self.cases)[0]
        self.assertEqual(
            last_line(proc.stderr),
            f"cls calibrate: error: {self.segmentations / (first + '.nii.gz')}: is stored as "
            "uint8 integers without scaling, so as a probability map it could hold only 0 and 1: "
            "it is a segmentation, and calibrating on it would certify nothing; give the "
            "network's probabilities (nnU-Net writes them as <case>.npz with "
            "--save_probabilities; MONAI as its softmax or sigmoid output in float; whole "
            "numbers that stand for probabilities need their scale in scl_slope, e.g. 1/255)")

    def test_apply_takes_its_grid_from_the_reference(self):
        certificate = self.dir / "apply.json"
        self.calibrate("--lesion-channels", "1,2", out=certificate)
        tau = certificate_threshold(certificate)
        name = sorted(self.cases)[-1]
        npz = self.predictions / f"{name}.npz"
        mask = self.dir / "mask.nii.gz"
        proc = run("apply", "--calibration", certificate, "--probs", npz, "--out", mask,
                   expect=1)
        self.assertEqual(last_line(proc.stderr),
                         f"cls apply: error: {npz}: is nnU-Net's probabilities, which hold no "
                         "grid or affine; give the case's image or label as well (--reference "
                         "for cls apply)")
        reference = self.set / "images" / f"{name}.nii.gz"
        run("apply", "--calibration", certificate, "--probs", npz, "--reference", reference,
            "--out", mask)
        written = nib.load(mask)
        np.testing.assert_array_equal(np.asanyarray(written.dataobj), self.cases[name][0] >= tau)
        np.testing.assert_allclose(written.affine, nib.load(reference).affine, atol=1e-5)
        # The reference's grid must be the array's.
        small = self.dir / "small.nii.gz"
        save(np.zeros((4, 4, 4), np.float32), small, np.eye(4))
        proc = run("apply", "--calibration", certificate, "--probs", npz, "--reference", small,
                   "--out", mask, expect=1)
        self.assertIn("probabilities are 3x12x12x12 (classes, z, y, x as nnU-Net saves them) "
                      "but the reference grid is 4x4x4", proc.stderr)

    def test_arrays_on_the_ras_grid_are_turned_back_as_the_plans_say(self):
        """A model planned with NibabelIOWithReorient saves each case's probabilities on the
        image's RAS-reoriented grid (nibabel's as_reoriented(io_orientation(affine))); the
        plans.json beside them names that reader. Here the cases are stored LPS, so the arrays
        are flipped in i and j: same shape, other voxels."""
        root = self.dir / "reoriented"
        shutil.rmtree(root, ignore_errors=True)
        (root / "predictions").mkdir(parents=True)
        (root / "labels").mkdir()
        lps = np.diag([-1.2, -1.2, 2.0, 1.0])
        cases = []
        for name, (p, label) in sorted(self.cases.items()):
            save(label.astype(np.uint8), root / "labels" / f"{name}.nii.gz", lps)
            classes = []
            for channel in (1 - p, p):
                image = nib.Nifti1Image(channel.astype(np.float32), lps)
                reoriented = image.as_reoriented(io_orientation(image.affine))
                classes.append(reoriented.get_fdata().astype(np.float32).transpose((2, 1, 0)))
            np.savez_compressed(str(root / "predictions" / name) + ".npz",
                                probabilities=np.stack(classes))
            cases.append((p, label))
        (root / "predictions" / "plans.json").write_text(json.dumps(
            {"plans_name": "nnUNetPlans", "image_reader_writer": "NibabelIOWithReorient"}))
        out = self.dir / "reoriented.json"
        planned = dict(probs=root / "predictions", labels=root / "labels")
        self.calibrate("--lesion-channels", "1", **planned, out=out)
        certificate = json.loads(out.read_text())
        self.assertEqual(certificate_threshold(out), cls_threshold(cases, 0.2, 0.2))
        self.assertEqual([c["critical_threshold"] for c in certificate["cases"]],
                         [critical_threshold(p[label], 0.2) for p, label in cases])
        # Moved away from its plans, an array is read on the file's grid: mirrored here.
        (root / "predictions" / "plans.json").unlink()
        unplanned = self.dir / "unplanned.json"
        self.calibrate("--lesion-channels", "1", **planned, out=unplanned)
        self.assertNotEqual([c["critical_threshold"] for c in
                             json.loads(unplanned.read_text())["cases"]],
                            [c["critical_threshold"] for c in certificate["cases"]])
        (root / "predictions" / "plans.json").write_text("not JSON")
        proc = self.calibrate("--lesion-channels", "1", **planned, out=self.dir / "never.json",
                              expect=1)
        self.assertEqual(last_line(proc.stderr),
                         f"cls calibrate: error: {root / 'predictions' / 'plans.json'}: is not "
                         "nnU-Net's plans.json: not a JSON object")

    def test_assess_and_evaluate_read_the_folder_too(self):
        certificate = self.dir / "assess.json"
        self.calibrate("--lesion-channels", "1,2", out=certificate)
        proc = run("assess", "--calibration", certificate, "--probs", self.predictions,
                   "--labels", self.set / "labels", "--json", self.dir / "a.json", expect=1)
        self.assertIn("calibrated on", proc.stderr)  # the same files: refused, as ever
        run("evaluate", "--probs", self.predictions, "--labels", self.set / "labels",
            "--lesion-channels", "1,2", "--epsilon", 0.2, "--alpha", 0.2, "--splits", 3,
            "--json", self.dir / "evaluate.json")


class RealSize(unittest.TestCase):
    """4-class softmax maps and BraTS-style labels at 182x218x182 made from real MS lesions."""

    def test_real_lesion_masks(self):
        masks = sorted((SHARED / "lesion_masks_MNI").glob("*_GOLD_STANDARD.nii.gz"))[:6]
        if len(masks) < 6:
            self.skipTest(f"real lesion masks not found under {SHARED} (../shared/data/open_ms)")
        root = WORK / "lesion_inputs_real"
        shutil.rmtree(root, ignore_errors=True)
        (root / "probs").mkdir(parents=True)
        (root / "labels").mkdir()
        rng = np.random.default_rng(3)
        cases = []
        for path in masks:
            image = nib.load(path)
            lesion = np.asanyarray(image.dataobj) > 0
            # A blurred, noisy lesion probability; the three lesion classes split it by depth.
            p = scipy.ndimage.gaussian_filter(lesion.astype(np.float32), 1.5)
            p = np.clip(p * 1.6 + rng.normal(0, 0.02, p.shape), 0, 1).astype(np.float32)
            z = np.linspace(0, 1, p.shape[2], dtype=np.float32)[None, None, :]
            shares = np.stack([np.broadcast_to(z, p.shape), np.broadcast_to(1 - z, p.shape),
                               np.full(p.shape, 0.5, np.float32)], axis=-1)
            shares /= shares.sum(axis=-1, keepdims=True)
            four = np.concatenate([(1 - p)[..., None], p[..., None] * shares], axis=-1)
            four = four.astype(np.float32)
            name = path.name.split("_")[0]
            suffix = ".nii.gz" if name == "patient01" else ".nii"  # one through gzip
            save(four, root / "probs" / f"{name}{suffix}", image.affine)
            label = np.zeros(p.shape, np.float32)
            label[lesion] = np.where(np.broadcast_to(z, p.shape)[lesion] < 0.5, 1, 4)
            save(label, root / "labels" / f"{name}{suffix}", image.affine)
            combined = lesion_sum(four)
            cases.append((combined, lesion))
        out = root / "cert.json"
        run("calibrate", "--probs", root / "probs", "--labels", root / "labels", "--epsilon", 0.3,
            "--alpha", 0.3, "--lesion-channels", "1,2,3", "--lesion-labels", "1,4", "--out", out)
        certificate = json.loads(out.read_text())
        self.assertEqual(certificate_threshold(out), cls_threshold(cases, 0.3, 0.3))
        for recorded, (combined, lesion) in zip(certificate["cases"], cases):
            self.assertEqual(recorded["lesion_voxels"], int(lesion.sum()))
            self.assertEqual(recorded["critical_threshold"],
                             critical_threshold(combined[lesion], 0.3))
        shutil.rmtree(root)


if __name__ == "__main__":
    CLS = cli_run.CLS = sys.argv[1]
    WORK = Path(sys.argv[2])
    SHARED = Path(sys.argv[3]) if len(sys.argv) > 3 else Path()
    unittest.main(argv=sys.argv[:1], verbosity=2)
