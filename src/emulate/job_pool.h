// Internal to src/emulate: runs independent jobs on the caller's thread plus sleeping helper
// threads, robustly on a loaded machine.
//
// Why not `omp parallel for`: OpenMP waits at the end of a region for every thread of the team,
// including one the OS has not scheduled yet, and by default spins while waiting; on a shared
// 2-vCPU machine that made two threads several times slower than one. Here the caller works too,
// helpers that wake late find nothing left and go back to sleep, and the caller waits only for
// jobs that are actually running. Helpers block on a condition variable, never spin.
#pragma once
#include <cstdint>
#include <functional>

namespace fames::detail {

// Calls fn(job) once for every job in [0, jobs), on at most `threads` threads (the caller counts
// as one), and returns when all calls have returned. fn must not throw. Safe to call from several
// threads at once: a call that finds the helpers busy runs its jobs on its own thread.
void run_jobs(int64_t jobs, int threads, const std::function<void(int64_t)>& fn);

// Default thread count: omp_get_max_threads(), or 1 inside an OpenMP parallel region.
int default_job_threads();

}  // namespace fames::detail
