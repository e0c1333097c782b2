"""scripts/generate_ms_cases.py: the splits keep the held-out patient out of training, thick
slices behave as a slab average resampled back, a missing data folder is an error naming it
(and the demo build says so and writes nothing),
and, on ../shared/data/open_ms when it is there (skipped, saying so, when not): inpainting
removes a real patient's lesions, a case is deterministic, binary and brighter on its lesions
than in its brain, and a clean-protocol case is skull-stripped on the source's grid. About 30 s with the data, 1 s without.

Usage: /usr/bin/python3 test_generate_ms_cases.py [SHARED_DATA_DIR]
"""
import os
import subprocess
import sys
import tempfile
import unittest
from pathlib import Path

import numpy as np

SCRIPTS = Path(__file__).resolve().parent.parent.parent / "scripts"
sys.path.insert(0, str(SCRIPTS))
import generate_ms_cases as ms  # noqa: E402

DATA = Path(sys.argv.pop(1)) if len(sys.argv) > 1 else ms.DEFAULT_DATA


class Splits(unittest.TestCase):
    def test_no_training_case_uses_the_held_out_brain_or_masks(self):
        train, held_out = ms.SPLITS["train"], ms.SPLITS["held-out"]
        self.assertNotIn("patient26", train["backgrounds"])
        self.assertNotIn("patient26", train["masks"])
        self.assertFalse(set(held_out["masks"]) & set(train["masks"]))
        self.assertFalse(set(held_out["backgrounds"]) & set(train["backgrounds"]))
        self.assertEqual(len(train["masks"]), 24)


class ThickSlices(unittest.TestCase):
    def test_a_ramp_survives_and_a_thin_line_spreads_over_its_slab(self):
        rng = np.random.default_rng(0)
        ramp = np.broadcast_to(np.arange(60, dtype=np.float32)[None, None, :], (4, 5, 60))
        thick = ms.thick_slices(np.ascontiguousarray(ramp), 2, 5, 0, rng)
        # Averages of a linear ramp over 5 voxels, sampled every 5 and interpolated linearly,
        # give the ramp back, except past the first and last slab centres (clamped).
        np.testing.assert_allclose(thick[:, :, 12:48], ramp[:, :, 12:48], atol=1e-4)

        line = np.zeros((3, 3, 60), dtype=np.float32)
        line[:, :, 30] = 1.0
        spread = ms.thick_slices(line, 2, 5, 0, rng)[1, 1]
        self.assertGreater(float(spread.max()), 0.05)    # the line still shows,
        self.assertLessEqual(float(spread.max()), 0.2 + 1e-6)  # at most 1/5 of it per voxel,
        self.assertGreaterEqual(int((spread > 0).sum()), 5)    # spread across a slab or more


class MissingData(unittest.TestCase):
    def test_an_absent_folder_is_an_error_naming_it(self):
        run = subprocess.run([sys.executable, str(SCRIPTS / "generate_ms_cases.py"), "--out",
                              "/tmp/unused", "--cases", "1", "--data", "/nonexistent/open_ms"],
                             capture_output=True, text=True)
        self.assertEqual(run.returncode, 1)
        self.assertIn("/nonexistent/open_ms: no open_ms data here", run.stderr)


class DemoWithoutData(unittest.TestCase):
    def test_the_demo_build_says_the_data_is_absent_and_writes_nothing(self):
        # scripts/build_web.sh then goes on with the synthetic demo (exit status 3 only).
        with tempfile.TemporaryDirectory() as folder:
            out = Path(folder) / "demo_ms"
            run = subprocess.run(["bash", str(SCRIPTS / "build_ms_demo.sh"), str(out)],
                                 env={**os.environ, "CLS_OPEN_MS": "/nonexistent/open_ms"},
                                 capture_output=True, text=True)
            self.assertEqual(run.returncode, 3)
            self.assertIn("no open_ms data at /nonexistent/open_ms", run.stderr)
            self.assertFalse(out.exists())


@unittest.skipUnless((DATA / "lesion_masks_MNI").is_dir(), f"{DATA} absent: real-data checks skipped")
class RealData(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.data = ms.OpenMs(DATA)

    def test_inpainting_removes_the_lesions(self):
        image, lesion, _ = self.data.real_case("patient26")
        background = self.data.background("patient26")
        white = background.white_matter
        self.assertGreater(float(image[lesion].mean()), 1.25 * white)  # real lesions are bright
        self.assertLess(abs(float(background.image[lesion].mean()) / white - 1), 0.12)
        untouched = background.brain & ~ms.ndi.binary_dilation(lesion, ms.ball(3))
        np.testing.assert_array_equal(background.image[untouched], image[untouched])

    def test_a_case_is_deterministic_binary_and_bright_on_its_lesions(self):
        index = next(i for i in range(20)
                     if ms.make_case(self.data, "held-out", 5, i)[3]["lesion_voxels"] > 100)
        image, label, affine, recipe = ms.make_case(self.data, "held-out", 5, index)
        again = ms.make_case(self.data, "held-out", 5, index)
        np.testing.assert_array_equal(image, again[0])
        np.testing.assert_array_equal(label, again[1])
        self.assertEqual(image.shape, label.shape)
        self.assertEqual(set(np.unique(label).tolist()), {0, 1})
        self.assertEqual(recipe["background"], "patient26")
        brain = image > 0.05 * image.max()
        self.assertGreater(float(image[label > 0].mean()), float(np.median(image[brain])))

    def test_painted_lesions_are_as_bright_as_the_real_ones(self):
        # Per voxel of the label, lesion / white matter - 1: a case's median is the one its
        # recipe drew, and the real patients' medians lie in the range it is drawn from.
        def contrast(image, label, white):
            return image[label > 0] / white - 1
        low, high = ms.MEDIAN_CONTRAST
        for patient in ("patient07", "patient19", "patient26"):
            image, label, _ = self.data.real_case(patient)
            real = contrast(image, label, self.data.background(patient).white_matter)
            self.assertTrue(low <= float(np.median(real)) <= high, patient)
        white = self.data.background("patient26").white_matter
        for index in (0, 1, 2):
            image, label, _, recipe = ms.make_case(self.data, "held-out", 7, index, "clean")
            painted = contrast(image, label, white)
            self.assertAlmostEqual(float(np.median(painted)), recipe["contrast"], delta=0.01)
            self.assertTrue(low <= recipe["contrast"] <= high)
            self.assertLess(float(np.percentile(painted, 10)), 0.85 * recipe["contrast"])

    def test_a_clean_case_is_stripped_on_the_source_grid_with_the_same_lesions(self):
        # The demo's calibration cases: the source's own protocol, and the lesions the varied
        # case of the same seed and index gets (only the acquisition differs).
        image, label, affine, recipe = ms.make_case(self.data, "held-out", 5, 1, "clean")
        background = self.data.background("patient26")
        self.assertEqual(recipe["protocol"], "clean")
        self.assertEqual(image.shape, background.image.shape)
        np.testing.assert_array_equal(affine, background.affine)
        self.assertTrue(np.all(image[~background.brain] == 0))
        self.assertEqual(set(np.unique(label).tolist()) - {0, 1}, set())
        varied = ms.make_case(self.data, "held-out", 5, 1)[3]
        self.assertEqual(recipe["lesions_from"], varied["lesions_from"])


if __name__ == "__main__":
    unittest.main(verbosity=2)
