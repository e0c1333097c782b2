// SVG elements as text, with the escaping and number formatting every chart needs. Numbers
// are printed with snprintf in the C locale, so output is byte-identical everywhere. Private
// to the report library.
#pragma once

#include <cmath>
#include <cstdio>
#include <string>
#include <string_view>
#include <vector>

namespace cls::report::detail {

inline std::string number(double x, int decimals = 2) {
    char text[64];
    std::snprintf(text, sizeof text, "%.*f", decimals, x);
    std::string s = text;
    // "-0.00" is a rounded tiny negative (or -0): print it as "0.00".
    if (s[0] == '-' && s.find_first_not_of("-0.") == std::string::npos) s.erase(0, 1);
    return s;
}

// Decimals that show a tick step exactly (0.25 -> 2, 5 -> 0).
inline int decimals_for_step(double step) {
    int decimals = 0;
    while (decimals < 9 && std::fabs(step * std::pow(10.0, decimals) -
                                     std::round(step * std::pow(10.0, decimals))) > 1e-6) {
        ++decimals;
    }
    return decimals;
}

inline std::string escape(std::string_view text) {
    std::string out;
    for (char c : text) {
        switch (c) {
            case '&':
                out += "&amp;";
                break;
            case '<':
                out += "&lt;";
                break;
            case '>':
                out += "&gt;";
                break;
            case '"':
                out += "&quot;";
                break;
            default:
                out += c;
        }
    }
    return out;
}

enum class Anchor { start, middle, end };

class SvgWriter {
public:
    SvgWriter(double width, double height) {
        out_ = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" + number(width, 0) +
               "\" height=\"" + number(height, 0) + "\" viewBox=\"0 0 " + number(width, 0) + " " +
               number(height, 0) +
               "\" font-family=\"Helvetica, Arial, sans-serif\" font-size=\"12\">\n";
        rect(0, 0, width, height, "#ffffff", "none");
    }

    void raw(std::string_view text) { out_ += text; }

    void rect(double x, double y, double w, double h, std::string_view fill,
              std::string_view stroke, std::string_view extra = "") {
        out_ += "<rect x=\"" + number(x) + "\" y=\"" + number(y) + "\" width=\"" + number(w) +
                "\" height=\"" + number(h) + "\" fill=\"" + std::string(fill) + "\" stroke=\"" +
                std::string(stroke) + "\"" + std::string(extra) + "/>\n";
    }

    void line(double x1, double y1, double x2, double y2, std::string_view stroke,
              double width = 1.0, bool dashed = false) {
        out_ += "<line x1=\"" + number(x1) + "\" y1=\"" + number(y1) + "\" x2=\"" + number(x2) +
                "\" y2=\"" + number(y2) + "\" stroke=\"" + std::string(stroke) +
                "\" stroke-width=\"" + number(width, 1) + "\"" +
                (dashed ? " stroke-dasharray=\"6 4\"" : "") + "/>\n";
    }

    void polyline(const std::vector<std::pair<double, double>>& points, std::string_view stroke,
                  bool dashed, std::string_view extra = "") {
        if (points.size() < 2) return;
        out_ += "<polyline fill=\"none\" stroke=\"" + std::string(stroke) +
                "\" stroke-width=\"2\" stroke-linejoin=\"round\"" +
                (dashed ? " stroke-dasharray=\"6 4\"" : "") + std::string(extra) + " points=\"";
        for (std::size_t i = 0; i < points.size(); ++i) {
            if (i > 0) out_ += ' ';
            out_ += number(points[i].first);
            out_ += ',';
            out_ += number(points[i].second);
        }
        out_ += "\"/>\n";
    }

    void circle(double x, double y, double r, std::string_view fill, double opacity) {
        out_ += "<circle cx=\"" + number(x) + "\" cy=\"" + number(y) + "\" r=\"" + number(r, 1) +
                "\" fill=\"" + std::string(fill) + "\"" +
                (opacity < 1.0 ? " fill-opacity=\"" + number(opacity, 2) + "\"" : "") + "/>\n";
    }

    void text(double x, double y, std::string_view content, Anchor anchor = Anchor::start,
              std::string_view extra = "") {
        static constexpr const char* kAnchor[] = {"start", "middle", "end"};
        out_ += "<text x=\"" + number(x) + "\" y=\"" + number(y) + "\" text-anchor=\"" +
                kAnchor[static_cast<int>(anchor)] + "\"" + std::string(extra) + ">" +
                escape(content) + "</text>\n";
    }

    [[nodiscard]] std::string finish() && {
        out_ += "</svg>\n";
        return std::move(out_);
    }

private:
    std::string out_;
};

}  // namespace cls::report::detail
