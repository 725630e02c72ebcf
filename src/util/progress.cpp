#include "util/progress.h"

#include <unistd.h>

#include <atomic>
#include <cstdio>

#include <fmt/format.h>

namespace fames {
namespace {
std::atomic<bool> g_enabled{true};

std::string format_seconds(double s) {
  if (s < 0 || s > 1e7) return "?";
  const int total = static_cast<int>(s + 0.5);
  if (total >= 3600) return fmt::format("{}h{:02}m", total / 3600, (total / 60) % 60);
  return fmt::format("{}:{:02}", total / 60, total % 60);
}
}  // namespace

void Progress::set_enabled(bool enabled) { g_enabled = enabled; }

Progress::Progress(std::string label, int64_t total, std::string unit)
    : label_(std::move(label)), unit_(std::move(unit)), total_(total),
      start_(std::chrono::steady_clock::now()), last_draw_(start_ - std::chrono::hours(1)) {}

Progress::~Progress() {
  if (!finished_) finish();
}

void Progress::advance(int64_t n, const std::string& status) {
  done_ += n;
  status_ = status;
  draw(false);
}

void Progress::finish(const std::string& status) {
  if (finished_) return;
  if (!status.empty()) status_ = status;
  finished_ = true;
  draw(true);
}

void Progress::draw(bool final) {
  if (!g_enabled) return;
  static const bool tty = isatty(fileno(stderr));
  const auto now = std::chrono::steady_clock::now();
  const double since_draw = std::chrono::duration<double>(now - last_draw_).count();
  if (!final && since_draw < (tty ? 0.1 : 5.0)) return;
  last_draw_ = now;
  const double elapsed = std::chrono::duration<double>(now - start_).count();
  const double rate = elapsed > 0 ? done_ / elapsed : 0;
  std::string bar;
  if (total_ > 0) {
    const double frac = std::min(1.0, static_cast<double>(done_) / total_);
    const int width = 24, filled = static_cast<int>(frac * width);
    bar = fmt::format("[{}{}] {:3.0f}% {}/{} ", std::string(filled, '#'), std::string(width - filled, '.'),
                      frac * 100, done_, total_);
    const double eta = rate > 0 ? (total_ - done_) / rate : -1;
    bar += final ? fmt::format("in {} ", format_seconds(elapsed)) : fmt::format("ETA {} ", format_seconds(eta));
  } else {
    bar = fmt::format("{} {} in {} ", done_, unit_, format_seconds(elapsed));
  }
  const std::string line = fmt::format("{} {}{:.1f} {}/s {}", label_, bar, rate, unit_, status_);
  if (tty) {
    fmt::print(stderr, "\r\033[K{}{}", line, final ? "\n" : "");
  } else {
    fmt::print(stderr, "{}\n", line);
  }
  std::fflush(stderr);
}

}  // namespace fames
