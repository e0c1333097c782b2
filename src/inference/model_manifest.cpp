#include "cls/inference/model_manifest.hpp"

#include <algorithm>
#include <cctype>
#include <nlohmann/json.hpp>

#include "cls/json_fields.hpp"

namespace cls::inference {
namespace {

using nlohmann::json;

constexpr std::string_view kFormat = "cls-model/1";
constexpr std::int64_t kMaxPatchSide = 512;
constexpr const char* kFieldPrefix = "manifest field";

Result<Normalisation> parse_normalisation(const FieldReader& fields) {
    Normalisation n;
    auto scheme_text = fields.text("scheme");
    if (!scheme_text) return scheme_text.error().in("normalisation");
    CLS_TRY_ASSIGN(n.scheme, parse_normalisation_scheme(*scheme_text));
    if (n.scheme == NormalisationScheme::zscore) {
        const std::string region = fields.optional_text("region");
        if (region != "all" && region != "nonzero")
            return fields.error("normalisation.region", "must be \"all\" or \"nonzero\"");
        n.nonzero_only = region == "nonzero";
    } else if (n.scheme == NormalisationScheme::ct || n.scheme == NormalisationScheme::percentile) {
        const char* key = n.scheme == NormalisationScheme::ct ? "window" : "percentiles";
        auto range = fields.member(key);
        const json* list = range ? *range : nullptr;
        if (list == nullptr || !list->is_array() || list->size() != 2 || !(*list)[0].is_number() ||
            !(*list)[1].is_number()) {
            return fields.error(std::string("normalisation.") + key, "must be [low, high]");
        }
        n.low = (*list)[0].get<double>();
        n.high = (*list)[1].get<double>();
    }
    if (Status valid = validate(n); !valid) return valid.error().in("manifest normalisation");
    return n;
}

// Distinct channels of the output, not all of them: summed, every channel would make every
// voxel lesion with probability 1.
Status validate_lesion_classes(const std::vector<int>& classes, int channels) {
    if (classes.empty()) return make_error("lesion_classes is empty");
    std::vector<bool> seen(static_cast<std::size_t>(channels), false);
    for (int c : classes) {
        if (c < 0 || c >= channels) {
            return make_error("lesion class " + std::to_string(c) + " is not one of the output's " +
                              std::to_string(channels) + " channels (0-based)");
        }
        if (seen[static_cast<std::size_t>(c)])
            return make_error("lesion class " + std::to_string(c) + " is listed twice");
        seen[static_cast<std::size_t>(c)] = true;
    }
    if (classes.size() == static_cast<std::size_t>(channels)) {
        return make_error(
            "lesion_classes lists every channel of the softmax, whose sum is 1 "
            "everywhere; leave out the background class");
    }
    return Done{};
}

// `lesion_classes` [c, ...], or an older manifest's `lesion_class` c.
Result<std::vector<int>> read_lesion_classes(const FieldReader& output, const json& object) {
    if (!object.contains("lesion_classes") && object.contains("lesion_class")) {
        auto single = output.integer("lesion_class", 0, 63);
        if (!single) return single.error();
        return std::vector<int>{static_cast<int>(*single)};
    }
    auto member = output.member("lesion_classes");
    if (!member) return member.error();
    const json& list = **member;
    if (!list.is_array()) return output.error("lesion_classes", "must be a list of channels");
    std::vector<int> classes;
    for (const json& c : list) {
        if (!c.is_number_integer() || c.get<std::int64_t>() < 0 || c.get<std::int64_t>() > 63)
            return output.error("lesion_classes", "must be a list of channels in 0..63");
        classes.push_back(c.get<int>());
    }
    return classes;
}

json normalisation_to_json(const Normalisation& n) {
    json out = {{"scheme", to_string(n.scheme)}};
    if (n.scheme == NormalisationScheme::zscore) out["region"] = n.nonzero_only ? "nonzero" : "all";
    if (n.scheme == NormalisationScheme::ct) out["window"] = {n.low, n.high};
    if (n.scheme == NormalisationScheme::percentile) out["percentiles"] = {n.low, n.high};
    return out;
}

}  // namespace

bool same_modality(std::string_view a, std::string_view b) {
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
               return std::tolower(static_cast<unsigned char>(x)) ==
                      std::tolower(static_cast<unsigned char>(y));
           });
}

std::string_view to_string(Activation activation) { return name_of(kActivationNames, activation); }

std::string_view to_string(BackgroundSkip skip) { return name_of(kBackgroundSkipNames, skip); }

Result<BackgroundSkip> parse_background_skip(std::string_view text) {
    return parse_name(kBackgroundSkipNames, text, "skip_background");
}

Result<Activation> parse_activation(std::string_view text) {
    return parse_name(kActivationNames, text, "output activation");
}

std::string channel_name(const ModelManifest& m, std::size_t channel) {
    std::string text = "channel " + std::to_string(channel);
    if (channel < m.input_modalities.size()) text += " (" + m.input_modalities[channel] + ")";
    return text;
}

std::string channel_names(const ModelManifest& m) {
    std::string text;
    for (const std::string& name : m.input_modalities) text += (text.empty() ? "" : ", ") + name;
    return text;
}

Status validate(const ModelManifest& m) {
    if (!m.input_modalities.empty() &&
        m.input_modalities.size() != static_cast<std::size_t>(m.input_channels)) {
        return make_error("input.modalities names " + std::to_string(m.input_modalities.size()) +
                          " channels but the model takes " + std::to_string(m.input_channels));
    }
    for (std::size_t i = 0; i < m.input_modalities.size(); ++i) {
        const std::string& name = m.input_modalities[i];
        if (name.empty()) return make_error("input.modalities has an empty name");
        for (std::size_t j = 0; j < i; ++j) {
            if (same_modality(name, m.input_modalities[j]))
                return make_error("input.modalities names " + name + " twice");
        }
    }
    if (m.activation == Activation::softmax) {
        if (m.output_channels < 2) return make_error("a softmax output needs >= 2 channels");
        if (Status classes = validate_lesion_classes(m.lesion_classes, m.output_channels);
            !classes) {
            return classes;
        }
    } else if (m.lesion_channel < 0 || m.lesion_channel >= m.output_channels) {
        return make_error("lesion_channel " + std::to_string(m.lesion_channel) +
                          " is not one of the output's " + std::to_string(m.output_channels) +
                          " channels (0-based)");
    }
    for (std::int64_t side : m.patch_size) {
        if (side < 1 || side > kMaxPatchSide)
            return make_error("patch sides must be in 1.." + std::to_string(kMaxPatchSide));
        if (side % m.spatial_divisor != 0)
            return make_error("patch sides must be multiples of the spatial divisor");
    }
    for (double s : m.spacing_mm)
        if (!(s > 0.0 && s < 1e3)) return make_error("spacing_mm must be positive");
    return validate(m.normalisation);
}

Result<ModelManifest> parse_model_manifest(std::string_view json_text) {
    const json document = json::parse(json_text, nullptr, /*allow_exceptions=*/false);
    if (document.is_discarded()) return make_error("not valid JSON");
    if (!document.is_object() || FieldReader(document).optional_text("format") != kFormat) {
        return make_error("not a model manifest (field 'format' is not '" + std::string(kFormat) +
                          "')");
    }
    const FieldReader fields(document, kFieldPrefix);
    ModelManifest m;
    CLS_TRY_ASSIGN(m.name, fields.text("name"));
    m.description = fields.optional_text("description");
    CLS_TRY_ASSIGN(m.model_file, fields.text("model_file"));
    m.sha256 = fields.optional_text("sha256");

    const json* input_object = nullptr;
    const json* output_object = nullptr;
    CLS_TRY_ASSIGN(input_object, fields.object("input"));
    CLS_TRY_ASSIGN(output_object, fields.object("output"));
    const FieldReader input(*input_object, kFieldPrefix), output(*output_object, kFieldPrefix);
    CLS_TRY_ASSIGN(m.input_name, input.text("name"));
    CLS_TRY_ASSIGN(m.input_channels, input.integer("channels", 1, 64));
    if (input_object->contains("modalities")) {
        const json& names = (*input_object)["modalities"];
        if (!names.is_array())
            return input.error("modalities", "must be a list of names, one per channel");
        for (const json& name : names) {
            if (!name.is_string())
                return input.error("modalities", "must be a list of names, one per channel");
            m.input_modalities.push_back(name.get<std::string>());
        }
    }
    CLS_TRY_ASSIGN(m.output_name, output.text("name"));
    CLS_TRY_ASSIGN(m.output_channels, output.integer("channels", 1, 64));
    std::string activation;
    CLS_TRY_ASSIGN(activation, output.text("activation"));
    CLS_TRY_ASSIGN(m.activation, parse_activation(activation));
    if (m.activation == Activation::softmax) {
        CLS_TRY_ASSIGN(m.lesion_classes, read_lesion_classes(output, *output_object));
    } else if (m.output_channels > 1) {
        // Required: several independent channels, and nothing says which one is lesion.
        CLS_TRY_ASSIGN(m.lesion_channel, output.integer("lesion_channel", 0, 63));
    }

    CLS_TRY_ASSIGN(m.patch_size, fields.triple<std::int64_t>("patch_size"));
    if (document.contains("spatial_divisor"))
        CLS_TRY_ASSIGN(m.spatial_divisor, fields.integer("spatial_divisor", 1, 64));
    CLS_TRY_ASSIGN(m.spacing_mm, fields.triple<double>("spacing_mm"));
    const json* normalisation = nullptr;
    CLS_TRY_ASSIGN(normalisation, fields.object("normalisation"));
    CLS_TRY_ASSIGN(m.normalisation, parse_normalisation(FieldReader(*normalisation, kFieldPrefix)));
    if (document.contains("axis_order")) {
        std::string order;
        CLS_TRY_ASSIGN(order, fields.text("axis_order"));
        CLS_TRY_ASSIGN(m.axis_order, parse_axis_order(order));
    }
    if (document.contains("skip_background")) {
        std::string skip;
        CLS_TRY_ASSIGN(skip, fields.text("skip_background"));
        CLS_TRY_ASSIGN(m.skip_background, parse_background_skip(skip));
    }
    if (auto provenance = document.find("provenance"); provenance != document.end())
        m.provenance_json = provenance->dump(2);
    if (Status valid = validate(m); !valid) return valid.error();
    return m;
}

std::string to_json(const ModelManifest& m) {
    json output = {{"name", m.output_name},
                   {"channels", m.output_channels},
                   {"activation", to_string(m.activation)}};
    if (m.activation == Activation::softmax) output["lesion_classes"] = m.lesion_classes;
    if (m.activation != Activation::softmax && m.output_channels > 1)
        output["lesion_channel"] = m.lesion_channel;
    json input = {{"name", m.input_name}, {"channels", m.input_channels}};
    if (!m.input_modalities.empty()) input["modalities"] = m.input_modalities;
    json provenance = json::parse(m.provenance_json, nullptr, false);
    json document = {
        {"format", kFormat},
        {"name", m.name},
        {"description", m.description},
        {"model_file", m.model_file},
        {"sha256", m.sha256},
        {"input", input},
        {"output", std::move(output)},
        {"patch_size", m.patch_size},
        {"spatial_divisor", m.spatial_divisor},
        {"spacing_mm", m.spacing_mm},
        {"axis_order", to_string(m.axis_order)},
        {"normalisation", normalisation_to_json(m.normalisation)},
        {"skip_background", to_string(m.skip_background)},
        {"provenance", provenance.is_discarded() ? json::object() : provenance},
    };
    return document.dump(2) + "\n";
}

ModelManifest prefill_manifest(const OnnxModelInfo& model, const std::string& model_file) {
    ModelManifest m;
    m.model_file = model_file;
    m.name = model_file.substr(0, model_file.rfind('.'));
    m.provenance_json = R"({"note": "prefilled by CLS Studio from the model's input shape"})";
    const TensorInfo& input = model.inputs.front();
    const TensorInfo& output = model.outputs.front();
    m.input_name = input.name;
    m.output_name = output.name;
    if (input.dims.size() == 5 && input.dims[1] > 0)
        m.input_channels = static_cast<int>(input.dims[1]);
    if (output.dims.size() == 5 && output.dims[1] > 0) {
        m.output_channels = static_cast<int>(output.dims[1]);
        if (m.output_channels > 1) m.activation = Activation::softmax;
    }
    if (input.dims.size() == 5) {
        for (int i = 0; i < 3; ++i)
            if (input.dims[2 + i] > 0) m.patch_size[i] = input.dims[2 + i];
    }
    return m;
}

Status check_model_fits(const ModelManifest& manifest, const OnnxModelInfo& model) {
    auto find = [](const std::vector<TensorInfo>& list, const std::string& name) {
        const TensorInfo* found = nullptr;
        for (const TensorInfo& t : list)
            if (t.name == name) found = &t;
        return found;
    };
    const TensorInfo* input = find(model.inputs, manifest.input_name);
    const TensorInfo* output = find(model.outputs, manifest.output_name);
    if (input == nullptr)
        return make_error("the model has no input named '" + manifest.input_name + "'");
    if (output == nullptr) {
        std::string names;
        for (const TensorInfo& t : model.outputs)
            names += (names.empty() ? "'" : ", '") + t.name + "'";
        return make_error("the model has no output named '" + manifest.output_name +
                          "' (its outputs: " + names + ")");
    }
    for (const TensorInfo* t : {input, output}) {
        if (t->element_type != 1) return make_error("tensor '" + t->name + "' is not float32");
        if (t->dims.size() != 5) {
            return make_error("tensor '" + t->name + "' has shape " + shape_text(t->dims) +
                              "; a 3D segmentation model takes [N, C, D, H, W]");
        }
    }
    auto fits = [](std::int64_t model_dim, std::int64_t expected) {
        return model_dim == kDynamicDim || model_dim == expected;
    };
    const std::int64_t channels[2] = {manifest.input_channels, manifest.output_channels};
    const TensorInfo* tensors[2] = {input, output};
    for (int t = 0; t < 2; ++t) {
        const std::vector<std::int64_t>& dims = tensors[t]->dims;
        bool ok = fits(dims[0], 1) && fits(dims[1], channels[t]);
        for (int i = 0; i < 3; ++i) ok = ok && fits(dims[2 + i], manifest.patch_size[i]);
        if (!ok) {
            const auto& p = manifest.patch_size;
            return make_error("tensor '" + tensors[t]->name + "' has shape " + shape_text(dims) +
                              " but the manifest expects " +
                              shape_text({1, channels[t], p[0], p[1], p[2]}));
        }
    }
    return Done{};
}

}  // namespace cls::inference
