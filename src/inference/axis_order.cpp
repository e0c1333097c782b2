#include "cls/inference/axis_order.hpp"

namespace cls::inference {

std::string_view to_string(AxisOrder order) { return name_of(kAxisOrderNames, order); }

Result<AxisOrder> parse_axis_order(std::string_view text) {
    return parse_name(kAxisOrderNames, text, "axis_order");
}

Reorientation reorientation_for(AxisOrder order, const Affine& voxel_to_world) {
    return order == AxisOrder::ras ? closest_ras(voxel_to_world) : Reorientation{};
}

}  // namespace cls::inference
