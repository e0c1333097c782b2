#include "cls/inference/input_channels.hpp"

#include <algorithm>
#include <cstdio>
#include <map>

#include "cls/case_pairing.hpp"

namespace cls::inference {
namespace {

// The channel a modality name stands for, or -1.
int modality_channel(std::string_view name, const ModelManifest& manifest) {
    for (std::size_t c = 0; c < manifest.input_modalities.size(); ++c)
        if (same_modality(name, manifest.input_modalities[c])) return static_cast<int>(c);
    return -1;
}

bool is_channel_suffix(std::string_view text) {
    return text.size() == 4 &&
           std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; });
}

std::string how_to_name(const ModelManifest& manifest) {
    char last[8];
    std::snprintf(last, sizeof last, "%04d", manifest.input_channels - 1);
    std::string text = "name it <case>_0000.nii.gz ... <case>_" + std::string(last) + ".nii.gz";
    if (!manifest.input_modalities.empty()) {
        text += ", or end its name with one of " + channel_names(manifest) + " (<case>_" +
                manifest.input_modalities.front() + ".nii.gz)";
    }
    return text;
}

}  // namespace

Result<ChannelFile> channel_of_file(std::string_view path, const ModelManifest& manifest) {
    const FileNaming naming = name_file(path, FileRole::image);
    if (is_channel_suffix(naming.modality)) {
        const int channel = std::stoi(naming.modality);
        if (channel >= manifest.input_channels) {
            return make_error(std::string(path) + ": channel " + std::to_string(channel) + " (_" +
                              naming.modality + ") but the model takes " +
                              std::to_string(manifest.input_channels) + " input channels");
        }
        return ChannelFile{naming.case_name, static_cast<std::size_t>(channel)};
    }
    if (!naming.modality.empty()) {
        if (const int channel = modality_channel(naming.modality, manifest); channel >= 0)
            return ChannelFile{naming.case_name, static_cast<std::size_t>(channel)};
    }
    const std::string_view stem = file_stem(path);
    if (const auto underscore = stem.rfind('_');
        underscore != std::string_view::npos && underscore > 0) {
        if (const int channel = modality_channel(stem.substr(underscore + 1), manifest);
            channel >= 0) {
            return ChannelFile{std::string(stem.substr(0, underscore)),
                               static_cast<std::size_t>(channel)};
        }
    }
    return make_error(std::string(path) + ": cannot tell which of the model's " +
                      std::to_string(manifest.input_channels) + " input channels it is; " +
                      how_to_name(manifest));
}

Result<std::vector<CaseChannels>> group_case_channels(const std::vector<std::string>& paths,
                                                      const ModelManifest& manifest) {
    const auto channels = static_cast<std::size_t>(manifest.input_channels);
    std::map<std::string, std::vector<std::string>> cases;
    for (const std::string& path : paths) {
        auto placed = channel_of_file(path, manifest);
        if (!placed) return placed.error();
        std::vector<std::string>& files = cases[placed->case_name];
        files.resize(channels);
        std::string& slot = files[placed->channel];
        if (!slot.empty()) {
            return make_error(path + ": case " + placed->case_name + " already has its " +
                              channel_name(manifest, placed->channel) + " from " + slot);
        }
        slot = path;
    }
    std::vector<CaseChannels> grouped;
    for (auto& [name, files] : cases) {
        for (std::size_t c = 0; c < channels; ++c) {
            if (files[c].empty()) {
                return make_error("case " + name + " has no " + channel_name(manifest, c) +
                                  " file among " + std::to_string(paths.size()) + " given; " +
                                  how_to_name(manifest));
            }
        }
        grouped.push_back({name, std::move(files)});
    }
    return grouped;
}

}  // namespace cls::inference
