#include "lesion_definition_json.hpp"

#include <cstdint>
#include <string>

namespace cls::detail {
namespace {

using nlohmann::json;

// A channel or class list as the parsers read it ("1,2"), so one set of rules checks both.
Result<std::string> index_list_text(const json& list, const char* key) {
    std::string text;
    for (const json& item : list) {
        if (!item.is_number_unsigned()) {
            return make_error(std::string("field '") + key + "' must list whole numbers >= 0");
        }
        text += (text.empty() ? "" : ",") + std::to_string(item.get<std::uint64_t>());
    }
    return text;
}

}  // namespace

nlohmann::json lesion_channels_to_json(const LesionChannels& channels) {
    if (channels.single()) return nullptr;
    return {{"channels", channels.channels}, {"combine", to_string(channels.combine)}};
}

nlohmann::json lesion_labels_to_json(const LesionLabels& labels) {
    if (labels.kind == LesionLabels::Kind::classes) return labels.classes;
    return labels_text(labels);
}

Result<LesionDefinition> parse_lesion_definition(const json& document) {
    LesionDefinition lesion;
    auto channels = document.find("lesion_channels");
    if (channels != document.end() && !channels->is_null()) {
        auto list = channels->is_object() ? channels->find("channels") : channels->end();
        auto combine = channels->is_object() ? channels->find("combine") : channels->end();
        if (list == channels->end() || !list->is_array() || combine == channels->end() ||
            !combine->is_string()) {
            return make_error(
                "field 'lesion_channels' must be null or {\"channels\": [...], \"combine\": "
                "\"sum\" or \"max\"}");
        }
        std::string text;
        CLS_TRY_ASSIGN(text, index_list_text(*list, "lesion_channels"));
        ChannelCombine how = ChannelCombine::sum;
        CLS_TRY_ASSIGN(how, parse_channel_combine(combine->get<std::string>()));
        CLS_TRY_ASSIGN(lesion.channels, parse_lesion_channels(text, how));
    }
    auto labels = document.find("lesion_labels");
    if (labels != document.end()) {
        std::string text;
        if (labels->is_string()) {
            text = labels->get<std::string>();
            if (text != "binary" && text != "nonzero") {
                return make_error(
                    "field 'lesion_labels' must be \"binary\", \"nonzero\" or a "
                    "list of classes, got '" +
                    text + "'");
            }
        } else if (labels->is_array()) {
            CLS_TRY_ASSIGN(text, index_list_text(*labels, "lesion_labels"));
        } else {
            return make_error(
                "field 'lesion_labels' must be \"binary\", \"nonzero\" or a list of classes");
        }
        CLS_TRY_ASSIGN(lesion.labels, parse_lesion_labels(text));
    }
    return lesion;
}

}  // namespace cls::detail
