#include "case_loading.hpp"

#include "cls/calibration.hpp"
#include "cls/case_pairing.hpp"
#include "progress.hpp"

namespace cls::cli {
namespace fs = std::filesystem;

Status for_each_labelled_case(const fs::path& probabilities_dir, const fs::path& labels_dir,
                              const std::string& task,
                              const std::function<Status(LabelledCase&)>& visit) {
    auto probability_files = io::list_nifti_files(probabilities_dir);
    if (!probability_files) return probability_files.error();
    auto label_files = io::list_nifti_files(labels_dir);
    if (!label_files) return label_files.error();
    if (probability_files->empty()) {
        return make_error("holds no .nii or .nii.gz file").in(probabilities_dir.string());
    }
    auto pairs =
        pair_cases(*probability_files, FileRole::probability, *label_files, FileRole::label);
    if (!pairs) return pairs.error().in(probabilities_dir.string() + " and " + labels_dir.string());

    Progress progress(task, pairs->size());
    for (const CasePair& pair : *pairs) {
        const fs::path probabilities_path = probabilities_dir / pair.first;
        const fs::path label_path = labels_dir / pair.second;
        auto probabilities = io::load_nifti(probabilities_path);
        if (!probabilities) return probabilities.error();
        const Volume& p = probabilities->image.volume;
        if (Status valid = check_probabilities(p.values()); !valid) {
            return valid.error().in(probabilities_path.string());
        }
        auto label = io::load_nifti(label_path);
        if (!label) return label.error();
        const Volume& l = label->image.volume;
        if (Status valid = check_label(l.values()); !valid) {
            return valid.error().in(label_path.string());
        }
        if (p.dims() != l.dims()) {
            return make_error("is " + grid_text(l) + " but its probability map " +
                              probabilities_path.string() + " is " + grid_text(p))
                .in(label_path.string());
        }
        if (!same_grid(p, l)) {
            return make_error("has a different voxel-to-world affine from its probability map " +
                              probabilities_path.string())
                .in(label_path.string());
        }
        LabelledCase labelled{pair.name, probabilities_path, label_path, std::move(*probabilities),
                              std::move(*label)};
        if (Status visited = visit(labelled); !visited) return visited.error();
        progress.advance(pair.name);
    }
    return Done{};
}

}  // namespace cls::cli
