// A file a report consists of, as text: the core renders, the edges (CLI, browser) write.
#pragma once

#include <string>

namespace cls::report {

struct ReportFile {
    std::string name;  // a file name, no folder
    std::string content;
};

}  // namespace cls::report
