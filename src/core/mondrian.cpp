#include "cls/mondrian.hpp"

#include <algorithm>
#include <charconv>

namespace cls {
namespace {

std::string_view feature_name(MondrianFeature feature) {
    return feature == MondrianFeature::lesion_voxels ? "lesion-voxels" : "predicted-voxels";
}

Error rule_error(std::string_view text, const std::string& why) {
    return make_error("Mondrian rule '" + std::string(text) + "' " + why +
                      " (expected FEATURE:CUT[,CUT...] with FEATURE lesion-voxels or "
                      "predicted-voxels and ascending whole-number cuts, e.g. "
                      "predicted-voxels:500)");
}

}  // namespace

Result<MondrianRule> parse_mondrian_rule(std::string_view text) {
    const std::size_t colon = text.find(':');
    if (colon == std::string_view::npos) return rule_error(text, "has no ':'");
    MondrianRule rule;
    const std::string_view feature = text.substr(0, colon);
    if (feature == feature_name(MondrianFeature::lesion_voxels)) {
        rule.feature = MondrianFeature::lesion_voxels;
    } else if (feature == feature_name(MondrianFeature::predicted_voxels)) {
        rule.feature = MondrianFeature::predicted_voxels;
    } else {
        return rule_error(text, "names an unknown feature");
    }
    std::string_view rest = text.substr(colon + 1);
    while (true) {
        const std::size_t comma = rest.find(',');
        const std::string_view word = rest.substr(0, comma);
        std::size_t cut = 0;
        const auto [end, ec] = std::from_chars(word.data(), word.data() + word.size(), cut);
        if (word.empty() || ec != std::errc() || end != word.data() + word.size()) {
            return rule_error(text, "has a cut that is not a whole number");
        }
        if (!rule.cuts.empty() && cut <= rule.cuts.back()) {
            return rule_error(text, "has cuts that do not ascend");
        }
        rule.cuts.push_back(cut);
        if (comma == std::string_view::npos) break;
        rest = rest.substr(comma + 1);
    }
    return rule;
}

std::string to_string(const MondrianRule& rule) {
    std::string text(feature_name(rule.feature));
    for (std::size_t i = 0; i < rule.cuts.size(); ++i) {
        text += i == 0 ? ':' : ',';
        text += std::to_string(rule.cuts[i]);
    }
    return text;
}

std::size_t mondrian_feature(const MondrianRule& rule, const EvaluationCase& c) {
    return rule.feature == MondrianFeature::lesion_voxels
               ? c.lesion_voxels()
               : c.predicted_voxels(kMondrianPredictionThreshold);
}

std::size_t mondrian_group(const MondrianRule& rule, const EvaluationCase& c) {
    const std::size_t value = mondrian_feature(rule, c);
    return static_cast<std::size_t>(std::upper_bound(rule.cuts.begin(), rule.cuts.end(), value) -
                                    rule.cuts.begin());
}

std::string mondrian_group_name(const MondrianRule& rule, std::size_t group) {
    const std::string feature(feature_name(rule.feature));
    if (group == 0) return feature + " < " + std::to_string(rule.cuts.front());
    if (group == rule.cuts.size()) return feature + " >= " + std::to_string(rule.cuts.back());
    return std::to_string(rule.cuts[group - 1]) + " <= " + feature + " < " +
           std::to_string(rule.cuts[group]);
}

}  // namespace cls
