// The process group (dist/process_group.h): shards, a group of one, and the collectives between two
// ranks. For the latter the test program starts two copies of itself on 127.0.0.1 that run only
// DistWorker.Collectives (skipped unless FAMES_DIST_WORKER is set) as rank 0 and rank 1.
#include <gtest/gtest.h>
#include <spawn.h>
#include <sys/wait.h>
#include <torch/torch.h>

#include <cstdlib>
#include <random>

#include "dist/process_group.h"
#include "util/error.h"

extern char** environ;

namespace fames::dist {
namespace {

TEST(Shard, CoversEveryItemOnceInRankOrderAndWholeBlocks) {
  for (int size = 1; size <= 5; ++size)
    for (int64_t count : {0, 1, 7, 64, 65, 256, 1000})
      for (int64_t block : {1, 3, 64}) {
        int64_t at = 0, most = 0, least = count + 1;
        for (int r = 0; r < size; ++r) {
          const Range part = shard_of(count, block, r, size);
          EXPECT_EQ(part.begin, at) << size << " " << count << " " << block << " rank " << r;
          EXPECT_GE(part.size(), 0);
          if (part.end < count) {
            EXPECT_EQ(part.end % block, 0) << "cut inside a block";
          }
          at = part.end;
          const int64_t blocks = (part.size() + block - 1) / block;  // the last one may be partial
          most = std::max(most, blocks);
          least = std::min(least, blocks);
        }
        EXPECT_EQ(at, count) << size << " " << count << " " << block;
        EXPECT_LE(most - least, 1) << "blocks dealt unevenly";
        if (count > 0) {
          EXPECT_GT(shard_of(count, block, 0, size).size(), 0) << "rank 0 always has work";
        }
      }
}

TEST(ProcessGroup, WithoutAGroupEveryCollectiveIsTheIdentity) {
  ASSERT_FALSE(active());
  EXPECT_EQ(rank(), 0);
  EXPECT_EQ(size(), 1);
  EXPECT_TRUE(is_root());
  torch::Tensor t = torch::arange(5, torch::kDouble);
  sum(t);
  EXPECT_TRUE(t.equal(torch::arange(5, torch::kDouble)));
  std::vector<double> per_batch{0.1, 0.2, 0.3};
  EXPECT_EQ(ordered_sum(per_batch), (0.0 + 0.1) + 0.2 + 0.3);
  const auto parts = all_gather(t);
  ASSERT_EQ(parts.size(), 1u);
  EXPECT_TRUE(parts[0].equal(t));
  EXPECT_EQ(shard(10, 4).size(), 10);
  EXPECT_TRUE(root_decides(true));
}

// Starts this test program as `ranks` ranks running DistWorker.Collectives; returns their statuses.
std::vector<int> run_workers(int ranks) {
  static std::mt19937 rng(std::random_device{}());
  const std::string port = std::to_string(20000 + rng() % 40000);
  std::vector<pid_t> pids;
  for (int r = 0; r < ranks; ++r) {
    std::vector<std::string> env{"FAMES_DIST_WORKER=1", "MASTER_ADDR=127.0.0.1", "MASTER_PORT=" + port,
                                 "WORLD_SIZE=" + std::to_string(ranks), "RANK=" + std::to_string(r)};
    for (char** e = environ; *e; ++e) env.emplace_back(*e);
    std::vector<char*> envp, argv;
    for (auto& e : env) envp.push_back(e.data());
    envp.push_back(nullptr);
    std::string self = "/proc/self/exe", filter = "--gtest_filter=DistWorker.Collectives";
    argv = {self.data(), filter.data(), nullptr};
    pid_t pid = 0;
    EXPECT_EQ(posix_spawn(&pid, "/proc/self/exe", nullptr, nullptr, argv.data(), envp.data()), 0);
    pids.push_back(pid);
  }
  std::vector<int> statuses;
  for (pid_t pid : pids) {
    int status = 0;
    waitpid(pid, &status, 0);
    statuses.push_back(WIFEXITED(status) ? WEXITSTATUS(status) : -1);
  }
  return statuses;
}

TEST(ProcessGroup, TwoRanksOnLoopbackAgreeOnEveryCollective) {
  if (std::getenv("FAMES_DIST_WORKER")) GTEST_SKIP() << "a worker runs only DistWorker.Collectives";
  EXPECT_EQ(run_workers(2), (std::vector<int>{0, 0})) << "a worker failed; run with FAMES_DIST_WORKER to see it";
}

TEST(DistWorker, Collectives) {
  if (!std::getenv("FAMES_DIST_WORKER")) GTEST_SKIP() << "started by TwoRanksOnLoopbackAgreeOnEveryCollective";
  init(std::chrono::seconds(30));
  ASSERT_TRUE(active());
  ASSERT_EQ(size(), 2);
  const int r = rank();

  torch::Tensor t = torch::full({3}, 1.0 + r, torch::kFloat);
  sum(t);
  EXPECT_TRUE(t.equal(torch::full({3}, 3.0, torch::kFloat)));

  std::vector<torch::Tensor> several{torch::full({2}, 1.0 * (r + 1), torch::kDouble),
                                     torch::full({2, 2}, 10.0 * (r + 1), torch::kDouble)};
  sum(several);
  EXPECT_TRUE(several[0].equal(torch::full({2}, 3.0, torch::kDouble)));
  EXPECT_TRUE(several[1].equal(torch::full({2, 2}, 30.0, torch::kDouble)));

  std::vector<int64_t> counts{r == 0 ? 5 : 7, 1};
  sum(counts);
  EXPECT_EQ(counts, (std::vector<int64_t>{12, 2}));

  // Rank 1 saw no data: its partial sum is undefined and counts as zeros of rank 0's shape.
  torch::Tensor partial = r == 0 ? torch::ones({2, 3}, torch::kLong) : torch::Tensor();
  sum_partial(partial);
  ASSERT_TRUE(partial.defined());
  EXPECT_TRUE(partial.equal(torch::ones({2, 3}, torch::kLong)));
  // Several partial sums in one collective: rank 1's undefined second one takes rank 0's shape.
  std::vector<torch::Tensor> partials{torch::full({2}, r + 1, torch::kLong),
                                      r == 0 ? torch::ones({1, 3}, torch::kLong) : torch::Tensor()};
  sum_partial(partials);
  EXPECT_TRUE(partials[0].equal(torch::full({2}, 3, torch::kLong)));
  ASSERT_TRUE(partials[1].defined());
  EXPECT_TRUE(partials[1].equal(torch::ones({1, 3}, torch::kLong)));

  // Block 0 is rank 0's, block 1 rank 1's: the same bits as adding 0.1 then 0.2 in one process.
  std::vector<double> per_block(2, 0.0);
  per_block[static_cast<size_t>(r)] = r == 0 ? 0.1 : 0.2;
  EXPECT_EQ(ordered_sum(per_block), 0.0 + 0.1 + 0.2);
  // Two sums at once, interleaved by block: each is added in block order.
  std::vector<double> two_sums(4, 0.0);
  two_sums[static_cast<size_t>(2 * r)] = r == 0 ? 0.1 : 0.2;
  two_sums[static_cast<size_t>(2 * r + 1)] = r == 0 ? 3.0 : 4.0;
  EXPECT_EQ(ordered_sums(two_sums, 2), (std::vector<double>{0.0 + 0.1 + 0.2, 0.0 + 3.0 + 4.0}));

  // Rows of different counts (rank 1 none of its own... here 0 and 2 rows) come back in rank order.
  const torch::Tensor rows = r == 0 ? torch::empty({0, 2}) : torch::tensor({1.f, 2.f, 3.f, 4.f}).reshape({2, 2});
  const auto gathered = all_gather(rows);
  ASSERT_EQ(gathered.size(), 2u);
  EXPECT_EQ(gathered[0].size(0), 0);
  EXPECT_TRUE(gathered[1].equal(torch::tensor({1.f, 2.f, 3.f, 4.f}).reshape({2, 2})));
  // Several tensors in one gather: each comes back as every rank's part of it, in rank order.
  const std::vector<torch::Tensor> mine{torch::full({r + 1, 2}, 1.f + r), torch::full({1 - r, 3}, 5.f)};
  const auto each = all_gather(mine);
  ASSERT_EQ(each.size(), 2u);
  ASSERT_EQ(each[0].size(), 2u);
  EXPECT_TRUE(each[0][0].equal(torch::full({1, 2}, 1.f)));
  EXPECT_TRUE(each[0][1].equal(torch::full({2, 2}, 2.f)));
  EXPECT_TRUE(each[1][0].equal(torch::full({1, 3}, 5.f)));
  EXPECT_EQ(each[1][1].size(0), 0);
  EXPECT_EQ(all_gather(std::string(r == 0 ? "a" : "bcd")), (std::vector<std::string>{"a", "bcd"}));

  std::string text = r == 0 ? "from rank 0" : "";
  broadcast(text);
  EXPECT_EQ(text, "from rank 0");
  EXPECT_EQ(root_decides(r == 0), true);
  check_same_as_root("same", "a test value");
  if (r == 1) {
    EXPECT_THROW(check_same_as_root("other", "a test value"), Error);
  } else {
    check_same_as_root("mine", "a test value");
  }
  barrier();
  shutdown();
}

}  // namespace
}  // namespace fames::dist
