#pragma once

#include <string>
#include <utility>
#include <vector>

namespace ringtail::bench {

struct ChartSeries {
    std::string label;
    std::string color;                              // an SVG color, e.g. "#1f77b4"
    std::vector<std::pair<double, double>> points;  // (message size in bytes, msgs/s)
};

struct ChartPanel {
    std::string title;
    std::vector<ChartSeries> series;
};

// A self-contained SVG (a series without points is listed as n/a) of message rate against message
// size: one panel per scenario, two columns, size on a log2 axis, rate on a linear axis from zero.
// Written by hand (no plotting dependency), so that the report renders anywhere an SVG does.
std::string render_rate_chart(const std::vector<ChartPanel>& panels, const std::string& title,
                              const std::vector<std::string>& subtitles);

// 1536 -> "1.5 KiB", 16 -> "16 B"
std::string size_label(double bytes);
// 2500000 -> "2.5M"
std::string rate_label(double rate);

}  // namespace ringtail::bench
