#include "emulate/job_pool.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

namespace fames::detail {
namespace {

TEST(JobPool, EveryJobRunsExactlyOnce) {
  for (int threads : {1, 2, 8})
    for (int64_t jobs : {0, 1, 2, 3, 97, 1000}) {
      std::vector<std::atomic<int>> hits(static_cast<size_t>(jobs));
      run_jobs(jobs, threads, [&](int64_t j) { hits[static_cast<size_t>(j)].fetch_add(1); });
      for (int64_t j = 0; j < jobs; ++j) ASSERT_EQ(hits[static_cast<size_t>(j)].load(), 1) << jobs << " jobs";
    }
}

TEST(JobPool, ConcurrentCallersEachFinishTheirOwnJobs) {
  std::atomic<int64_t> sums[4] = {};
  std::vector<std::thread> callers;
  for (int c = 0; c < 4; ++c)
    callers.emplace_back([&, c] {
      for (int round = 0; round < 50; ++round)
        run_jobs(64, 2, [&](int64_t j) { sums[c].fetch_add(j); });
    });
  for (auto& t : callers) t.join();
  for (auto& s : sums) EXPECT_EQ(s.load(), 50 * (63 * 64 / 2));
}

}  // namespace
}  // namespace fames::detail
