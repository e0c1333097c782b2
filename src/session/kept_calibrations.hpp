// The calibrations a user chose to keep in the browser (IndexedDB, never uploaded): each a
// certificate with a label saying what it is, to be used again on new cases, exported or
// forgotten after a reload. Stored as one JSON document, read back strictly: an entry whose
// certificate does not parse is dropped.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "cls/certificate.hpp"

namespace cls::app {

struct KeptCalibration {
    std::string label;  // "cls, eps 0.1, alpha 0.1, n 24: tau 0.0412"
    std::string certificate_json;
};

class KeptCalibrations {
public:
    void keep(const Certificate& certificate);
    void forget(std::size_t index);
    [[nodiscard]] const std::vector<KeptCalibration>& items() const { return items_; }

    [[nodiscard]] std::string to_json() const;
    // Replaces the list with the one stored; entries that do not read are dropped.
    void restore(std::string_view json);

private:
    std::vector<KeptCalibration> items_;
};

}  // namespace cls::app
