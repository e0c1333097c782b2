#include "session_state.hpp"

#include <cmath>

#include "cls/settings_codec.hpp"

namespace cls::app {
namespace {

using nlohmann::json;

json exchangeability_json(Session& session, CaseId id) {
    const std::optional<ExchangeabilityCheck> check = session.exchangeability(id);
    if (!check) return nullptr;
    return {{"p_value", check->p_value},
            {"flagged", flagged(*check, session.flag_below())},
            {"compared_with", check->compared_with},
            {"image_statistics", check->with_intensity},
            {"furthest", to_string(check->most_unlike)}};
}

// A set-aside case against its label: at tau (null without one) and at 0.5.
json set_aside_json(Session& session, CaseId id) {
    const std::optional<SetAsideOutcome> o = session.set_aside_outcome(id);
    if (!o) return nullptr;
    const auto at = [](std::size_t predicted, const CaseOutcome& c) -> json {
        return {{"predicted_voxels", predicted}, {"fnr", c.fnr}, {"dice", c.dice}};
    };
    return {{"lesion_voxels", o->lesion_voxels},
            {"at_threshold",
             o->at_threshold ? at(o->predicted_at_threshold, *o->at_threshold) : json(nullptr)},
            {"at_half", at(o->predicted_at_half, o->at_half)}};
}

json cases_json(Session& session) {
    json cases = json::array();
    for (const LoadedCase& c : session.cases().cases()) {
        json files = json::object();
        for (Role role : kRoles) {
            if (c.volume(role)) files[role_name(role)] = c.files[static_cast<int>(role)];
        }
        cases.push_back({{"name", c.name},
                         {"files", files},
                         {"labelled", c.labelled()},
                         {"calibrates", c.calibrates()},
                         {"set_aside", c.set_aside},
                         {"region_problem", c.region_problem},
                         {"exchangeability", exchangeability_json(session, c.id)}});
        if (c.scored) cases.back()["score"] = c.scored->file;
        if (c.set_aside) cases.back()["against_label"] = set_aside_json(session, c.id);
        if (!c.more_images.empty()) {
            json more = json::array();
            for (const ChannelImage& image : c.more_images) more.push_back(image.file);
            cases.back()["more_images"] = std::move(more);  // other modalities, as they came
        }
    }
    return cases;
}

json validation_json(const ValidationJob& validation) {
    json curves = json::object();
    std::size_t scatter_cases = 0;
    if (const auto& r = validation.result()) {
        for (const CoverageCurve& curve : r->curves) {
            json points = json::array();
            for (const CoveragePoint& p : curve.points) points.push_back({p.alpha, p.coverage});
            curves[std::string(to_string(curve.method))] = points;
        }
        scatter_cases = r->cls_cases.size();
    }
    return {{"running", validation.running()},
            {"progress", validation.progress()},
            {"error", validation.error()},
            {"calibration_cases", validation.result() ? validation.result()->calibration_cases : 0},
            {"coverage", curves},
            {"scatter_cases", scatter_cases}};
}

json model_json(const ModelSlot& model, const InferenceQueue& inference) {
    const auto& manifest = model.manifest();
    return {{"status", to_string(model.status())},
            {"file", model.file_name()},
            {"name", manifest ? manifest->name : ""},
            {"provider", model.provider()},
            {"provider_note", model.provider_note()},
            {"webgpu_blocked_by", model.audit().blocking},
            {"webgpu_rewrites", model.webgpu_rewrites()},
            {"error", model.error()},
            {"running", inference.busy()},
            {"current", inference.current_case()},
            {"runs_done", inference.runs_done()},
            {"run_count", inference.run_count()},
            {"cases_done", inference.cases_done()},
            {"cases_total", inference.cases_total()},
            {"patches_run", inference.patches_run()},
            {"patches_skipped", inference.patches_skipped()},
            {"grid_note", inference.grid_note()}};
}

json lesion_json(const LesionChoice& choice) {
    const LesionDefinition& lesion = choice.definition();
    json question = nullptr;
    if (const auto& q = choice.question()) {
        const bool channels = q->kind == LesionChoice::Question::Kind::channels;
        question = {{"kind", channels ? "channels" : "labels"},
                    {"file", q->path},
                    {"channel_count", q->channel_count},
                    {"label_values", q->label_values}};
    }
    return {{"channels", lesion.channels.single() ? json(nullptr) : json(lesion.channels.channels)},
            {"combine", to_string(lesion.channels.combine)},
            {"labels", labels_text(lesion.labels)},
            {"question", question}};
}

}  // namespace

json session_state(Session& session) {
    const Result<Calibration>& r = session.calibration();
    const double tau = session.threshold();
    const LoadingProgress loading = session.loading();
    const LoadedCase* selected = session.cases().find(session.selected());
    json settings = json::object();
    write_settings(settings, session.settings());
    settings["region_of_interest"] = to_string(session.region());
    settings["flag_below"] = session.flag_below();
    json kept = json::array();
    for (const KeptCalibration& k : session.kept().items()) kept.push_back(k.label);
    return {
        {"cases", cases_json(session)},
        {"region_missing", session.cases().region_missing_count()},
        {"loading",
         {{"pending", loading.pending},
          {"done", loading.done},
          {"total", loading.total},
          {"cancels", loading.cancels}}},
        {"errors", session.errors()},
        {"notes", session.notes()},
        {"settings", settings},
        {"tau", std::isfinite(tau) ? json(tau) : json(nullptr)},
        {"tau_is_infinite", tau == kInfinity},
        {"calibration_error", r ? json(nullptr) : json(r.error().message)},
        {"n", r ? json(r->n) : json(nullptr)},
        {"k", r ? json(r->k) : json(nullptr)},
        {"imported_certificate",
         session.imported() ? json(session.imported_name()) : json(nullptr)},
        {"imported_certificate_calibration_cases", session.cases_calibrated_by_import()},
        {"selected", selected ? selected->name : ""},
        {"validation", validation_json(session.validation())},
        {"model", model_json(session.model(), session.inference())},
        {"kept_calibrations", kept},
        {"lesion", lesion_json(session.lesion())},
    };
}

}  // namespace cls::app
