#include "cls/lesion_definition.hpp"

#include <algorithm>
#include <cassert>
#include <charconv>
#include <cmath>
#include <cstdio>

#include "cls/calibration.hpp"

namespace cls {
namespace {

// A float32 softmax sums to 1 within a few ulps per class; more than this is not rounding.
constexpr double kSumTolerance = 1e-4;

// "1,2,3" -> {1, 2, 3}; `what` names the list in messages ("--lesion-channels").
Result<std::vector<int>> parse_index_list(std::string_view text, std::string_view what) {
    std::vector<int> values;
    const auto refuse = [&](const std::string& why) {
        return make_error(std::string(what) + " '" + std::string(text) + "': " + why);
    };
    if (text.empty()) return refuse("is empty; give numbers separated by commas, e.g. 1,2");
    for (std::size_t start = 0; start <= text.size();) {
        const std::size_t comma = std::min(text.find(',', start), text.size());
        const std::string_view item = text.substr(start, comma - start);
        int value = 0;
        const auto [end, ec] = std::from_chars(item.data(), item.data() + item.size(), value);
        if (item.empty() || ec != std::errc() || end != item.data() + item.size() || value < 0) {
            return refuse("'" + std::string(item) + "' is not a whole number >= 0");
        }
        if (std::find(values.begin(), values.end(), value) != values.end()) {
            return refuse(std::to_string(value) + " is listed twice");
        }
        values.push_back(value);
        start = comma + 1;
    }
    std::sort(values.begin(), values.end());
    return values;
}

std::string join(const std::vector<int>& values, std::string_view separator) {
    std::string text;
    for (int v : values) text += (text.empty() ? "" : std::string(separator)) + std::to_string(v);
    return text;
}

std::string count_text(std::size_t count, const char* noun) {
    return std::to_string(count) + " " + noun + (count == 1 ? "" : "s");
}

}  // namespace

Result<ChannelCombine> parse_channel_combine(std::string_view text) {
    if (auto combine = value_named(kChannelCombineNames, text)) return *combine;
    return make_error("--combine must be " + names_text(kChannelCombineNames) + ", got '" +
                      std::string(text) + "'");
}

std::string_view to_string(ChannelCombine combine) {
    return name_of(kChannelCombineNames, combine);
}

Result<LesionChannels> parse_lesion_channels(std::string_view text, ChannelCombine combine) {
    auto channels = parse_index_list(text, "--lesion-channels");
    if (!channels) return channels.error();
    return LesionChannels{std::move(*channels), combine};
}

Result<LesionLabels> parse_lesion_labels(std::string_view text) {
    if (text == "binary") return LesionLabels{};
    if (text == "nonzero") return LesionLabels{LesionLabels::Kind::nonzero, {}};
    auto classes = parse_index_list(text, "--lesion-labels");
    if (!classes) return classes.error();
    if (classes->front() == 0) {
        return make_error("--lesion-labels '" + std::string(text) +
                          "': 0 is background, not a lesion class");
    }
    return LesionLabels{LesionLabels::Kind::classes, std::move(*classes)};
}

std::string channels_text(const LesionChannels& channels) { return join(channels.channels, ","); }

std::string describe(const LesionDefinition& lesion) {
    const std::string channels = lesion.channels.single()
                                     ? std::string("single-channel maps")
                                     : "lesion channels " + channels_text(lesion.channels) + " (" +
                                           std::string(to_string(lesion.channels.combine)) + ")";
    return channels + ", lesion labels " + labels_text(lesion.labels);
}

std::string labels_text(const LesionLabels& labels) {
    switch (labels.kind) {
        case LesionLabels::Kind::binary:
            return "binary";
        case LesionLabels::Kind::nonzero:
            return "nonzero";
        case LesionLabels::Kind::classes:
            return join(labels.classes, ",");
    }
    return "binary";
}

Result<std::int64_t> probability_channel_count(const nifti::Header& header) {
    const std::vector<std::int64_t>& dims = header.dims;
    std::vector<std::int64_t> beyond(dims.begin() + std::min<std::size_t>(dims.size(), 3),
                                     dims.end());
    const auto above_one =
        std::count_if(beyond.begin(), beyond.end(), [](std::int64_t d) { return d > 1; });
    if (above_one > 1) {
        std::string shape;
        for (std::int64_t d : dims) shape += (shape.empty() ? "" : "x") + std::to_string(d);
        return make_error("is " + shape +
                          ": more than one axis beyond the third holds several volumes, so it is "
                          "not one set of probability channels (expected x, y, z, channels)");
    }
    std::int64_t channels = 1;
    for (std::int64_t d : beyond) channels = std::max(channels, d);
    return channels;
}

Status check_not_a_segmentation(const nifti::Header& header) {
    const bool integers =
        header.datatype != nifti::DataType::float32 && header.datatype != nifti::DataType::float64;
    if (!integers || header.scl_slope != 1.0 || header.scl_inter != 0.0) return Done{};
    return make_error("is stored as " + nifti::datatype_name(header.datatype) +
                      " integers without scaling, so as a probability map it could hold only 0 "
                      "and 1: it is a segmentation, and calibrating on it would certify nothing; "
                      "give the network's probabilities (nnU-Net writes them as <case>.npz with "
                      "--save_probabilities; MONAI as its softmax or sigmoid output in float; "
                      "whole numbers that stand for probabilities need their scale in "
                      "scl_slope, e.g. 1/255)");
}

std::string channel_axis_text(const nifti::Header& header) {
    const std::vector<std::int64_t>& dims = header.dims;
    for (std::size_t axis = 3; axis < dims.size(); ++axis) {
        if (dims[axis] <= 1) continue;
        if (axis == 3) return "along its 4th dimension";
        if (axis == 4) return "along its 5th dimension, as ITK and MONAI store vector images";
        return "along its " + std::to_string(axis + 1) + "th dimension";
    }
    return "in one volume";
}

Result<Volume> lesion_probability_map(std::vector<Volume> channels, const LesionChannels& choice,
                                      std::string_view channel_axis) {
    assert(!channels.empty());
    const std::size_t count = channels.size();
    if (choice.single()) {
        if (count == 1) {
            if (Status valid = check_probabilities(channels.front().values()); !valid)
                return valid.error();
            return std::move(channels.front());
        }
        return make_error("holds " + std::to_string(count) + " probability channels (" +
                          std::string(channel_axis) +
                          "); say which are lesion with --lesion-channels (counted from 0, e.g. "
                          "--lesion-channels 1 for a two-class softmax) or the app's channel "
                          "picker");
    }
    for (int c : choice.channels) {
        if (c >= static_cast<int>(count)) {
            return make_error("has " + count_text(count, "probability channel") + " (0 to " +
                              std::to_string(count - 1) + ") but --lesion-channels names channel " +
                              std::to_string(c));
        }
        if (Status valid = check_probabilities(channels[c].values()); !valid) {
            return valid.error().in("channel " + std::to_string(c));
        }
    }
    Volume combined = std::move(channels[choice.channels.front()]);
    std::span<float> out(combined.data(), combined.voxel_count());
    for (std::size_t k = 1; k < choice.channels.size(); ++k) {
        const float* in = channels[choice.channels[k]].data();
        if (choice.combine == ChannelCombine::max) {
            for (std::size_t i = 0; i < out.size(); ++i) out[i] = std::max(out[i], in[i]);
        } else {
            for (std::size_t i = 0; i < out.size(); ++i) out[i] += in[i];
        }
    }
    if (choice.combine == ChannelCombine::sum && choice.channels.size() > 1) {
        std::size_t over = 0;
        for (float& p : out) {
            if (p <= 1.0f) continue;
            if (p > 1.0 + kSumTolerance) {
                ++over;
            } else {
                p = 1.0f;  // float rounding of a softmax, not a second opinion
            }
        }
        if (over > 0) {
            return make_error("channels " + join(choice.channels, "+") + " sum to more than 1 " +
                              "(by over 1e-4) at " + count_text(over, "voxel") +
                              ", so they are not classes of one softmax; use --combine max "
                              "(independent sigmoid channels) or a single channel");
        }
    }
    combined.set_source_volumes(1);
    return combined;
}

Status check_label(std::span<const float> labels, const LesionLabels& lesion) {
    if (lesion.kind == LesionLabels::Kind::binary) return check_label(labels);
    std::size_t non_finite = 0, fractional = 0;
    float example = 0.0f;
    for (float v : labels) {
        if (!std::isfinite(v)) {
            ++non_finite;
        } else if (v != std::nearbyint(v)) {
            if (fractional++ == 0) example = v;
        }
    }
    if (non_finite > 0) {
        return make_error("label has " + count_text(non_finite, "NaN or infinite value") +
                          "; a label holds whole class numbers");
    }
    if (fractional > 0) {
        char text[32];
        std::snprintf(text, sizeof text, "%g", static_cast<double>(example));
        return make_error(
            "label has " + count_text(fractional, "value") +
            (fractional == 1 ? " that is not a whole number" : " that are not whole numbers") +
            " (e.g. " + text + "), so its classes cannot be read; " + kInterpolatedLabelAdvice);
    }
    return Done{};
}

void binarise_label(std::span<float> labels, const LesionLabels& lesion) {
    if (lesion.kind != LesionLabels::Kind::classes) {
        for (float& v : labels) v = v != 0.0f ? 1.0f : 0.0f;  // one vectorised pass
        return;
    }
    const auto is_lesion = [&](float v) {
        // Compared as doubles: a checked label holds whole numbers, but not always small ones.
        return std::any_of(lesion.classes.begin(), lesion.classes.end(),
                           [v](int c) { return static_cast<double>(c) == static_cast<double>(v); });
    };
    for (float& v : labels) v = is_lesion(v) ? 1.0f : 0.0f;
}

Result<nifti::Image> checked_probability_map(nifti::Image image, const LesionChannels& choice) {
    assert(image.volume.source_volumes() == 1);
    if (Status stored = check_not_a_segmentation(image.header); !stored) return stored.error();
    if (choice.single()) {
        if (Status valid = check_probabilities(image.volume.values()); !valid) {
            return valid.error();
        }
        return image;
    }
    std::vector<Volume> channels;
    channels.push_back(std::move(image.volume));
    auto map = lesion_probability_map(std::move(channels), choice, channel_axis_text(image.header));
    if (!map) return map.error();
    return nifti::Image{std::move(image.header), std::move(*map)};
}

Result<nifti::Image> checked_label(nifti::Image image, const LesionLabels& lesion) {
    std::span<float> values(image.volume.data(), image.volume.voxel_count());
    if (Status valid = check_label(values, lesion); !valid) return valid.error();
    binarise_label(values, lesion);
    return image;
}

Result<nifti::Image> read_probability_map(std::span<const std::uint8_t> nii,
                                          const LesionChannels& choice) {
    auto header = nifti::read_header(nii);
    if (!header) return header.error();
    if (Status stored = check_not_a_segmentation(*header); !stored) return stored.error();
    auto channels = probability_channel_count(*header);
    if (!channels) return channels.error();
    if (*channels == 1) {
        auto image = nifti::read(nii);
        if (!image) return image.error();
        return checked_probability_map(std::move(*image), choice);  // checks the header again
    }
    auto volumes = nifti::read_volumes(nii);
    if (!volumes) return volumes.error();
    auto map = lesion_probability_map(std::move(*volumes), choice, channel_axis_text(*header));
    if (!map) return map.error();
    return nifti::Image{std::move(*header), std::move(*map)};
}

Result<nifti::Image> read_label(std::span<const std::uint8_t> nii, const LesionLabels& lesion) {
    auto image = nifti::read(nii);
    if (!image) return image.error();
    return checked_label(std::move(*image), lesion);
}

}  // namespace cls
