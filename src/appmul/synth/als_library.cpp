#include "appmul/synth/als_library.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <exception>
#include <functional>
#include <limits>
#include <map>
#include <set>
#include <tuple>

#include "appmul/synth/generators.h"
#include "appmul/synth/seed_circuits.h"

namespace fames {
namespace {

bool is_approximate(Family f) { return f != Family::kExactArray && f != Family::kExactDadda; }

Netlist exact_dadda(const Signature& sig) {
  GeneratorSpec exact;
  exact.family = Family::kExactDadda;
  return generate_multiplier(sig, exact);
}

// "trunc_k5_w8u_a8u" -> "trunc_k5".
std::string seed_tag(const AppMul& seed) {
  const std::string suffix = "_" + seed.signature().key();
  const std::string& n = seed.name;
  return n.size() > suffix.size() && n.compare(n.size() - suffix.size(), suffix.size(), suffix) == 0
             ? n.substr(0, n.size() - suffix.size())
             : n;
}

// The seeds made from `rivals`: each rival (guarded when it breaks the zero-product guard) and its
// compensated twin (seed_circuits.h); of these, the front.
std::vector<AppMul> seeds_from(const std::vector<AppMul>& rivals, const AlsOptions& als) {
  std::vector<AppMul> seeds;
  for (AppMul m : rivals) {
    const std::string tag = seed_tag(m), key = m.signature().key();
    if (std::optional<Netlist> guarded = guard_zero_products(*m.netlist, als)) {
      guarded->set_name(tag + "_z_" + key);
      m = characterize(*guarded, m.source, als.cells, als.cost);
      if (als_error(m, als) > als.max_error) continue;
    }
    if (std::optional<Netlist> tied = compensate_constant_outputs(*m.netlist, als)) {
      tied->set_name(seed_tag(m) + "_c_" + key);
      seeds.push_back(characterize(*tied, m.source, als.cells, als.cost));
    }
    seeds.push_back(std::move(m));
  }
  // A seed that another seed dominates is useless: whatever dominates the better seed dominates
  // it too. Keep the front, cheapest (largest error) first.
  return pareto_front(seeds, als);
}

// The largest |value| that m puts on a product of 0.
int zero_product_error(const AppMul& m) {
  const ProductTable exact = ProductTable::exact(m.signature());
  int worst = 0;
  for (size_t p = 0; p < exact.data().size(); ++p)
    if (exact.data()[p] == 0) worst = std::max(worst, std::abs(m.table.data()[p]));
  return worst;
}

// A seed whose runs keep its own zero-product error (inheriting_seeds) and the error they stop at.
struct InheritingSeed {
  AppMul seed;
  double max_error = 0;
};

// Where guarding a rival costs more than the room there is (truncc_k4 of w8s_a8u: one AND gate of
// operand bits and its loads cost more than the rival saves; docs/appmul-library.md), no member of
// the strict runs (`runs`) dominates it. For such rivals only, the rivals that break the guard,
// unguarded, and their compensated twins become seeds too (the front of them), each run keeping its
// seed's own zero-product error instead of 0: their members put no more on products of 0 than a
// family member the library already offers. A seed runs only if it is more accurate than such a
// rival, and stops at the error of the nearest one, so that its last steps squeeze below it.
std::vector<InheritingSeed> inheriting_seeds(const std::vector<AppMul>& rivals,
                                             const std::vector<std::vector<AppMul>>& runs, const AlsOptions& als) {
  if (als.max_zero_product_error < 0) return {};  // no guard: the strict runs had every start
  std::vector<const AppMul*> members;
  std::vector<double> member_error;
  for (const std::vector<AppMul>& run : runs)
    for (const AppMul& m : run) {
      members.push_back(&m);
      member_error.push_back(als_error(m, als));
    }
  std::vector<AppMul> breaking;
  std::vector<double> targets;  // errors of the breaking rivals no member dominates
  for (const AppMul& rival : rivals) {
    if (zero_product_error(rival) <= als.max_zero_product_error) continue;  // keeps the guard
    const double error = als_error(rival, als);
    bool dominated = false;
    for (size_t i = 0; i < members.size() && !dominated; ++i)
      dominated = members[i]->energy_fj < rival.energy_fj && member_error[i] <= error;
    if (!dominated) targets.push_back(error);
    breaking.push_back(rival);
  }
  if (targets.empty()) return {};
  std::vector<AppMul> starts;
  for (const AppMul& rival : breaking) {
    AlsOptions own = als;
    own.max_zero_product_error = std::max(als.max_zero_product_error, zero_product_error(rival));
    if (std::optional<Netlist> tied = compensate_constant_outputs(*rival.netlist, own)) {
      tied->set_name(seed_tag(rival) + "_c_" + rival.signature().key());
      starts.push_back(characterize(*tied, rival.source, als.cells, als.cost));
    }
    starts.push_back(rival);
  }
  std::vector<InheritingSeed> out;
  for (AppMul& seed : pareto_front(starts, als)) {
    const double error = als_error(seed, als);
    double nearest = std::numeric_limits<double>::infinity();
    for (double t : targets)
      if (t > error) nearest = std::min(nearest, t);
    if (std::isfinite(nearest)) out.push_back({std::move(seed), nearest});
  }
  return out;
}

// The members that no other beats in energy, error (als_error), |bias| and MSE (under the same pair
// weights), one per product table (the cheapest), sorted by energy. A layer's loss change depends on
// the error's mean and spread, not on MRED alone, so a member with more MRED but less bias is kept.
// Members with the exact table (and `exact`, the exact circuit) are not kept, but dominate every
// dearer member.
std::vector<AppMul> distinct_front(std::vector<AppMul> all, const AppMul& exact, const AlsOptions& als) {
  all.push_back(exact);
  std::vector<std::array<double, 3>> errors;
  for (const AppMul& m : all) {
    const ErrorMetrics e = als.pair_weights.empty() ? m.metrics : error_metrics(m.table, als.pair_weights);
    errors.push_back({als_error(m, als), std::abs(e.bias), e.mse});
  }
  std::vector<size_t> order(all.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    return std::make_tuple(all[a].energy_fj, errors[a], all[a].name) <
           std::make_tuple(all[b].energy_fj, errors[b], all[b].name);
  });
  std::vector<size_t> kept;
  std::set<std::vector<int32_t>> tables;
  for (size_t i : order) {
    if (tables.count(all[i].table.data())) continue;
    // Kept members cost no more; one with no more of any error dominates (or ties) member i.
    const bool dominated = std::any_of(kept.begin(), kept.end(), [&](size_t k) {
      for (size_t c = 0; c < errors[i].size(); ++c)
        if (errors[k][c] > errors[i][c]) return false;
      return true;
    });
    if (dominated) continue;
    kept.push_back(i);
    tables.insert(all[i].table.data());
  }
  std::vector<AppMul> front;
  for (size_t i : kept)
    if (!all[i].exact) front.push_back(std::move(all[i]));
  return front;
}

// Keeps the cheapest member dominating each rival, then fills up to `count` evenly. Errors are
// als_error under `als`; `front` is sorted by energy.
std::vector<AppMul> thin_covering(const std::vector<AppMul>& front, const std::vector<AppMul>& rivals,
                                  const AlsOptions& als, int count) {
  if (count <= 0 || static_cast<int>(front.size()) <= count) return front;
  std::vector<double> front_error;
  for (const AppMul& m : front) front_error.push_back(als_error(m, als));
  std::set<size_t> keep;
  for (const AppMul& s : rivals) {
    const double bound = als_error(s, als);
    size_t best = front.size();
    for (size_t i = 0; i < front.size(); ++i)  // front is sorted by energy
      if (front_error[i] <= bound) {
        best = i;
        break;
      }
    if (best < front.size() && front[best].energy_fj < s.energy_fj) keep.insert(best);
  }
  std::vector<size_t> rest;
  for (size_t i = 0; i < front.size(); ++i)
    if (!keep.count(i)) rest.push_back(i);
  const int room = count - static_cast<int>(keep.size());
  for (int i = 0; i < room && !rest.empty(); ++i) {
    const size_t pick = room == 1 ? 0 : i * (rest.size() - 1) / (room - 1);
    keep.insert(rest[pick]);
  }
  std::vector<AppMul> kept;
  for (size_t i : keep) kept.push_back(front[i]);
  return kept;  // std::set keeps the energy order
}

std::vector<std::vector<AppMul>> run_starts(
    const std::vector<Signature>& signatures, const AlsLibraryOptions& options, bool thin,
    const std::function<void(const Signature&, size_t)>& on_done);

}  // namespace

AlsOptions als_options_for(const Signature& sig, const AlsLibraryOptions& options) {
  AlsOptions als = options.als;
  const std::vector<double>* weights = options.histograms.find(sig);
  als.pair_weights = weights ? *weights : std::vector<double>();
  return als;
}

std::vector<AppMul> als_family_rivals(const Signature& sig, const AlsLibraryOptions& options) {
  const AlsOptions als = als_options_for(sig, options);
  std::vector<AppMul> rivals;
  for (const GeneratorSpec& spec : default_family_specs(sig)) {
    if (!is_approximate(spec.family)) continue;
    AppMul m = characterize(generate_multiplier(sig, spec), generator_source(spec), als.cells,
                            als.cost);
    if (!m.exact && als_error(m, als) <= als.max_error) rivals.push_back(std::move(m));
  }
  return rivals;
}

std::vector<AppMul> als_seed_members(const Signature& sig, const AlsLibraryOptions& options) {
  return seeds_from(als_family_rivals(sig, options), als_options_for(sig, options));
}

std::vector<std::vector<AppMul>> build_als_members(
    const std::vector<Signature>& signatures, const AlsLibraryOptions& options,
    const std::function<void(const Signature&, size_t)>& on_done) {
  return run_starts(signatures, options, true, on_done);
}

std::vector<std::vector<AppMul>> run_seeded_als(
    const std::vector<Signature>& signatures, const AlsLibraryOptions& options,
    const std::function<void(const Signature&, size_t)>& on_done) {
  return run_starts(signatures, options, false, on_done);
}

namespace {

// One ALS run of the library build: signature index and seed (-1: the exact netlist).
struct Job {
  int64_t sig;
  int seed;
};

// The family rivals (within the bound) and seeds of one signature.
struct Starts {
  std::vector<AppMul> rivals, seeds;
  std::vector<InheritingSeed> inheriting;  // set once the strict runs are done; numbered after seeds
};

// The starts of every signature (no seeds when options.seed_steps is 0), in parallel.
std::vector<Starts> starts_of(const std::vector<Signature>& signatures, const AlsLibraryOptions& options) {
  const int64_t n = static_cast<int64_t>(signatures.size());
  std::vector<Starts> starts(n);
  std::exception_ptr failure;  // exceptions must not leave an OpenMP region
#pragma omp parallel for schedule(dynamic, 1)
  for (int64_t i = 0; i < n; ++i) {
    try {
      starts[i].rivals = als_family_rivals(signatures[i], options);
      if (options.seed_steps > 0)
        starts[i].seeds = seeds_from(starts[i].rivals, als_options_for(signatures[i], options));
    } catch (...) {
#pragma omp critical(fames_als_failure)
      if (!failure) failure = std::current_exception();
    }
  }
  if (failure) std::rethrow_exception(failure);
  return starts;
}

// One job per (signature, start): priority signatures first, then the largest (so that the
// parallel loop ends evenly), the exact run (seed -1) before the seeded ones.
std::vector<Job> ordered_jobs(const std::vector<Signature>& signatures,
                              const std::vector<Starts>& starts,
                              const AlsLibraryOptions& options) {
  std::vector<Job> jobs;
  for (int64_t i = 0; i < static_cast<int64_t>(signatures.size()); ++i) {
    jobs.push_back({i, -1});
    for (size_t s = 0; s < starts[i].seeds.size(); ++s) jobs.push_back({i, static_cast<int>(s)});
  }
  std::stable_sort(jobs.begin(), jobs.end(), [&](const Job& a, const Job& b) {
    const bool pa = a.sig < options.priority_count, pb = b.sig < options.priority_count;
    if (pa != pb) return pa;
    const int64_t ta = signatures[a.sig].table_size(), tb = signatures[b.sig].table_size();
    if (ta != tb) return ta > tb;
    return (a.seed < 0) > (b.seed < 0);
  });
  return jobs;
}

// The ALS steps of one job: from the exact netlist, or from a seed with the seed limits.
std::vector<AppMul> run_job(const Job& job, const Signature& sig, const Starts& starts,
                            const AlsLibraryOptions& options) {
  AlsOptions als = als_options_for(sig, options);
  if (job.seed < 0) return run_als(exact_dadda(sig), als);
  als.max_steps = std::min(als.max_steps, options.seed_steps);
  if (options.seed_candidates > 0) als.candidates_per_step = options.seed_candidates;
  const std::vector<AppMul>& seeds = starts.seeds;
  if (job.seed >= static_cast<int>(seeds.size())) {
    const InheritingSeed& s = starts.inheriting[job.seed - seeds.size()];
    als.tag = seed_tag(s.seed);
    als.max_error = std::min(als.max_error, s.max_error);
    als.max_zero_product_error = std::max(als.max_zero_product_error, zero_product_error(s.seed));
    return run_als(*s.seed.netlist, als);
  }
  const AppMul& seed = seeds[job.seed];
  als.tag = seed_tag(seed);
  // The next seed (cheaper, with more error) starts its own run: go no further than it.
  if (job.seed > 0) als.max_error = std::min(als.max_error, als_error(seeds[job.seed - 1], als));
  return run_als(*seed.netlist, als);
}

// Runs `jobs` in parallel; `done(job, steps)` gets each job's steps, one call at a time.
void run_jobs(const std::vector<Job>& jobs, const std::vector<Signature>& signatures, const std::vector<Starts>& starts,
              const AlsLibraryOptions& options, const std::function<void(const Job&, std::vector<AppMul>)>& done) {
  std::exception_ptr failure;  // exceptions must not leave an OpenMP region
#pragma omp parallel for schedule(dynamic, 1)
  for (int64_t j = 0; j < static_cast<int64_t>(jobs.size()); ++j) {
    try {
      std::vector<AppMul> run = run_job(jobs[j], signatures[jobs[j].sig], starts[jobs[j].sig], options);
#pragma omp critical(fames_als_steps)
      done(jobs[j], std::move(run));
    } catch (...) {
#pragma omp critical(fames_als_failure)
      if (!failure) failure = std::current_exception();
    }
  }
  if (failure) std::rethrow_exception(failure);
}

// The strict runs (from the exact netlist and the seeds) of every signature, then the runs from the
// inheriting seeds of the signatures whose strict members leave a rival undominated.
std::vector<std::vector<AppMul>> run_starts(
    const std::vector<Signature>& signatures, const AlsLibraryOptions& options, bool thin,
    const std::function<void(const Signature&, size_t)>& on_done) {
  const int64_t n = static_cast<int64_t>(signatures.size());
  std::vector<Starts> starts = starts_of(signatures, options);
  // steps[sig][seed + 1]: the steps of one run, merged in run order so that the result does not
  // depend on which run ends first.
  std::vector<std::vector<std::vector<AppMul>>> steps(n);
  std::vector<std::vector<AppMul>> results(n);
  std::vector<size_t> pending(n, 0);
  for (int64_t i = 0; i < n; ++i) {
    steps[i].resize(starts[i].seeds.size() + 1);
    pending[i] = steps[i].size();
  }
  auto all_steps = [&](int64_t sig) {
    std::vector<AppMul> all;
    for (std::vector<AppMul>& run : steps[sig])
      for (AppMul& m : run) all.push_back(std::move(m));
    steps[sig].clear();
    return all;
  };
  auto finish = [&](int64_t sig) {
    const AlsOptions als = als_options_for(signatures[sig], options);
    const AppMul exact = characterize(exact_dadda(signatures[sig]), "exact:dadda", als.cells, als.cost);
    results[sig] = thin ? thin_covering(distinct_front(all_steps(sig), exact, als), starts[sig].rivals, als,
                                        options.max_per_signature)
                        : all_steps(sig);
    if (on_done) on_done(signatures[sig], results[sig].size());
  };
  auto collect = [&](const Job& job, std::vector<AppMul> run) {
    steps[job.sig][job.seed + 1] = std::move(run);
    return --pending[job.sig] == 0;
  };
  std::vector<Job> second;
  run_jobs(ordered_jobs(signatures, starts, options), signatures, starts, options,
           [&](const Job& job, std::vector<AppMul> run) {
             if (!collect(job, std::move(run))) return;
             Starts& s = starts[job.sig];
             if (options.seed_steps > 0 && options.inherit_zero_product_error)
               s.inheriting = inheriting_seeds(s.rivals, steps[job.sig], als_options_for(signatures[job.sig], options));
             pending[job.sig] = s.inheriting.size();
             steps[job.sig].resize(s.seeds.size() + 1 + s.inheriting.size());
             for (size_t i = 0; i < s.inheriting.size(); ++i)
               second.push_back({job.sig, static_cast<int>(s.seeds.size() + i)});
             if (s.inheriting.empty()) finish(job.sig);
           });
  run_jobs(second, signatures, starts, options, [&](const Job& job, std::vector<AppMul> run) {
    if (collect(job, std::move(run))) finish(job.sig);
  });
  return results;
}

}  // namespace

size_t add_als_members(Library& library, const std::vector<Signature>& signatures,
                       const AlsLibraryOptions& options,
                       const std::function<void(const Signature&, size_t)>& on_done) {
  std::vector<std::vector<AppMul>> members = build_als_members(signatures, options, on_done);
  using TableKey = std::pair<Signature, std::vector<int32_t>>;
  std::map<TableKey, AppMul*> twin;  // the ALS member with each table (their tables are distinct)
  for (auto& list : members)
    for (AppMul& m : list) twin[{m.signature(), m.table.data()}] = &m;
  // One member per table: an exact circuit or a family member no dearer than its ALS twin stays
  // (and the twin goes); a dearer family member gives way to the twin.
  std::set<const AppMul*> dropped;
  Library merged;
  for (const AppMul& m : library.all()) {
    const auto t = twin.find({m.signature(), m.table.data()});
    if (t != twin.end() && !m.exact && t->second->energy_fj < m.energy_fj) continue;
    if (t != twin.end()) dropped.insert(t->second);
    merged.add(m);
  }
  size_t added = 0;
  for (auto& list : members)
    for (AppMul& m : list)
      if (!dropped.count(&m)) {
        merged.add(std::move(m));
        ++added;
      }
  library = std::move(merged);
  return added;
}

}  // namespace fames
