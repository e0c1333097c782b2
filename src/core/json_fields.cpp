#include "cls/json_fields.hpp"

#include "cls/calibration.hpp"

namespace cls {

using nlohmann::json;

Result<const json*> FieldReader::member(const std::string& key) const {
    auto it = object_.find(key);
    if (it == object_.end()) return error(key, "is missing");
    return &*it;
}

Result<const json*> FieldReader::object(const std::string& key) const {
    auto value = member(key);
    if (value && !(*value)->is_object()) return error(key, "must be an object");
    return value;
}

Result<double> FieldReader::number(const std::string& key) const {
    auto value = member(key);
    if (!value) return value.error();
    if (!(*value)->is_number()) return error(key, "must be a number");
    return (*value)->get<double>();
}

Result<double> FieldReader::threshold(const std::string& key) const {
    auto it = object_.find(key);
    if (it != object_.end() && it->is_null()) return kInfinity;
    return number(key);
}

Result<std::size_t> FieldReader::count(const std::string& key) const {
    auto value = member(key);
    if (!value) return value.error();
    if (!(*value)->is_number_unsigned()) return error(key, "must be a count");
    return (*value)->get<std::size_t>();
}

Result<std::int64_t> FieldReader::integer(const std::string& key, std::int64_t lo,
                                          std::int64_t hi) const {
    auto value = member(key);
    if (!value) return value.error();
    if (!(*value)->is_number_integer()) return error(key, "must be an integer");
    const auto v = (*value)->get<std::int64_t>();
    if (v < lo || v > hi) {
        return error(key, "must be in " + std::to_string(lo) + ".." + std::to_string(hi) +
                              " (it is " + std::to_string(v) + ")");
    }
    return v;
}

Result<std::string> FieldReader::text(const std::string& key) const {
    auto value = member(key);
    if (!value) return value.error();
    if (!(*value)->is_string()) return error(key, "must be a string");
    return (*value)->get<std::string>();
}

std::string FieldReader::optional_text(const std::string& key) const {
    auto it = object_.find(key);
    return it != object_.end() && it->is_string() ? it->get<std::string>() : std::string();
}

}  // namespace cls
