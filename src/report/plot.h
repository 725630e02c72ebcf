// Plots for reports, drawn by gnuplot: x-y charts of named series (lines and/or points) and bar
// charts of per-layer values. Each chart is written as `<stem>.png` (pngcairo) and `<stem>.svg`
// side by side. gnuplot draws both into temporary files beside the targets; only when both are
// complete are they renamed into place, so a failure leaves any previous pair untouched.
//
// gnuplot is looked up as $FAMES_GNUPLOT if set, else `gnuplot` on $PATH (Debian: gnuplot-nox).
// Errors (gnuplot missing, gnuplot failing, unwritable folder, series with mismatched lengths)
// throw fames::Error naming the output or the series. Labels are printed literally (no gnuplot
// "enhanced" markup), so layer names with underscores stay intact. Thread-safe (no shared state).
#pragma once
#include <string>
#include <vector>

namespace fames::report {

enum class SeriesStyle { kLines, kPoints, kLinesPoints };

struct Series {
  std::string name;           // legend entry
  std::vector<double> x, y;   // same length; non-finite values are left out of the plot
  SeriesStyle style = SeriesStyle::kLinesPoints;
};

struct XYChart {
  std::string title, x_label, y_label;
  std::vector<Series> series;  // at least one
};

struct BarSeries {
  std::string name;            // legend entry
  std::vector<double> values;  // one per category
};

struct BarChart {
  std::string title, y_label;
  std::vector<std::string> categories;  // x-axis labels (e.g. layer names), printed rotated
  std::vector<BarSeries> series;        // at least one; bars of one category are grouped
};

// Writes `<stem>.png` and `<stem>.svg` (creating the folder). `stem` has no extension.
void write_chart(const XYChart& chart, const std::string& stem);
void write_chart(const BarChart& chart, const std::string& stem);

// The gnuplot program that would be run, or "" if none is found.
std::string find_gnuplot();

// The gnuplot script for a chart with outputs `png_path` and `svg_path` (for tests and debugging).
std::string gnuplot_script(const XYChart& chart, const std::string& png_path,
                           const std::string& svg_path);
std::string gnuplot_script(const BarChart& chart, const std::string& png_path,
                           const std::string& svg_path);

}  // namespace fames::report
