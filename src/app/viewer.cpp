#include "viewer.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <iterator>
#include <limits>

namespace cls::app {
namespace {

constexpr ImU32 kCrosshair = IM_COL32(255, 255, 0, 150);

std::int64_t clamp_index(std::int64_t v, std::int64_t extent) {
    return std::clamp<std::int64_t>(v, 0, std::max<std::int64_t>(extent - 1, 0));
}

// Where a radiologist would look first: the lesion voxel nearest the lesions' centre of mass,
// else the most probable voxel, else the centre.
Voxel point_of_interest(const LoadedCase& c) {
    const Volume* grid = nullptr;
    for (Role role : kRoles) {
        if (const Volume* v = c.volume(role)) grid = v;
    }
    const Dims& d = grid->dims();  // every case holds at least one volume
    const auto voxel_of = [&](std::size_t i) {
        const auto index = static_cast<std::int64_t>(i);
        return Voxel{index % d[0], (index / d[0]) % d[1], index / (d[0] * d[1])};
    };
    if (const Volume* label = c.volume(Role::label)) {
        Eigen::Vector3d sum = Eigen::Vector3d::Zero();
        std::size_t count = 0;
        for (std::size_t i = 0; i < label->voxel_count(); ++i) {
            if (label->data()[i] == 0.0f) continue;
            const Voxel v = voxel_of(i);
            sum += Eigen::Vector3d(static_cast<double>(v[0]), static_cast<double>(v[1]),
                                   static_cast<double>(v[2]));
            ++count;
        }
        if (count > 0) {
            const Eigen::Vector3d centre = sum / static_cast<double>(count);
            std::size_t best = 0;
            double best_distance = std::numeric_limits<double>::infinity();
            for (std::size_t i = 0; i < label->voxel_count(); ++i) {
                if (label->data()[i] == 0.0f) continue;
                const Voxel v = voxel_of(i);
                const double distance =
                    (Eigen::Vector3d(static_cast<double>(v[0]), static_cast<double>(v[1]),
                                     static_cast<double>(v[2])) -
                     centre)
                        .squaredNorm();
                if (distance < best_distance) best_distance = distance, best = i;
            }
            return voxel_of(best);
        }
    }
    if (const Volume* p = c.volume(Role::probability)) {
        const auto& values = p->values();
        const auto peak = std::max_element(values.begin(), values.end());
        if (peak != values.end() && *peak > 0.0f)
            return voxel_of(static_cast<std::size_t>(peak - values.begin()));
    }
    return {d[0] / 2, d[1] / 2, d[2] / 2};
}

// One overlay's switch and opacity on a line.
void overlay_row(const char* label, const char* slider_id, bool& shown, float& opacity) {
    ImGui::Checkbox(label, &shown);
    ImGui::SameLine(260);
    ImGui::SetNextItemWidth(-1);
    ImGui::SliderFloat(slider_id, &opacity, 0, 1, "%.2f");
}

}  // namespace

const Volume* Viewer::grid() const {
    if (!case_) return nullptr;
    for (Role role : kRoles) {
        if (const Volume* v = case_->volume(role)) return v;
    }
    return nullptr;
}

SliceLayers Viewer::layers() const {
    return {case_->volume(Role::image), case_->volume(Role::probability),
            case_->volume(Role::label), case_->region_volume(rendered_with_.region)};
}

void Viewer::attach(const LoadedCase* c) {
    case_ = c;
    const CaseId id = c ? c->id : 0;
    if (id == shown_id_) {
        if (c == nullptr || c->revision == shown_revision_) return;
        // More files of the shown case (its label may have just arrived): look at the lesion,
        // unless the user has moved the crosshair; keep the window either way.
        shown_revision_ = c->revision;
        dirty_ = true;
        if (!cursor_moved_) cursor_ = point_of_interest(*c);
        return;
    }
    shown_id_ = id;
    shown_revision_ = c ? c->revision : 0;
    dirty_ = true;
    cursor_moved_ = false;
    views_ = {};
    const Volume* g = grid();
    if (!g) return;
    cursor_ = point_of_interest(*c);
    const Volume* base =
        c->volume(Role::image) ? c->volume(Role::image) : c->volume(Role::probability);
    window_ = base ? percentile_window(*base) : Window{0.5, 1.0};
}

void Viewer::set_cursor(const LoadedCase* c, const Voxel& voxel) {
    attach(c);
    move_cursor(voxel);
    case_ = nullptr;
}

void Viewer::move_cursor(const Voxel& voxel) {
    const Volume* g = grid();
    if (!g) return;
    cursor_moved_ = true;
    for (int axis = 0; axis < 3; ++axis) cursor_[axis] = clamp_index(voxel[axis], g->dims()[axis]);
    dirty_ = true;
}

void Viewer::draw(Platform& platform, const OverlaySettings& overlays, const LoadedCase* c) {
    attach(c);
    draw_views(platform, overlays);
    case_ = nullptr;
}

void Viewer::draw_views(Platform& platform, const OverlaySettings& overlays) {
    if (!grid()) {
        ImGui::TextDisabled("No case to show. Load files or press \"Load demo\".");
        return;
    }
    if (!(overlays == rendered_with_)) {
        rendered_with_ = overlays;
        dirty_ = true;
    }
    rendered_with_.window_center = window_.center;
    rendered_with_.window_width = window_.width;
    const ImVec2 avail = ImGui::GetContentRegionAvail();
    if (maximised_) {
        rects_ = {};
        draw_view(platform, *maximised_, avail);
    } else {
        const ImVec2 cell{avail.x / 2 - 4, avail.y / 2 - 4};
        draw_view(platform, View::axial, cell);
        ImGui::SameLine();
        draw_view(platform, View::coronal, cell);
        draw_view(platform, View::sagittal, cell);
        ImGui::SameLine();
        ImGui::BeginChild("readout", cell, true);
        ImGui::TextUnformatted(readout().c_str());
        ImGui::EndChild();
    }
    dirty_ = false;
}

void Viewer::draw_view(Platform& platform, View view, ImVec2 size) {
    const int index = static_cast<int>(view);
    ViewState& state = views_[index];
    const SliceGeometry geometry(*grid(), view, radiological_);
    const std::int64_t slice = cursor_[geometry.normal_axis()];
    if (dirty_ || state.texture == nullptr) {
        const auto start = std::chrono::steady_clock::now();
        render_slice(layers(), geometry, slice, rendered_with_, state.image);
        state.texture = platform.upload_texture(index, state.image);
        last_redraw_ms_[static_cast<std::size_t>(index)] =
            std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
                .count();
    }

    ImGui::BeginChild(view_name(view), size, true,
                      ImGuiWindowFlags_NoScrollbar | ImGuiWindowFlags_NoScrollWithMouse);
    ImGui::Text("%s  %lld/%lld", view_name(view), static_cast<long long>(slice + 1),
                static_cast<long long>(geometry.slice_count()));
    const ImVec2 area = ImGui::GetContentRegionAvail();
    const ImVec2 top_left = ImGui::GetCursorScreenPos();
    // Fit the slice's physical extent (mm) into the area, then apply zoom and pan.
    const double width_mm = geometry.width() * geometry.pixel_width_mm();
    const double height_mm = geometry.height() * geometry.pixel_height_mm();
    const float fit = static_cast<float>(std::min(area.x / width_mm, area.y / height_mm));
    const float scale_x = fit * state.zoom * static_cast<float>(geometry.pixel_width_mm());
    const float scale_y = fit * state.zoom * static_cast<float>(geometry.pixel_height_mm());
    const ImVec2 image_size{scale_x * geometry.width(), scale_y * geometry.height()};
    const ImVec2 origin{top_left.x + (area.x - image_size.x) / 2 + state.pan.x,
                        top_left.y + (area.y - image_size.y) / 2 + state.pan.y};
    ImDrawList* draw = ImGui::GetWindowDrawList();
    draw->PushClipRect(top_left, {top_left.x + area.x, top_left.y + area.y}, true);
    draw->AddImage(state.texture, origin, {origin.x + image_size.x, origin.y + image_size.y});
    const auto [cx, cy] = geometry.pixel_of(cursor_);
    const float x = origin.x + (static_cast<float>(cx) + 0.5f) * scale_x;
    const float y = origin.y + (static_cast<float>(cy) + 0.5f) * scale_y;
    draw->AddLine({x, top_left.y}, {x, top_left.y + area.y}, kCrosshair);
    draw->AddLine({top_left.x, y}, {top_left.x + area.x, y}, kCrosshair);
    draw->PopClipRect();
    rects_[index] = {origin.x, origin.y, image_size.x, image_size.y};

    ImGui::InvisibleButton("canvas", area,
                           ImGuiButtonFlags_MouseButtonLeft | ImGuiButtonFlags_MouseButtonRight |
                               ImGuiButtonFlags_MouseButtonMiddle);
    handle_input(view, geometry, origin, scale_x, scale_y);
    ImGui::EndChild();
}

void Viewer::handle_input(View view, const SliceGeometry& geometry, ImVec2 origin, float scale_x,
                          float scale_y) {
    ViewState& state = views_[static_cast<int>(view)];
    const ImGuiIO& io = ImGui::GetIO();
    const bool hovered = ImGui::IsItemHovered();
    const int normal = geometry.normal_axis();
    if (hovered && io.MouseWheel != 0.0f) {
        if (io.KeyCtrl) {
            state.zoom =
                std::clamp(state.zoom * (io.MouseWheel > 0 ? 1.15f : 1 / 1.15f), 0.25f, 20.0f);
        } else {
            Voxel next = cursor_;
            next[normal] += io.MouseWheel > 0 ? 1 : -1;
            move_cursor(next);
        }
    }
    if (hovered && (ImGui::IsKeyPressed(ImGui::GetKeyIndex(ImGuiKey_UpArrow)) ||
                    ImGui::IsKeyPressed(ImGui::GetKeyIndex(ImGuiKey_DownArrow)))) {
        Voxel next = cursor_;
        next[normal] += ImGui::IsKeyPressed(ImGui::GetKeyIndex(ImGuiKey_UpArrow)) ? 1 : -1;
        move_cursor(next);
    }
    if (hovered && ImGui::IsMouseDoubleClicked(ImGuiMouseButton_Left)) {
        maximised_ = maximised_ ? std::nullopt : std::optional<View>(view);
        return;
    }
    const bool panning =
        ImGui::IsItemActive() && (ImGui::IsMouseDragging(ImGuiMouseButton_Middle) ||
                                  (io.KeyShift && ImGui::IsMouseDragging(ImGuiMouseButton_Left)));
    if (panning) {
        state.pan.x += io.MouseDelta.x;
        state.pan.y += io.MouseDelta.y;
    } else if (ImGui::IsItemActive() && ImGui::IsMouseDown(ImGuiMouseButton_Left)) {
        const int column = static_cast<int>(std::floor((io.MousePos.x - origin.x) / scale_x));
        const int row = static_cast<int>(std::floor((io.MousePos.y - origin.y) / scale_y));
        if (column >= 0 && row >= 0 && column < geometry.width() && row < geometry.height()) {
            move_cursor(geometry.voxel_at(column, row, cursor_));
        }
    }
    if (ImGui::IsItemActive() && ImGui::IsMouseDragging(ImGuiMouseButton_Right)) {
        // Drag right for a wider window, down for a higher level, in proportion to the width.
        const double step = std::max(window_.width, 1e-6) / 200.0;
        window_.width = std::max(1e-6, window_.width + io.MouseDelta.x * step);
        window_.center += io.MouseDelta.y * step;
        dirty_ = true;
    }
}

void Viewer::draw_controls(OverlaySettings& o, const LoadedCase* c) {
    attach(c);
    draw_display_options(o);
    case_ = nullptr;
}

void Viewer::draw_display_options(OverlaySettings& o) {
    if (ImGui::Checkbox("Radiological (patient's right on screen left)", &radiological_))
        dirty_ = true;
    const Volume* base = case_ ? (case_->volume(Role::image) ? case_->volume(Role::image)
                                                             : case_->volume(Role::probability))
                               : nullptr;
    ImGui::Text("Window %.4g  Level %.4g", window_.width, window_.center);
    if (base) {
        // Computed only when pressed: the automatic ones scan the image.
        const auto preset = [&](const char* label, auto compute_window) {
            if (ImGui::SmallButton(label)) {
                window_ = compute_window();
                dirty_ = true;
            }
        };
        preset("Auto 1-99%", [&] { return percentile_window(*base); });
        ImGui::SameLine();
        preset("Full range", [&] { return full_range_window(*base); });
        ImGui::SameLine();
        preset("CT brain", [] { return Window{40, 80}; });
        ImGui::SameLine();
        preset("CT soft tissue", [] { return Window{40, 400}; });
    }
    overlay_row("Probability heat map", "##heat", o.heat_map, o.heat_opacity);
    overlay_row("Label contour", "##label", o.label_contour, o.label_opacity);
    overlay_row("Mask at tau (calibrated)", "##tau", o.tau_mask, o.tau_opacity);
    overlay_row("Mask at 0.5", "##fixed", o.fixed_mask, o.fixed_opacity);
    overlay_row("Difference", "##difference", o.difference, o.difference_opacity);
    ImGui::TextDisabled("difference: magenta, voxels the guarantee adds; orange, those it drops");
}

std::string Viewer::readout() const {
    const Volume* g = grid();
    if (!g) return "";
    const Eigen::Vector3d world =
        g->world(Eigen::Vector3d(static_cast<double>(cursor_[0]), static_cast<double>(cursor_[1]),
                                 static_cast<double>(cursor_[2])));
    char text[512];
    int n = std::snprintf(
        text, sizeof text, "%s\nvoxel  (%lld, %lld, %lld)\nworld  (%.1f, %.1f, %.1f) mm\n",
        case_->name.c_str(), static_cast<long long>(cursor_[0]), static_cast<long long>(cursor_[1]),
        static_cast<long long>(cursor_[2]), world.x(), world.y(), world.z());
    const std::size_t i = g->index(cursor_[0], cursor_[1], cursor_[2]);
    constexpr const char* kReadoutNames[] = {"intensity", "label", "probability",
                                             "region"};  // by Role
    static_assert(std::size(kReadoutNames) == kRoles.size());
    for (Role role : kRoles) {
        if (const Volume* v = case_->volume(role);
            v && n > 0 && n < static_cast<int>(sizeof text)) {
            n += std::snprintf(text + n, sizeof text - static_cast<std::size_t>(n), "%-12s %.6g\n",
                               kReadoutNames[static_cast<int>(role)],
                               static_cast<double>(v->data()[i]));
        }
    }
    return text;
}

}  // namespace cls::app
