#include "emulate/job_pool.h"

#include <omp.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <vector>

namespace fames::detail {
namespace {

class JobPool {
 public:
  explicit JobPool(int helpers) {
    for (int i = 0; i < helpers; ++i) threads_.emplace_back([this] { helper_loop(); });
  }
  ~JobPool() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      stop_ = true;
    }
    wake_.notify_all();
    for (auto& t : threads_) t.join();
  }
  int helpers() const { return static_cast<int>(threads_.size()); }

  // REQUIRES: the caller holds busy_ (one batch at a time).
  void run(int64_t jobs, int helpers_allowed, const std::function<void(int64_t)>& fn) {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      fn_ = &fn;
      jobs_ = jobs;
      next_ = 0;
      helpers_allowed_ = helpers_allowed;
      ++generation_;
    }
    wake_.notify_all();
    work();
    std::unique_lock<std::mutex> lock(mutex_);
    // `inside_ == 0`: no helper still holds fn_, which dies when this call returns.
    done_.wait(lock, [&] { return finished_ == jobs_ && inside_ == 0; });
    fn_ = nullptr;
    finished_ = 0;
  }

  std::mutex busy_;

 private:
  void work() {
    int64_t done = 0;
    for (int64_t job; (job = next_.fetch_add(1)) < jobs_; ++done) (*fn_)(job);
    std::lock_guard<std::mutex> lock(mutex_);
    finished_ += done;
  }

  void helper_loop() {
    uint64_t seen = 0;
    std::unique_lock<std::mutex> lock(mutex_);
    for (;;) {
      wake_.wait(lock, [&] { return stop_ || (fn_ && generation_ != seen); });
      if (stop_) return;
      seen = generation_;
      if (inside_ >= helpers_allowed_) continue;  // this batch asked for fewer threads
      ++inside_;
      lock.unlock();
      work();
      lock.lock();
      --inside_;
      if (finished_ == jobs_ && inside_ == 0) done_.notify_all();
    }
  }

  std::vector<std::thread> threads_;
  std::mutex mutex_;
  std::condition_variable wake_, done_;
  const std::function<void(int64_t)>* fn_ = nullptr;
  int64_t jobs_ = 0, finished_ = 0;
  std::atomic<int64_t> next_{0};
  int helpers_allowed_ = 0, inside_ = 0;
  uint64_t generation_ = 0;
  bool stop_ = false;
};

JobPool& pool() {
  static JobPool instance(std::max(0, omp_get_max_threads() - 1));
  return instance;
}

}  // namespace

int default_job_threads() { return omp_in_parallel() ? 1 : omp_get_max_threads(); }

void run_jobs(int64_t jobs, int threads, const std::function<void(int64_t)>& fn) {
  if (jobs <= 0) return;
  if (threads > 1 && jobs > 1) {
    JobPool& p = pool();
    std::unique_lock<std::mutex> busy(p.busy_, std::try_to_lock);
    if (busy.owns_lock() && p.helpers() > 0) {
      p.run(jobs, std::min(threads - 1, p.helpers()), fn);
      return;
    }
  }
  for (int64_t job = 0; job < jobs; ++job) fn(job);
}

}  // namespace fames::detail
