// `cls info [--json] FILE`: what a NIfTI file holds, with the affine as nibabel's img.affine.
#include <algorithm>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "arguments.hpp"
#include "cls/io/file.hpp"
#include "commands.hpp"

namespace cls::cli {
namespace {

struct Stats {
    double min = 0.0, max = 0.0, mean = 0.0;
};

Stats describe(const std::vector<float>& values) {
    if (values.empty()) return {};
    const auto [lo, hi] = std::minmax_element(values.begin(), values.end());
    double sum = 0.0;
    for (float v : values) sum += v;
    return {*lo, *hi, sum / static_cast<double>(values.size())};
}

nlohmann::json affine_rows(const Affine& affine) {
    nlohmann::json rows = nlohmann::json::array();
    for (int r = 0; r < 4; ++r) {
        rows.push_back({affine(r, 0), affine(r, 1), affine(r, 2), affine(r, 3)});
    }
    return rows;
}

const char* affine_source(const nifti::Header& h) {
    if (h.sform_code > 0) return "sform";
    if (h.qform_code > 0) return "qform";
    return "pixdim";
}

const CommandSpec kSpec{
    .name = "info",
    .summary =
        "What a NIfTI file holds: dims, datatype, spacing, the voxel-to-world affine (as "
        "nibabel's img.affine), value range and the SHA-256 of its bytes.",
    .options = {{"--json", "", "print JSON instead of text"}},
    .positional = "FILE",
    .example = "cls info --json probs/case_003.nii.gz",
};

}  // namespace

int run_info(Words words) {
    const std::string command = "info";
    auto args = Arguments::parse(words, kSpec);
    if (!args) return fail(command, args.error().message, kUsage);
    if (args->help_requested()) return print_help(*args);
    if (args->positional().size() != 1)
        return fail(command, "usage: cls info [--json] FILE", kUsage);

    auto loaded = io::load_nifti(args->positional()[0]);
    if (!loaded) return fail(command, loaded.error().message);
    const nifti::Header& h = loaded->image.header;
    const Volume& volume = loaded->image.volume;
    const Stats stats = describe(volume.values());

    nlohmann::json info = {
        {"file", args->positional()[0]},
        {"format", h.version == nifti::Version::nifti1 ? "nifti1" : "nifti2"},
        {"byte_order", h.big_endian ? "big" : "little"},
        {"dims", h.dims},
        {"datatype", nifti::datatype_name(h.datatype)},
        {"spacing", h.pixdim},
        {"affine", affine_rows(volume.affine())},
        {"affine_source", affine_source(h)},
        {"qform_code", h.qform_code},
        {"sform_code", h.sform_code},
        {"scl_slope", h.scl_slope},
        {"scl_inter", h.scl_inter},
        {"volumes", volume.source_volumes()},
        {"min", stats.min},
        {"max", stats.max},
        {"mean", stats.mean},
        {"sha256", loaded->sha256},
    };
    if (args->has("--json")) {
        std::printf("%s\n", info.dump(2).c_str());
        return kSuccess;
    }
    std::string dims;
    for (std::int64_t d : h.dims) dims += (dims.empty() ? "" : " x ") + std::to_string(d);
    std::printf("file      %s\n", args->positional()[0].c_str());
    std::printf("format    %s, %s-endian\n", info["format"].get<std::string>().c_str(),
                h.big_endian ? "big" : "little");
    std::printf("dims      %s%s\n", dims.c_str(),
                volume.source_volumes() > 1 ? "   (statistics of the first volume)" : "");
    std::printf("datatype  %s  (scl_slope %g, scl_inter %g)\n",
                nifti::datatype_name(h.datatype).c_str(), h.scl_slope, h.scl_inter);
    std::printf("spacing  ");
    for (double s : h.pixdim) std::printf(" %g", s);
    std::printf("\naffine    (from %s)\n", affine_source(h));
    for (int r = 0; r < 4; ++r) {
        std::printf("          [%11.5f %11.5f %11.5f %11.5f]\n", volume.affine()(r, 0),
                    volume.affine()(r, 1), volume.affine()(r, 2), volume.affine()(r, 3));
    }
    std::printf("min       %.9g\nmax       %.9g\nmean      %.9g\n", stats.min, stats.max,
                stats.mean);
    return kSuccess;
}

}  // namespace cls::cli
