#include "cls/inference/model_manifest.hpp"

#include <nlohmann/json.hpp>

namespace cls::inference {
namespace {

using nlohmann::json;

constexpr std::string_view kFormat = "cls-model/1";
constexpr std::int64_t kMaxPatchSide = 512;

Error field_error(const std::string& key, const std::string& problem) {
    return make_error("manifest field '" + key + "' " + problem);
}

// Reading is written without exceptions (they are off in the WebAssembly build): every value
// is type-checked before it is read.
Result<const json*> member(const json& object, const std::string& key) {
    auto it = object.find(key);
    if (it == object.end()) return field_error(key, "is missing");
    return &*it;
}

Result<std::string> text(const json& object, const std::string& key) {
    auto value = member(object, key);
    if (!value) return value.error();
    if (!(*value)->is_string()) return field_error(key, "must be a string");
    return (*value)->get<std::string>();
}

std::string optional_text(const json& object, const std::string& key) {
    auto it = object.find(key);
    return it != object.end() && it->is_string() ? it->get<std::string>() : std::string();
}

Result<std::int64_t> integer(const json& object, const std::string& key, std::int64_t lo,
                             std::int64_t hi) {
    auto value = member(object, key);
    if (!value) return value.error();
    if (!(*value)->is_number_integer()) return field_error(key, "must be an integer");
    const auto v = (*value)->get<std::int64_t>();
    if (v < lo || v > hi) {
        return field_error(key, "must be in " + std::to_string(lo) + ".." + std::to_string(hi) +
                                    " (it is " + std::to_string(v) + ")");
    }
    return v;
}

template <class T>
Result<std::array<T, 3>> triple(const json& object, const std::string& key) {
    auto value = member(object, key);
    if (!value) return value.error();
    const json& list = **value;
    if (!list.is_array() || list.size() != 3) return field_error(key, "must be a list of 3");
    std::array<T, 3> out{};
    for (std::size_t i = 0; i < 3; ++i) {
        if constexpr (std::is_integral_v<T>) {
            if (!list[i].is_number_integer()) return field_error(key, "must hold integers");
        } else {
            if (!list[i].is_number()) return field_error(key, "must hold numbers");
        }
        out[i] = list[i].get<T>();
    }
    return out;
}

Result<const json*> object_member(const json& object, const std::string& key) {
    auto value = member(object, key);
    if (value && !(*value)->is_object()) return field_error(key, "must be an object");
    return value;
}

Result<Normalisation> parse_normalisation(const json& object) {
    Normalisation n;
    auto scheme_text = text(object, "scheme");
    if (!scheme_text) return scheme_text.error().in("normalisation");
    auto scheme = parse_normalisation_scheme(*scheme_text);
    if (!scheme) return scheme.error();
    n.scheme = *scheme;
    if (n.scheme == NormalisationScheme::zscore) {
        const std::string region = optional_text(object, "region");
        if (region != "all" && region != "nonzero")
            return field_error("normalisation.region", "must be \"all\" or \"nonzero\"");
        n.nonzero_only = region == "nonzero";
    } else if (n.scheme == NormalisationScheme::ct || n.scheme == NormalisationScheme::percentile) {
        const char* key = n.scheme == NormalisationScheme::ct ? "window" : "percentiles";
        auto it = object.find(key);
        if (it == object.end() || !it->is_array() || it->size() != 2 || !(*it)[0].is_number() ||
            !(*it)[1].is_number()) {
            return field_error(std::string("normalisation.") + key, "must be [low, high]");
        }
        n.low = (*it)[0].get<double>();
        n.high = (*it)[1].get<double>();
    }
    if (Status valid = validate(n); !valid) return valid.error().in("manifest normalisation");
    return n;
}

json normalisation_to_json(const Normalisation& n) {
    json out = {{"scheme", to_string(n.scheme)}};
    if (n.scheme == NormalisationScheme::zscore) out["region"] = n.nonzero_only ? "nonzero" : "all";
    if (n.scheme == NormalisationScheme::ct) out["window"] = {n.low, n.high};
    if (n.scheme == NormalisationScheme::percentile) out["percentiles"] = {n.low, n.high};
    return out;
}

}  // namespace

const char* to_string(Activation activation) {
    switch (activation) {
        case Activation::none:
            return "none";
        case Activation::sigmoid:
            return "sigmoid";
        case Activation::softmax:
            return "softmax";
    }
    return "?";
}

Result<Activation> parse_activation(const std::string& text) {
    for (auto a : {Activation::none, Activation::sigmoid, Activation::softmax})
        if (text == to_string(a)) return a;
    return make_error("unknown output activation '" + text +
                      "' (expected none, sigmoid or softmax)");
}

Status validate(const ModelManifest& m) {
    if (m.input_channels != 1) {
        return make_error("the model takes " + std::to_string(m.input_channels) +
                          " input channels; CLS Studio runs single-channel models only");
    }
    if (m.activation == Activation::softmax &&
        (m.output_channels < 2 || m.lesion_class < 0 || m.lesion_class >= m.output_channels)) {
        return make_error("a softmax output needs >= 2 channels and a lesion class among them");
    }
    if (m.activation != Activation::softmax && m.output_channels != 1)
        return make_error("a sigmoid or plain output must have 1 channel");
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
    if (!document.is_object() || optional_text(document, "format") != kFormat) {
        return make_error("not a model manifest (field 'format' is not '" + std::string(kFormat) +
                          "')");
    }
    ModelManifest m;
    CLS_TRY_ASSIGN(m.name, text(document, "name"));
    m.description = optional_text(document, "description");
    CLS_TRY_ASSIGN(m.model_file, text(document, "model_file"));
    m.sha256 = optional_text(document, "sha256");

    const json* input = nullptr;
    const json* output = nullptr;
    CLS_TRY_ASSIGN(input, object_member(document, "input"));
    CLS_TRY_ASSIGN(output, object_member(document, "output"));
    CLS_TRY_ASSIGN(m.input_name, text(*input, "name"));
    CLS_TRY_ASSIGN(m.input_channels, integer(*input, "channels", 1, 64));
    CLS_TRY_ASSIGN(m.output_name, text(*output, "name"));
    CLS_TRY_ASSIGN(m.output_channels, integer(*output, "channels", 1, 64));
    std::string activation;
    CLS_TRY_ASSIGN(activation, text(*output, "activation"));
    CLS_TRY_ASSIGN(m.activation, parse_activation(activation));
    if (m.activation == Activation::softmax)
        CLS_TRY_ASSIGN(m.lesion_class, integer(*output, "lesion_class", 0, 63));

    CLS_TRY_ASSIGN(m.patch_size, triple<std::int64_t>(document, "patch_size"));
    if (document.contains("spatial_divisor"))
        CLS_TRY_ASSIGN(m.spatial_divisor, integer(document, "spatial_divisor", 1, 64));
    CLS_TRY_ASSIGN(m.spacing_mm, triple<double>(document, "spacing_mm"));
    const json* normalisation = nullptr;
    CLS_TRY_ASSIGN(normalisation, object_member(document, "normalisation"));
    CLS_TRY_ASSIGN(m.normalisation, parse_normalisation(*normalisation));
    if (auto provenance = document.find("provenance"); provenance != document.end())
        m.provenance_json = provenance->dump(2);
    if (Status valid = validate(m); !valid) return valid.error();
    return m;
}

std::string to_json(const ModelManifest& m) {
    json output = {{"name", m.output_name},
                   {"channels", m.output_channels},
                   {"activation", to_string(m.activation)}};
    if (m.activation == Activation::softmax) output["lesion_class"] = m.lesion_class;
    json provenance = json::parse(m.provenance_json, nullptr, false);
    json document = {
        {"format", kFormat},
        {"name", m.name},
        {"description", m.description},
        {"model_file", m.model_file},
        {"sha256", m.sha256},
        {"input", {{"name", m.input_name}, {"channels", m.input_channels}}},
        {"output", std::move(output)},
        {"patch_size", m.patch_size},
        {"spatial_divisor", m.spatial_divisor},
        {"spacing_mm", m.spacing_mm},
        {"normalisation", normalisation_to_json(m.normalisation)},
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
    if (output == nullptr)
        return make_error("the model has no output named '" + manifest.output_name + "'");
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
