// A progress bar on stderr with rate and ETA. On a terminal it redraws one line; otherwise it
// prints a line at most every few seconds, so logs stay readable. Not thread-safe: call from one thread.
#pragma once
#include <chrono>
#include <cstdint>
#include <string>

namespace fames {

class Progress {
 public:
  // `total` units of work, described by `label` (e.g. "epoch 3/30"). total may be 0 (unknown).
  Progress(std::string label, int64_t total, std::string unit = "it");
  ~Progress();  // finishes the line if finish() was not called

  // Advances by `n` units; `status` is appended to the line (e.g. "loss 0.42").
  void advance(int64_t n = 1, const std::string& status = "");
  void finish(const std::string& status = "");

  // Globally silence all bars (--quiet, tests).
  static void set_enabled(bool enabled);

 private:
  void draw(bool final);
  std::string label_, unit_, status_;
  int64_t total_, done_ = 0;
  std::chrono::steady_clock::time_point start_, last_draw_;
  bool finished_ = false;
};

}  // namespace fames
