// report/plot: gnuplot charts written as PNG + SVG pairs, atomically. Tests that draw need gnuplot
// and are skipped without it; the script and error tests run everywhere.
#include "report/plot.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "util/error.h"
#include "util/files.h"

namespace fames::report {
namespace {
namespace fs = std::filesystem;

XYChart two_series() {
  XYChart chart;
  chart.title = "accuracy_vs_energy it's";
  chart.x_label = "energy reduction (%)";
  chart.y_label = "top-1 (%)";
  chart.series.push_back({"FAMES", {0, 10, 20, 30}, {90.1, 89.9, 89.0, 87.5}, SeriesStyle::kLinesPoints});
  chart.series.push_back({"GA", {5, 25}, {90.0, 88.0}, SeriesStyle::kPoints});
  return chart;
}

BarChart per_layer() {
  BarChart chart;
  chart.title = "energy per layer";
  chart.y_label = "fJ per image";
  chart.categories = {"conv1", "layer1.0.conv_1", "fc"};
  chart.series.push_back({"exact", {3.0, 5.0, 1.0}});
  chart.series.push_back({"chosen", {2.0, 2.5, 1.0}});
  return chart;
}

// A fresh empty folder under the test temp dir.
std::string fresh_dir(const std::string& name) {
  const std::string dir = testing::TempDir() + "/fames_plot_" + name;
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

size_t files_in(const std::string& dir) {
  size_t n = 0;
  for (const auto& entry : fs::directory_iterator(dir)) n += entry.is_regular_file();
  return n;
}

class ScopedEnv {
 public:
  ScopedEnv(const char* name, const char* value) : name_(name) {
    if (const char* old = std::getenv(name)) old_ = old, had_ = true;
    setenv(name, value, 1);
  }
  ~ScopedEnv() { had_ ? setenv(name_, old_.c_str(), 1) : unsetenv(name_); }

 private:
  const char* name_;
  std::string old_;
  bool had_ = false;
};

#define REQUIRE_GNUPLOT() \
  if (find_gnuplot().empty()) GTEST_SKIP() << "gnuplot is not installed"

TEST(Plot, ScriptQuotesLabelsAndKeepsThemLiteral) {
  const std::string s = gnuplot_script(two_series(), "/tmp/a b.png", "/tmp/a b.svg");
  EXPECT_NE(s.find("noenhanced"), std::string::npos);
  EXPECT_NE(s.find("'accuracy_vs_energy it''s'"), std::string::npos) << s;
  EXPECT_NE(s.find("'/tmp/a b.png'"), std::string::npos);
  EXPECT_NE(s.find("'/tmp/a b.svg'"), std::string::npos);
  EXPECT_NE(s.find("with points"), std::string::npos);
  EXPECT_NE(s.find("with linespoints"), std::string::npos);
  EXPECT_NE(s.find("89.9"), std::string::npos);
}

TEST(Plot, MismatchedSeriesAreErrorsNamingTheSeries) {
  XYChart chart = two_series();
  chart.series[1].y.pop_back();
  try {
    gnuplot_script(chart, "a.png", "a.svg");
    FAIL() << "expected fames::Error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("'GA'"), std::string::npos) << e.what();
  }
  BarChart bars = per_layer();
  bars.series[0].values.push_back(4);
  EXPECT_THROW(gnuplot_script(bars, "a.png", "a.svg"), Error);
  EXPECT_THROW(gnuplot_script(XYChart{}, "a.png", "a.svg"), Error);
}

TEST(Plot, MissingGnuplotIsOneClearErrorAndWritesNothing) {
  const std::string dir = fresh_dir("missing");
  ScopedEnv env("FAMES_GNUPLOT", "/nonexistent/gnuplot");
  EXPECT_EQ(find_gnuplot(), "");
  try {
    write_chart(two_series(), dir + "/chart");
    FAIL() << "expected fames::Error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("gnuplot is not installed"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("chart"), std::string::npos) << e.what();
  }
  EXPECT_EQ(files_in(dir), 0u);
}

TEST(Plot, FailingGnuplotLeavesPreviousOutputsUntouched) {
  const std::string dir = fresh_dir("failing");
  write_file_atomic(dir + "/chart.png", "old png");
  write_file_atomic(dir + "/chart.svg", "old svg");
  ScopedEnv env("FAMES_GNUPLOT", "/bin/false");
  EXPECT_THROW(write_chart(per_layer(), dir + "/chart"), Error);
  EXPECT_EQ(read_file(dir + "/chart.png"), "old png");
  EXPECT_EQ(read_file(dir + "/chart.svg"), "old svg");
  EXPECT_EQ(files_in(dir), 2u) << "temporary files must be removed";
}

TEST(Plot, WritesPngAndSvgSideBySide) {
  REQUIRE_GNUPLOT();
  const std::string dir = fresh_dir("xy");
  write_chart(two_series(), dir + "/sub/front");
  const std::string png = read_file(dir + "/sub/front.png");
  const std::string svg = read_file(dir + "/sub/front.svg");
  ASSERT_GT(png.size(), 1000u);
  EXPECT_EQ(png.substr(1, 3), "PNG");
  EXPECT_NE(svg.find("<svg"), std::string::npos);
  EXPECT_NE(svg.find("accuracy_vs_energy it's"), std::string::npos) << "title printed literally";
  EXPECT_EQ(files_in(dir + "/sub"), 2u) << "no temporary files left";
}

TEST(Plot, BarChartNamesEveryCategory) {
  REQUIRE_GNUPLOT();
  const std::string dir = fresh_dir("bars");
  write_chart(per_layer(), dir + "/layers");
  const std::string svg = read_file(dir + "/layers.svg");
  for (const char* label : {"conv1", "layer1.0.conv_1", "fc", "chosen"})
    EXPECT_NE(svg.find(label), std::string::npos) << label;
  EXPECT_EQ(read_file(dir + "/layers.png").substr(1, 3), "PNG");
}

TEST(Plot, EmptySeriesStillDraws) {
  REQUIRE_GNUPLOT();
  const std::string dir = fresh_dir("empty");
  XYChart chart = two_series();
  chart.series[1].x.clear();
  chart.series[1].y.clear();
  write_chart(chart, dir + "/c");
  EXPECT_EQ(files_in(dir), 2u);
}

}  // namespace
}  // namespace fames::report
