"""Calibration as map and reduce through the `cls` command line: `cls score` per case (the map),
then `cls calibrate --scores` and `cls evaluate --scores` (the reduce).

Usage: /usr/bin/python3 test_scores.py PATH/TO/cls WORK_DIR

- Every score file equals, byte for byte, what the independent reference writer
  (tests/reference/case_score.py: numpy, scipy's 26-connected components, hashlib) makes of the
  same NIfTI files, which pins the documented format (docs/case_score.md).
- The certificate from scores equals the one from the volumes byte for byte (same tau, hashes,
  case list) for cls, cls with empty masks excluded, crc and fixed, and for 4D softmax maps
  with --lesion-channels and multi-class labels with --lesion-labels; evaluate's JSON and CSV
  are equal too.
- Damaged, foreign or inconsistent scores are refused with the messages tests/BAD_INPUTS.md
  lists, naming the file.
"""
import hashlib
import json
import shutil
import struct
import subprocess
import sys
import unittest
from pathlib import Path

import nibabel as nib
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "reference"))
import case_score  # noqa: E402  (the independent reference writer)

import cli_run  # noqa: E402
from cli_run import run, last_line  # noqa: E402

CLS = ""
WORK = Path()




def sha256(path):
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def score_all(probs, labels, out, *lesion_options, images=None):
    out.mkdir(parents=True, exist_ok=True)
    for label in sorted(labels.glob("*.nii.gz")):
        name = label.name[:-len(".nii.gz")]
        image = ["--image", images / label.name] if images else []
        run("score", "--probs", probs / label.name, "--labels", label, *lesion_options, *image,
            "--out", out / f"{name}.score")


def header(path):
    data = Path(path).read_bytes()
    length = struct.unpack_from("<I", data, 8)[0]
    return json.loads(data[12:12 + length]), 12 + length


class Scores(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = WORK / "scores"
        shutil.rmtree(cls.dir, ignore_errors=True)
        cls.dir.mkdir(parents=True)
        cls.set = cls.dir / "set"
        run("synth", "--cases", 12, "--size", 12, "--seed", 3, "--out", cls.set)
        # One case without lesion, for the empty-mask policies.
        empty = cls.set / "labels" / "case_004.nii.gz"
        image = nib.load(str(empty))
        nib.save(nib.Nifti1Image(np.zeros(image.shape, np.uint8), image.affine), str(empty))
        cls.scores = cls.dir / "scores"
        score_all(cls.set / "probs", cls.set / "labels", cls.scores)
        # Restricted to each image's non-zero voxels, with the images' statistics.
        cls.region_scores = cls.dir / "region_scores"
        score_all(cls.set / "probs", cls.set / "labels", cls.region_scores, "--roi", "nonzero",
                  images=cls.set / "images")
        cls.version = run("--version").stdout.split()[1]

    def calibrate(self, *words):
        out = self.dir / "certificate.json"
        run("calibrate", *words, "--epsilon", 0.2, "--alpha", 0.2, "--out", out)
        return out.read_bytes()

    def test_each_score_equals_the_reference_writers_bytes(self):
        for label in sorted((self.set / "labels").glob("*.nii.gz")):
            name = label.name[:-len(".nii.gz")]
            probs = self.set / "probs" / label.name
            map_file = nib.load(str(probs))
            p = np.asarray(map_file.dataobj, dtype=np.float32)
            zooms = map_file.header.get_zooms()[:3]
            label_data = np.asarray(nib.load(str(label)).dataobj)
            expected = case_score.case_score_bytes(
                name, p, label_data, sha256(probs), sha256(label), self.version,
                profile=case_score.profile_of(p, None, None, zooms))
            self.assertEqual((self.scores / f"{name}.score").read_bytes(), expected, name)
            # With the image's non-zero voxels as the region: the map restricted, the image's
            # percentiles in the profile.
            image = np.asarray(nib.load(str(self.set / "images" / label.name)).dataobj,
                               dtype=np.float32)
            restricted = case_score.restrict(p, image)
            expected = case_score.case_score_bytes(
                name, restricted, label_data, sha256(probs), sha256(label), self.version,
                region_of_interest="nonzero",
                profile=case_score.profile_of(restricted, image, image, zooms))
            self.assertEqual((self.region_scores / f"{name}.score").read_bytes(), expected, name)

    def test_certificates_with_a_region_from_scores_equal_those_from_the_volumes(self):
        volumes = ["--probs", self.set / "probs", "--labels", self.set / "labels",
                   "--roi", "nonzero", "--images", self.set / "images"]
        from_volumes = self.calibrate(*volumes)
        self.assertEqual(self.calibrate("--scores", self.region_scores), from_volumes)
        self.assertEqual(self.calibrate("--scores", self.region_scores, "--roi", "nonzero"),
                         from_volumes)
        certificate = json.loads(from_volumes)
        self.assertEqual(certificate["region_of_interest"], "nonzero")
        self.assertEqual(len(certificate["case_profiles"]), 12)
        self.assertIsNotNone(certificate["case_profiles"][0]["intensity_percentiles"])
        proc = run("calibrate", "--scores", self.region_scores, "--roi", "none", "--epsilon", 0.2,
                   "--alpha", 0.2, "--out", self.dir / "refused.json", expect=2)
        self.assertEqual(last_line(proc.stderr),
                         f"cls calibrate: error: --roi none is not what the scores in "
                         f"{self.region_scores} were made with (nonzero); leave it out to use "
                         f"theirs")
        mixed = self.dir / "mixed_regions"
        mixed.mkdir(exist_ok=True)
        shutil.copy(self.scores / "case_000.score", mixed)
        shutil.copy(self.region_scores / "case_001.score", mixed)
        proc = run("calibrate", "--scores", mixed, "--epsilon", 0.2, "--alpha", 0.2,
                   "--out", self.dir / "refused.json", expect=1)
        self.assertEqual(last_line(proc.stderr),
                         f"cls calibrate: error: {mixed}/case_001.score: was made with region of "
                         f"interest 'nonzero', but {mixed}/case_000.score with 'none'; score "
                         f"every case of a cohort alike")

    def test_certificates_from_scores_equal_those_from_the_volumes(self):
        volumes = ["--probs", self.set / "probs", "--labels", self.set / "labels"]
        for options in (["--method", "cls"], ["--method", "cls", "--empty-masks", "exclude"],
                        ["--method", "crc"], ["--method", "fixed", "--threshold", 0.3]):
            with self.subTest(options=options):
                from_volumes = self.calibrate(*volumes, *options)
                from_scores = self.calibrate("--scores", self.scores, *options)
                self.assertEqual(from_scores, from_volumes)
                certificate = json.loads(from_scores)
                self.assertEqual(len(certificate["cases"]), 12)
                self.assertEqual(certificate["cases"][4]["label_sha256"],
                                 sha256(self.set / "labels" / "case_004.nii.gz"))

    def test_evaluate_from_scores_equals_evaluate_from_the_volumes(self):
        common = ["--epsilon", 0.4, "--alpha", 0.2, "--splits", 20, "--seed", 4,
                  "--methods", "fixed,cls,crc,lesion-cls,pac,mondrian",
                  "--mondrian", "predicted-voxels:60"]
        outputs = []
        for source in (["--probs", self.set / "probs", "--labels", self.set / "labels"],
                       ["--scores", self.scores]):
            json_out, csv_out = self.dir / "evaluation.json", self.dir / "evaluation.csv"
            proc = run("evaluate", *source, *common, "--json", json_out, "--csv", csv_out)
            outputs.append((proc.stdout, json_out.read_bytes(), csv_out.read_bytes()))
        self.assertEqual(outputs[0], outputs[1])

    def test_softmax_maps_with_lesion_channels(self):
        """4D maps (x, y, z, 3) and labels 0/1/2: scored and calibrated with the channels and
        classes named; the scores record them, so the reduce needs no option."""
        rng = np.random.default_rng(8)
        probs, labels = self.dir / "softmax" / "probs", self.dir / "softmax" / "labels"
        probs.mkdir(parents=True)
        labels.mkdir(parents=True)
        for i in range(8):
            logits = rng.normal(size=(6, 5, 4, 3)).astype(np.float32)
            label = rng.integers(0, 3, size=(6, 5, 4)).astype(np.float32)
            logits[..., 1] += 2 * (label == 1)
            logits[..., 2] += 2 * (label == 2)
            softmax = np.exp(logits) / np.exp(logits).sum(axis=-1, keepdims=True)
            nib.save(nib.Nifti1Image(softmax.astype(np.float32), np.eye(4)),
                     str(probs / f"case_{i:03}.nii.gz"))
            nib.save(nib.Nifti1Image(label, np.eye(4)), str(labels / f"case_{i:03}.nii.gz"))
        lesion = ["--lesion-channels", "1,2", "--lesion-labels", "1,2"]
        scores = self.dir / "softmax" / "scores"
        score_all(probs, labels, scores, *lesion)
        from_volumes = self.calibrate("--probs", probs, "--labels", labels, *lesion)
        self.assertEqual(self.calibrate("--scores", scores), from_volumes)
        self.assertEqual(self.calibrate("--scores", scores, *lesion), from_volumes)
        certificate = json.loads(from_volumes)
        self.assertEqual(certificate["lesion_channels"], {"channels": [1, 2], "combine": "sum"})
        self.assertEqual(certificate["lesion_labels"], [1, 2])
        proc = run("calibrate", "--scores", scores, "--lesion-channels", "1", "--epsilon", 0.2,
                   "--alpha", 0.2, "--out", self.dir / "refused.json", expect=2)
        self.assertEqual(last_line(proc.stderr),
                         f"cls calibrate: error: --lesion-channels 1 (sum) is not what the scores "
                         f"in {scores} were made with (channels 1,2, sum); leave it out to use "
                         f"theirs")
        # A cohort scored two ways is refused, naming both files.
        mixed = self.dir / "softmax" / "mixed"
        mixed.mkdir()
        shutil.copy(scores / "case_000.score", mixed)
        shutil.copy(self.scores / "case_001.score", mixed)
        proc = run("calibrate", "--scores", mixed, "--epsilon", 0.2, "--alpha", 0.2,
                   "--out", self.dir / "refused.json", expect=1)
        self.assertEqual(last_line(proc.stderr),
                         f"cls calibrate: error: {mixed}/case_001.score: was made with "
                         f"single-channel maps, lesion labels binary, but {mixed}/case_000.score "
                         f"with lesion channels 1,2 (sum), lesion labels 1,2; score every case of "
                         f"a cohort alike")

    def test_calibration_reads_no_background_but_evaluation_checks_it(self):
        folder = self.dir / "damaged_background"
        shutil.copytree(self.scores, folder)
        path = folder / "case_002.score"
        data = bytearray(path.read_bytes())
        data[-1] ^= 1
        path.write_bytes(bytes(data))
        self.assertEqual(self.calibrate("--scores", folder),
                         self.calibrate("--scores", self.scores))
        proc = run("evaluate", "--scores", folder, "--epsilon", 0.2, "--alpha", 0.2, expect=1)
        self.assertEqual(last_line(proc.stderr),
                         f"cls evaluate: error: {path}: section background_probabilities does "
                         f"not match its SHA-256: the file changed after cls score wrote it")

    def refused(self, name, data, message, command="calibrate"):
        """`data` as the score `name` in a copy of the cohort: refused with `message`."""
        folder = self.dir / f"bad_{name}"
        shutil.rmtree(folder, ignore_errors=True)
        shutil.copytree(self.scores, folder)
        (folder / f"{name}.score").write_bytes(data)
        extra = ["--out", self.dir / "refused.json"] if command == "calibrate" else []
        proc = run(command, "--scores", folder, "--epsilon", 0.2, "--alpha", 0.2, *extra,
                   expect=1)
        self.assertEqual(last_line(proc.stderr),
                         f"cls {command}: error: {folder}/{name}.score: {message}")
        self.assertFalse((self.dir / "refused.json").exists())

    def test_damaged_and_foreign_scores_are_refused_by_name(self):
        good = (self.scores / "case_001.score").read_bytes()
        fields, header_end = header(self.scores / "case_001.score")
        lesion_bytes = fields["sections"][0]["bytes"]
        self.refused("case_001", good[:-3],
                     f"truncated: its header declares {len(good)} bytes but the file has "
                     f"{len(good) - 3}")
        self.refused("case_001", good[:-3],
                     f"truncated: its header declares {len(good)} bytes but the file has "
                     f"{len(good) - 3}", command="evaluate")
        self.refused("case_001", good[:20],
                     f"truncated: its header needs {header_end - 12} bytes after the preamble "
                     f"but the file has 8")
        self.refused("case_001", b"case_001,0.5\n",
                     "not a case score (it does not start with 'CLSSCORE', as the files cls "
                     "score writes do)")
        newer = json.dumps(dict(fields, format_version=3)).encode()
        self.refused("case_001", b"CLSSCORE" + struct.pack("<I", len(newer)) + newer +
                     good[header_end:],
                     "format_version 3 is newer than this tool reads (2); use a newer cls")
        damaged = bytearray(good)
        damaged[header_end + lesion_bytes // 2] ^= 0x10
        self.refused("case_001", bytes(damaged),
                     "section lesion_probabilities does not match its SHA-256: the file changed "
                     "after cls score wrote it")
        # The same case twice, under another file name.
        self.refused("case_001_again", good,
                     f"is a score of case 'case_001', as is {self.dir}/bad_case_001_again/"
                     f"case_001.score; a cohort has one score per case")

    def test_folders_and_options(self):
        empty = self.dir / "no_scores"
        empty.mkdir(exist_ok=True)
        proc = run("calibrate", "--scores", empty, "--epsilon", 0.2, "--alpha", 0.2,
                   "--out", self.dir / "refused.json", expect=1)
        self.assertEqual(last_line(proc.stderr),
                         f"cls calibrate: error: {empty}: holds no .score file (cls score writes "
                         f"them)")
        proc = run("calibrate", "--scores", self.scores, "--probs", self.set / "probs",
                   "--epsilon", 0.2, "--alpha", 0.2, "--out", self.dir / "refused.json", expect=2)
        self.assertEqual(last_line(proc.stderr),
                         "cls calibrate: error: --scores replaces --probs and --labels: give the "
                         "scores or the volumes")
        proc = run("evaluate", "--scores", self.scores, "--labels", self.set / "labels",
                   "--epsilon", 0.2, "--alpha", 0.2, expect=2)
        self.assertIn("--scores replaces --probs and --labels", last_line(proc.stderr))

    def test_score_reads_a_case_as_calibrate_does(self):
        probs, labels = self.set / "probs", self.set / "labels"
        proc = run("score", "--probs", probs / "case_001.nii.gz", "--labels",
                   labels / "case_002.nii.gz", "--out", self.dir / "x.score", expect=1)
        self.assertEqual(last_line(proc.stderr),
                         f"cls score: error: {probs}/case_001.nii.gz and {labels}/case_002.nii.gz "
                         f"are of different cases ('case_001' and 'case_002'); a score is one "
                         f"case's probability map and label")
        nan = self.dir / "nan" / "case_001.nii.gz"
        nan.parent.mkdir(exist_ok=True)
        image = nib.load(str(probs / "case_001.nii.gz"))
        data = np.asarray(image.dataobj, dtype=np.float32).copy()
        data[0, 0, :3] = np.nan
        nib.save(nib.Nifti1Image(data, image.affine), str(nan))
        proc = run("score", "--probs", nan, "--labels", labels / "case_001.nii.gz",
                   "--out", self.dir / "x.score", expect=1)
        self.assertEqual(last_line(proc.stderr),
                         f"cls score: error: {nan}: probability map has 3 NaN or infinite values; "
                         f"a probability map must hold finite values in [0, 1]")
        self.assertFalse((self.dir / "x.score").exists())
        proc = run("score", "--help")
        self.assertIn("Usage: cls score", proc.stdout)
        self.assertIn("--lesion-channels", proc.stdout)


if __name__ == "__main__":
    CLS = cli_run.CLS = sys.argv[1]
    WORK = Path(sys.argv[2])
    unittest.main(argv=sys.argv[:1], verbosity=2)
