#include "bench/harness/chart.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <set>

namespace ringtail::bench {

namespace {

constexpr double kPanelWidth = 460;
constexpr double kPanelHeight = 300;
constexpr double kMarginLeft = 64;
constexpr double kMarginRight = 16;
constexpr double kMarginTop = 36;
constexpr double kMarginBottom = 42;
constexpr double kHeaderHeight = 70;

std::string number(double value) {
    char buffer[32];
    std::snprintf(buffer, sizeof buffer, "%.1f", value);
    return buffer;
}

std::string escape(const std::string& text) {
    std::string out;
    for (char c : text) {
        switch (c) {
            case '<':
                out += "&lt;";
                break;
            case '>':
                out += "&gt;";
                break;
            case '&':
                out += "&amp;";
                break;
            default:
                out += c;
        }
    }
    return out;
}

// The step of about five "nice" ticks (1, 2 or 5 times a power of ten) from 0 to `top`.
double tick_step(double top) {
    const double raw = top / 5;
    const double power = std::pow(10.0, std::floor(std::log10(raw)));
    for (double factor : {1.0, 2.0, 5.0, 10.0}) {
        if (raw <= factor * power) return factor * power;
    }
    return 10 * power;
}

std::string text_at(double x, double y, const std::string& text, const char* anchor, int size,
                    const char* extra = "") {
    return "<text x=\"" + number(x) + "\" y=\"" + number(y) + "\" text-anchor=\"" + anchor +
           "\" font-size=\"" + std::to_string(size) + "\"" + extra + ">" + escape(text) +
           "</text>\n";
}

std::string line(double x1, double y1, double x2, double y2, const char* style) {
    return "<line x1=\"" + number(x1) + "\" y1=\"" + number(y1) + "\" x2=\"" + number(x2) +
           "\" y2=\"" + number(y2) + "\" " + style + "/>\n";
}

std::string panel_svg(const ChartPanel& panel, double left, double top) {
    std::string out;
    const double plot_left = left + kMarginLeft;
    const double plot_right = left + kPanelWidth - kMarginRight;
    const double plot_top = top + kMarginTop;
    const double plot_bottom = top + kPanelHeight - kMarginBottom;
    std::set<double> sizes;
    double rate_max = 0;
    for (const ChartSeries& series : panel.series) {
        for (auto [size, rate] : series.points) {
            sizes.insert(std::max(size, 1.0));
            rate_max = std::max(rate_max, rate);
        }
    }
    out += text_at(left + kPanelWidth / 2, top + 20, panel.title, "middle", 14,
                   " font-weight=\"bold\"");
    if (sizes.empty())
        return out +
               text_at(left + kPanelWidth / 2, top + kPanelHeight / 2, "no data", "middle", 12);
    const double log_min = std::log2(*sizes.begin()) - 0.5;
    const double log_max = std::log2(*sizes.rbegin()) + 0.5;
    const double step = tick_step(rate_max > 0 ? rate_max * 1.1 : 1);
    const double y_top = std::ceil((rate_max > 0 ? rate_max * 1.05 : 1) / step) * step;
    auto x_of = [&](double size) {
        return plot_left + (std::log2(std::max(size, 1.0)) - log_min) / (log_max - log_min) *
                               (plot_right - plot_left);
    };
    auto y_of = [&](double rate) { return plot_bottom - rate / y_top * (plot_bottom - plot_top); };

    for (double tick = 0; tick <= y_top + step / 2; tick += step) {
        out += line(plot_left, y_of(tick), plot_right, y_of(tick), "stroke=\"#e0e0e0\"");
        out += text_at(plot_left - 6, y_of(tick) + 4, rate_label(tick), "end", 11);
    }
    for (double size : sizes) {
        out += line(x_of(size), plot_bottom, x_of(size), plot_bottom + 4, "stroke=\"#444\"");
        out += text_at(x_of(size), plot_bottom + 17, size_label(size), "middle", 11);
    }
    out += line(plot_left, plot_bottom, plot_right, plot_bottom, "stroke=\"#444\"");
    out += line(plot_left, plot_top, plot_left, plot_bottom, "stroke=\"#444\"");
    out += text_at(left + 14, (plot_top + plot_bottom) / 2, "msgs/s", "middle", 11,
                   (" transform=\"rotate(-90 " + number(left + 14) + " " +
                    number((plot_top + plot_bottom) / 2) + ")\"")
                       .c_str());
    out += text_at((plot_left + plot_right) / 2, plot_bottom + 34, "message size (payload)",
                   "middle", 11);

    double legend_y = plot_top + 4;
    for (const ChartSeries& series : panel.series) {
        std::vector<std::pair<double, double>> points = series.points;
        std::sort(points.begin(), points.end());
        std::string path;
        for (auto [size, rate] : points)
            path += number(x_of(size)) + "," + number(y_of(rate)) + " ";
        out += "<polyline fill=\"none\" stroke=\"" + series.color +
               "\" stroke-width=\"2\" points=\"" + path + "\"/>\n";
        for (auto [size, rate] : points) {
            out += "<circle cx=\"" + number(x_of(size)) + "\" cy=\"" + number(y_of(rate)) +
                   "\" r=\"3.5\" fill=\"" + series.color + "\"/>\n";
        }
        out += line(plot_right - 150, legend_y, plot_right - 130, legend_y,
                    ("stroke=\"" + series.color + "\" stroke-width=\"3\"").c_str());
        out += text_at(plot_right - 124, legend_y + 4,
                       series.label + (points.empty() ? " (n/a)" : ""), "start", 11);
        legend_y += 16;
    }
    return out;
}

}  // namespace

std::string size_label(double bytes) {
    char buffer[32];
    if (bytes >= 1024 * 1024) {
        std::snprintf(buffer, sizeof buffer, "%g MiB", bytes / (1024 * 1024));
    } else if (bytes >= 1024) {
        std::snprintf(buffer, sizeof buffer, "%g KiB", bytes / 1024);
    } else {
        std::snprintf(buffer, sizeof buffer, "%g B", bytes);
    }
    return buffer;
}

std::string rate_label(double rate) {
    char buffer[32];
    if (rate >= 1e6) {
        std::snprintf(buffer, sizeof buffer, "%gM", std::round(rate / 1e5) / 10);
    } else if (rate >= 1e3) {
        std::snprintf(buffer, sizeof buffer, "%gk", std::round(rate / 1e2) / 10);
    } else {
        std::snprintf(buffer, sizeof buffer, "%g", rate);
    }
    return buffer;
}

std::string render_rate_chart(const std::vector<ChartPanel>& panels, const std::string& title,
                              const std::vector<std::string>& subtitles) {
    const size_t columns = panels.size() > 1 ? 2 : 1;
    const size_t rows = (panels.size() + columns - 1) / columns;
    const double width = kPanelWidth * static_cast<double>(columns);
    const double height =
        kHeaderHeight + kPanelHeight * static_cast<double>(std::max<size_t>(rows, 1));
    std::string out = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" + number(width) +
                      "\" height=\"" + number(height) + "\" viewBox=\"0 0 " + number(width) + " " +
                      number(height) + "\" font-family=\"sans-serif\">\n";
    out += "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n";
    out += text_at(width / 2, 22, title, "middle", 16, " font-weight=\"bold\"");
    double subtitle_y = 40;
    for (const std::string& subtitle : subtitles) {
        out += text_at(width / 2, subtitle_y, subtitle, "middle", 11, " fill=\"#555\"");
        subtitle_y += 14;
    }
    for (size_t i = 0; i < panels.size(); ++i) {
        const double left = kPanelWidth * static_cast<double>(i % columns);
        const double top = kHeaderHeight + kPanelHeight * static_cast<double>(i / columns);
        out += panel_svg(panels[i], left, top);
    }
    out += "</svg>\n";
    return out;
}

}  // namespace ringtail::bench
