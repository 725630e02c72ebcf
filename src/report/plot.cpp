#include "report/plot.h"

#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <sstream>

#include <fmt/format.h>

#include "util/error.h"
#include "util/files.h"

namespace fames::report {
namespace {
namespace fs = std::filesystem;

// A gnuplot single-quoted string: no escapes are interpreted inside, a quote is doubled.
std::string quoted(const std::string& text) {
  std::string out = "'";
  for (char c : text) {
    if (c == '\n') c = ' ';
    out += c;
    if (c == '\'') out += '\'';
  }
  return out + "'";
}

// A POSIX shell single-quoted word.
std::string shell_quoted(const std::string& text) {
  std::string out = "'";
  for (char c : text) {
    if (c == '\'')
      out += "'\\''";
    else
      out += c;
  }
  return out + "'";
}

// A category label inside a data block: double-quoted, without characters that would end it.
std::string data_label(const std::string& text) {
  std::string out = "\"";
  for (char c : text) out += (c == '"' || c == '\n' || c == '\\') ? '_' : c;
  return out + "\"";
}

std::string number(double v) { return std::isfinite(v) ? fmt::format("{:.10g}", v) : "NaN"; }

// Terminal settings and the output file, for the PNG and then the SVG rendering.
std::string terminals_and(const std::string& plot_commands, const std::string& png,
                          const std::string& svg, int width, int height) {
  std::string s;
  s += fmt::format("set terminal pngcairo noenhanced size {},{} font 'sans,10'\n", width, height);
  s += "set output " + quoted(png) + "\n" + plot_commands + "unset output\n";
  s += fmt::format("set terminal svg noenhanced size {},{} font 'sans,10' background '#ffffff'\n",
                   width, height);
  s += "set output " + quoted(svg) + "\n" + plot_commands + "unset output\n";
  return s;
}

std::string header(const std::string& title, const std::string& y_label) {
  std::string s = "set encoding utf8\nset termoption noenhanced\n";
  if (!title.empty()) s += "set title " + quoted(title) + "\n";
  if (!y_label.empty()) s += "set ylabel " + quoted(y_label) + "\n";
  s += "set grid ytics lc rgb '#dddddd'\nset key outside right top\n";
  return s;
}

std::string style_name(SeriesStyle style) {
  switch (style) {
    case SeriesStyle::kLines:
      return "lines";
    case SeriesStyle::kPoints:
      return "points";
    case SeriesStyle::kLinesPoints:
      return "linespoints";
  }
  return "linespoints";
}

// Runs gnuplot on `script`; throws with gnuplot's own message on failure.
void run_gnuplot(const std::string& script, const std::string& what) {
  const std::string program = find_gnuplot();
  if (program.empty())
    fail("cannot draw '{}': gnuplot is not installed (Debian: apt-get install gnuplot-nox; or set "
         "FAMES_GNUPLOT)",
         what);
  const std::string script_path = temp_path_for(what + ".gp");
  write_file_atomic(script_path, script);
  const std::string command =
      shell_quoted(program) + " " + shell_quoted(script_path) + " 2>&1 </dev/null";
  std::string output;
  FILE* pipe = popen(command.c_str(), "r");
  if (!pipe) {
    std::error_code ec;
    fs::remove(script_path, ec);
    fail("cannot draw '{}': cannot start gnuplot '{}'", what, program);
  }
  std::array<char, 1024> buffer{};
  while (fgets(buffer.data(), buffer.size(), pipe)) output += buffer.data();
  const int status = pclose(pipe);
  std::error_code ec;
  fs::remove(script_path, ec);
  if (status == -1 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    while (!output.empty() && (output.back() == '\n' || output.back() == ' ')) output.pop_back();
    const size_t cut = output.rfind('\n');
    fail("cannot draw '{}': gnuplot '{}' failed: {}", what, program,
         output.empty() ? "no message" : output.substr(cut == std::string::npos ? 0 : cut + 1));
  }
}

// Draws `script_for(png_temp, svg_temp)`, then renames both temporaries to stem.png / stem.svg.
template <typename Chart>
void draw(const Chart& chart, const std::string& stem) {
  const std::string png = stem + ".png", svg = stem + ".svg";
  const std::string png_temp = temp_path_for(png), svg_temp = temp_path_for(svg);
  try {
    run_gnuplot(gnuplot_script(chart, png_temp, svg_temp), stem);
    std::error_code ec;
    if (!fs::exists(png_temp, ec) || !fs::exists(svg_temp, ec))
      fail("cannot draw '{}': gnuplot wrote no output", stem);
    commit_temp_file(png_temp, png);
    commit_temp_file(svg_temp, svg);
  } catch (...) {
    std::error_code ec;
    fs::remove(png_temp, ec);
    fs::remove(svg_temp, ec);
    throw;
  }
}

}  // namespace

std::string find_gnuplot() {
  if (const char* env = std::getenv("FAMES_GNUPLOT"); env && *env)
    return access(env, X_OK) == 0 ? std::string(env) : std::string();
  const char* path = std::getenv("PATH");
  std::stringstream dirs(path ? path : "/usr/bin:/bin");
  std::string dir;
  while (std::getline(dirs, dir, ':')) {
    if (dir.empty()) continue;
    const std::string candidate = dir + "/gnuplot";
    if (access(candidate.c_str(), X_OK) == 0) return candidate;
  }
  return "";
}

std::string gnuplot_script(const XYChart& chart, const std::string& png_path,
                           const std::string& svg_path) {
  if (chart.series.empty()) fail("chart '{}' has no series", chart.title);
  std::string s = header(chart.title, chart.y_label);
  if (!chart.x_label.empty()) s += "set xlabel " + quoted(chart.x_label) + "\n";
  std::string plot = "plot ";
  for (size_t i = 0; i < chart.series.size(); ++i) {
    const Series& series = chart.series[i];
    if (series.x.size() != series.y.size())
      fail("chart '{}': series '{}' has {} x values but {} y values", chart.title, series.name,
           series.x.size(), series.y.size());
    s += fmt::format("$s{} << EOD\n", i);
    for (size_t j = 0; j < series.x.size(); ++j)
      s += number(series.x[j]) + " " + number(series.y[j]) + "\n";
    s += "EOD\n";
    if (i) plot += ", \\\n     ";
    // An empty block would make gnuplot stop ("no data"); plot it as an invisible point instead.
    plot += series.x.empty() ? fmt::format("NaN title {}", quoted(series.name))
                             : fmt::format("$s{} using 1:2 with {} lw 2 pt 7 ps 0.8 title {}", i,
                                           style_name(series.style), quoted(series.name));
  }
  return s + terminals_and(plot + "\n", png_path, svg_path, 900, 600);
}

std::string gnuplot_script(const BarChart& chart, const std::string& png_path,
                           const std::string& svg_path) {
  if (chart.series.empty()) fail("bar chart '{}' has no series", chart.title);
  if (chart.categories.empty()) fail("bar chart '{}' has no categories", chart.title);
  for (const BarSeries& series : chart.series)
    if (series.values.size() != chart.categories.size())
      fail("bar chart '{}': series '{}' has {} values for {} categories", chart.title, series.name,
           series.values.size(), chart.categories.size());
  std::string s = header(chart.title, chart.y_label);
  s += "set style data histograms\nset style histogram clustered gap 1\n";
  s += "set style fill solid 0.85 border -1\nset boxwidth 0.9\n";
  s += "set xtics rotate by -45 scale 0 nomirror\n";
  s += "$bars << EOD\n";
  for (size_t c = 0; c < chart.categories.size(); ++c) {
    s += data_label(chart.categories[c]);
    for (const BarSeries& series : chart.series) s += " " + number(series.values[c]);
    s += "\n";
  }
  s += "EOD\n";
  std::string plot = "plot ";
  for (size_t i = 0; i < chart.series.size(); ++i) {
    if (i) plot += ", ";
    plot += i == 0 ? fmt::format("$bars using 2:xtic(1) title {}", quoted(chart.series[i].name))
                   : fmt::format("$bars using {} title {}", i + 2, quoted(chart.series[i].name));
  }
  // Wide enough for the labels: about 28 pixels per bar group, at least 900.
  const int width = std::max<int>(900, 28 * static_cast<int>(chart.categories.size() *
                                                               chart.series.size()) + 200);
  return s + terminals_and(plot + "\n", png_path, svg_path, width, 600);
}

void write_chart(const XYChart& chart, const std::string& stem) { draw(chart, stem); }
void write_chart(const BarChart& chart, const std::string& stem) { draw(chart, stem); }

}  // namespace fames::report
