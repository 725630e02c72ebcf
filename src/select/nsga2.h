// NSGA-II (Deb et al., 2002) over per-layer choices: the genetic-search baseline that FAMES
// replaces (METHOD.md §3; ALWANN searches AppMul assignments the same way). Torch-free: fitness
// comes from a callback.
//
// A genome holds one candidate index per layer, gene k in [0, choices[k]). Two objectives:
// accuracy (maximized) and energy (minimized). One generation: binary tournaments on (front rank,
// crowding distance), uniform crossover, per-gene mutation to another index, then the best
// `population` of parents + children by non-dominated sorting and crowding distance.
//
// Reproducible: the same options (seed included) and a deterministic fitness give the same
// sequence of evaluated genomes; a time limit only decides where that sequence stops. Each distinct
// genome is evaluated once (memoized); every evaluation is recorded with its wall time since
// run_nsga2() started, so the time to first reach a target can be read off the record.
// Not thread-safe; the fitness callback is called from the calling thread only.
#pragma once
#include <cstdint>
#include <functional>
#include <vector>

namespace fames {

using Genome = std::vector<int>;

struct Fitness {
  double accuracy = 0;  // maximized (e.g. top-1 in 0..1)
  double energy = 0;    // minimized (e.g. fJ per image)
};

// True if `a` is at least as good as `b` in both objectives and strictly better in one.
bool dominates(const Fitness& a, const Fitness& b);

struct Evaluation {
  Genome genome;
  Fitness fitness;
  double seconds = 0;  // wall time since the start of the search when this evaluation finished
  int generation = 0;  // 0 = initial population
};

struct Nsga2Options {
  int population = 32;           // >= 2
  int generations = 50;          // generations after the initial population; 0 = initial only
  double time_limit_s = 0;       // 0 = none; checked before every evaluation
  uint64_t seed = 1;
  double crossover_rate = 0.9;   // probability that a pair of parents is crossed (uniform)
  double mutation_rate = -1;     // per gene; < 0 means 1 / number of genes
  bool avoid_duplicates = true;  // re-mutate a child (up to 20 times) already evaluated before
  std::vector<Genome> initial;   // genomes placed in the initial population first (e.g. all-exact)
};

struct Nsga2Result {
  std::vector<Evaluation> evaluations;  // every distinct genome, in evaluation order
  std::vector<size_t> front;            // indices into evaluations: non-dominated among all,
                                        // sorted by energy ascending (ties: accuracy descending)
  std::vector<Genome> final_population;
  int generations_done = 0;  // complete generations after the initial population
  bool stopped_early = false;  // the time limit or the stop callback ended the search
  double seconds = 0;
};

using FitnessFunction = std::function<Fitness(const Genome&)>;
// Called after each new evaluation; returning true stops the search (e.g. a target was reached).
using EvaluationCallback = std::function<bool(const Evaluation&)>;

// REQUIRES: choices non-empty, every entry >= 1; initial genomes valid for `choices`.
// Throws fames::Error for invalid options (population < 2, rates outside [0, 1]).
Nsga2Result run_nsga2(const std::vector<int>& choices, const FitnessFunction& fitness,
                      const Nsga2Options& options, const EvaluationCallback& on_evaluation = {});

// Non-dominated sorting: front index (0 = best) of every point.
std::vector<int> front_ranks(const std::vector<Fitness>& points);

// Crowding distance of each point of one front (boundary points: infinity).
std::vector<double> crowding_distances(const std::vector<Fitness>& front);

}  // namespace fames
