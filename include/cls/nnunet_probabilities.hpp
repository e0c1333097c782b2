// nnU-Net v2 probability maps (`nnUNetv2_predict --save_probabilities`): the array saved as
// `probabilities` in `<case>.npz` split into one Volume per class on the case's own grid. The
// `<case>.pkl` beside it is a pickle and is never read: the case's image or label gives the
// grid and the affine instead.
//
// What nnU-Net's own code says (MIC-DKFZ/nnUNet, read through the code search):
// - nnunetv2/inference/export_prediction.py (commit 50694aa), export_prediction_from_logits,
//   line 89: `np.savez_compressed(output_file_truncated + '.npz',
//   probabilities=probabilities_final)`: a deflate-compressed zip, one member
//   `probabilities.npy`. Lines 54-62: cropping and the transpose are undone first
//   (`transpose([0] + [i + 1 for i in plans_manager.transpose_backward])`), so the array is in
//   the order the image reader returned, class first.
// - dtype: float32 today (utilities/label_handling/label_handling.py at 09eef55,
//   apply_inference_nonlin: `logits = logits.float()` before softmax or sigmoid, and
//   revert_cropping_on_probabilities keeps that dtype); early versions (export_prediction.py
//   at commit 0a3c6b2) allocated `np.float16`. Both are read here. With regions (sigmoid)
//   there is no background channel; with labels (softmax) channel 0 is background.
// - Axis order: imageio/simpleitk_reader_writer.py (82e825d) line 41 `sitk.GetArrayFromImage`
//   gives (z, y, x), and imageio/nibabel_reader_writer.py (bbc43bb) line 54 (NibabelIO)
//   transposes nibabel's (i, j, k) array with `.transpose((2, 1, 0))` "to be consistent with
//   the way SimpleITk reads images". Either way the saved array is (C, z, y, x) with x = the
//   NIfTI file's i axis, in C order: voxel (i, j, k) of class c is array[c, k, j, i].
// - Which reader: nnUNetv2_predict writes the model's plans.json beside its predictions
//   (predict_from_raw_data.py, `save_json(self.plans_manager.plans, join(output_folder,
//   'plans.json'))`), and the plans' `image_reader_writer` names the reader the images went
//   through (plans_handler.py, image_reader_writer_class). NibabelIOWithReorient
//   (imageio/nibabel_reader_writer.py, 255b37d) reads `nib_image.as_reoriented(
//   io_orientation(original_affine))` before that transpose: its arrays lie on the image's
//   RAS-reoriented grid, and only its write_seg turns segmentations back. Read here with the
//   same io_orientation (cls/reorientation.hpp) and turned back onto the reference's grid.
// [X] (C, z, y, x) arrays in any dtype cls::npy reads (float16 and float32 as nnU-Net writes)
// [X] the grid checked against the reference, the message naming both shapes
// [X] NibabelIOWithReorient's RAS-reoriented arrays, when the plans.json beside them says so;
//     a .npz moved away from its plans.json is read as the default readers write it
// [ ] 2D configurations saved as (C, 1, y, x) of a 2D image: only 3D references are checked
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "cls/lesion_definition.hpp"
#include "cls/npy.hpp"
#include "cls/result.hpp"
#include "cls/volume.hpp"

namespace cls {

// The grid nnU-Net's arrays lie on: the image file's own (SimpleITKIO, NibabelIO and every
// reader but one) or its RAS-reoriented one (NibabelIOWithReorient).
enum class NnunetArrayGrid { file, ras };

// What the plans.json beside the .npz files (cls/case_pairing.hpp, nnunet_plans_path) says of
// the arrays: `image_reader_writer` NibabelIOWithReorient gives `ras`,
// any other reader (or none named) `file`. Refuses text that is not a JSON object.
[[nodiscard]] Result<NnunetArrayGrid> read_nnunet_plans(std::span<const std::uint8_t> json);

// One Volume per class with the reference's dims, affine and spacing: voxel (i, j, k) of
// channel c is probabilities[c, k, j, i] on the `file` grid; on the `ras` grid the array is
// (C, z', y', x') over the reference's RAS-reoriented axes and is turned back. Refuses an array
// that is not 4D or whose spatial shape is not the reference's on that grid. Values are copied
// as they are (no range check: callers check probabilities in [0, 1] where they need it).
[[nodiscard]] Result<std::vector<Volume>> nnunet_probability_channels(
    const npy::Array& probabilities, const Volume& reference,
    NnunetArrayGrid grid = NnunetArrayGrid::file);

// The one rule for an nnU-Net probability map, whoever extracted `probabilities.npy` from the
// .npz (libzip natively, web/npz.js in the page): parsed, split into classes on the
// reference's grid, the lesion classes chosen and combined and every value they hold checked
// to lie in [0, 1] (cls/lesion_definition.hpp). Errors do not name the file.
[[nodiscard]] Result<Volume> read_nnunet_probability_map(
    std::span<const std::uint8_t> npy_bytes, const Volume& reference, const LesionChannels& choice,
    NnunetArrayGrid grid = NnunetArrayGrid::file);

}  // namespace cls
