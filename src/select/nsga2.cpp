#include "select/nsga2.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>
#include <map>
#include <numeric>
#include <optional>
#include <random>
#include <set>

#include "util/error.h"

namespace fames {
namespace {

using Clock = std::chrono::steady_clock;

// Draws from mt19937_64 directly (not via <random> distributions, whose algorithms are
// implementation-defined) so that a seed gives the same search on every platform.
class Rng {
 public:
  explicit Rng(uint64_t seed) : engine_(seed) {}
  int below(int n) { return static_cast<int>(engine_() % static_cast<uint64_t>(n)); }  // n >= 1
  double unit() { return static_cast<double>(engine_() >> 11) * 0x1.0p-53; }          // [0, 1)

 private:
  std::mt19937_64 engine_;
};

// Sets gene k to a different index (REQUIRES choices[k] >= 2).
void change_gene(Genome& g, size_t k, const std::vector<int>& choices, Rng& rng) {
  const int other = rng.below(choices[k] - 1);
  g[k] = other >= g[k] ? other + 1 : other;
}

struct Search {
  Search(const std::vector<int>& c, const FitnessFunction& f, const Nsga2Options& o,
         const EvaluationCallback& cb)
      : choices(c), fitness(f), options(o), on_evaluation(cb), rng(o.seed) {}

  const std::vector<int>& choices;
  const FitnessFunction& fitness;
  const Nsga2Options& options;
  const EvaluationCallback& on_evaluation;
  Rng rng;
  Clock::time_point start = Clock::now();
  Nsga2Result result;
  std::map<Genome, size_t> seen;  // genome -> index into result.evaluations
  std::vector<size_t> mutable_genes;  // genes with at least two choices
  double mutation_rate = 0;
  bool stop = false;

  double elapsed() const { return std::chrono::duration<double>(Clock::now() - start).count(); }

  // Index of the genome's evaluation, evaluating it if new; nullopt once the search must stop.
  std::optional<size_t> evaluate(const Genome& g, int generation) {
    if (auto it = seen.find(g); it != seen.end()) return it->second;
    if (stop || (options.time_limit_s > 0 && elapsed() >= options.time_limit_s)) {
      stop = true;
      return std::nullopt;
    }
    Evaluation e{g, fitness(g), 0, generation};
    e.seconds = elapsed();
    result.evaluations.push_back(std::move(e));
    const size_t index = result.evaluations.size() - 1;
    seen.emplace(g, index);
    if (on_evaluation && on_evaluation(result.evaluations[index])) stop = true;
    return index;
  }

  Genome random_genome() {
    Genome g(choices.size());
    for (size_t k = 0; k < g.size(); ++k) g[k] = rng.below(choices[k]);
    return g;
  }

  void mutate(Genome& g) {
    for (size_t k : mutable_genes)
      if (rng.unit() < mutation_rate) change_gene(g, k, choices, rng);
  }

  // Rank and crowding distance of each member of `members` (evaluation indices).
  void rank_and_crowd(const std::vector<size_t>& members, std::vector<int>& rank,
                      std::vector<double>& crowd) const {
    std::vector<Fitness> points;
    for (size_t i : members) points.push_back(result.evaluations[i].fitness);
    rank = front_ranks(points);
    crowd.assign(members.size(), 0);
    const int fronts = rank.empty() ? 0 : *std::max_element(rank.begin(), rank.end()) + 1;
    for (int f = 0; f < fronts; ++f) {
      std::vector<size_t> at;
      std::vector<Fitness> front;
      for (size_t i = 0; i < members.size(); ++i)
        if (rank[i] == f) at.push_back(i), front.push_back(points[i]);
      const std::vector<double> d = crowding_distances(front);
      for (size_t j = 0; j < at.size(); ++j) crowd[at[j]] = d[j];
    }
  }

  // Binary tournament: lower rank wins, then larger crowding distance, then the first drawn.
  size_t tournament(const std::vector<int>& rank, const std::vector<double>& crowd) {
    const size_t n = rank.size();
    const size_t a = static_cast<size_t>(rng.below(static_cast<int>(n)));
    const size_t b = static_cast<size_t>(rng.below(static_cast<int>(n)));
    if (rank[b] < rank[a] || (rank[b] == rank[a] && crowd[b] > crowd[a])) return b;
    return a;
  }

  // The best `options.population` of `members` by (rank, crowding distance descending).
  std::vector<size_t> survivors(const std::vector<size_t>& members) const {
    std::vector<int> rank;
    std::vector<double> crowd;
    rank_and_crowd(members, rank, crowd);
    std::vector<size_t> order(members.size());
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(), [&](size_t x, size_t y) {
      return rank[x] != rank[y] ? rank[x] < rank[y] : crowd[x] > crowd[y];
    });
    order.resize(std::min(order.size(), static_cast<size_t>(options.population)));
    std::vector<size_t> out;
    for (size_t i : order) out.push_back(members[i]);
    return out;
  }

  std::vector<size_t> initial_population() {
    std::vector<size_t> population;
    std::set<Genome> placed;
    auto place = [&](const Genome& g) {
      if (placed.count(g) || static_cast<int>(population.size()) >= options.population) return;
      if (auto i = evaluate(g, 0)) population.push_back(*i), placed.insert(g);
    };
    for (const Genome& g : options.initial) {
      if (g.size() != choices.size()) fail("NSGA-II: an initial genome has {} genes, expected {}", g.size(), choices.size());
      for (size_t k = 0; k < g.size(); ++k)
        if (g[k] < 0 || g[k] >= choices[k]) fail("NSGA-II: initial genome gene {} = {} is out of range", k, g[k]);
      place(g);
    }
    // Random genomes; a small search space may hold fewer distinct genomes than the population.
    for (int tries = 0; !stop && static_cast<int>(population.size()) < options.population &&
                        tries < 100 * options.population;
         ++tries)
      place(random_genome());
    return population;
  }

  std::vector<Genome> offspring(const std::vector<size_t>& population) {
    std::vector<int> rank;
    std::vector<double> crowd;
    rank_and_crowd(population, rank, crowd);
    std::vector<Genome> children;
    std::set<Genome> made;
    while (static_cast<int>(children.size()) < options.population) {
      Genome a = result.evaluations[population[tournament(rank, crowd)]].genome;
      Genome b = result.evaluations[population[tournament(rank, crowd)]].genome;
      if (rng.unit() < options.crossover_rate)
        for (size_t k = 0; k < a.size(); ++k)
          if (rng.unit() < 0.5) std::swap(a[k], b[k]);
      for (Genome* child : {&a, &b}) {
        mutate(*child);
        for (int retry = 0; options.avoid_duplicates && !mutable_genes.empty() && retry < 20 &&
                            (seen.count(*child) || made.count(*child));
             ++retry)
          change_gene(*child, mutable_genes[rng.below(static_cast<int>(mutable_genes.size()))],
                      choices, rng);
        if (static_cast<int>(children.size()) < options.population) {
          made.insert(*child);
          children.push_back(*child);
        }
      }
    }
    return children;
  }

  void run() {
    std::vector<size_t> population = initial_population();
    for (int gen = 1; gen <= options.generations && !stop && !population.empty(); ++gen) {
      std::vector<size_t> members = population;
      for (const Genome& child : offspring(population)) {
        const auto i = evaluate(child, gen);
        if (!i) break;
        if (std::find(members.begin(), members.end(), *i) == members.end()) members.push_back(*i);
      }
      population = survivors(members);
      if (!stop) result.generations_done = gen;
    }
    result.stopped_early = stop;
    for (size_t i : population) result.final_population.push_back(result.evaluations[i].genome);
  }
};

}  // namespace

bool dominates(const Fitness& a, const Fitness& b) {
  return a.accuracy >= b.accuracy && a.energy <= b.energy &&
         (a.accuracy > b.accuracy || a.energy < b.energy);
}

std::vector<int> front_ranks(const std::vector<Fitness>& points) {
  const size_t n = points.size();
  std::vector<int> rank(n, 0), dominated_by(n, 0);
  std::vector<std::vector<size_t>> dominates_list(n);
  std::vector<size_t> current;
  for (size_t i = 0; i < n; ++i) {
    for (size_t j = 0; j < n; ++j) {
      if (dominates(points[i], points[j]))
        dominates_list[i].push_back(j);
      else if (dominates(points[j], points[i]))
        ++dominated_by[i];
    }
    if (dominated_by[i] == 0) current.push_back(i);
  }
  for (int f = 0; !current.empty(); ++f) {
    std::vector<size_t> next;
    for (size_t i : current) {
      rank[i] = f;
      for (size_t j : dominates_list[i])
        if (--dominated_by[j] == 0) next.push_back(j);
    }
    current = std::move(next);
  }
  return rank;
}

std::vector<double> crowding_distances(const std::vector<Fitness>& front) {
  const size_t n = front.size();
  std::vector<double> d(n, 0);
  const double inf = std::numeric_limits<double>::infinity();
  for (int objective = 0; objective < 2; ++objective) {
    auto value = [&](size_t i) { return objective == 0 ? front[i].accuracy : front[i].energy; };
    std::vector<size_t> order(n);
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return value(a) < value(b); });
    if (n == 0) continue;
    d[order.front()] = d[order.back()] = inf;
    const double span = value(order.back()) - value(order.front());
    if (span <= 0) continue;
    for (size_t r = 1; r + 1 < n; ++r)
      d[order[r]] += (value(order[r + 1]) - value(order[r - 1])) / span;
  }
  return d;
}

Nsga2Result run_nsga2(const std::vector<int>& choices, const FitnessFunction& fitness,
                      const Nsga2Options& options, const EvaluationCallback& on_evaluation) {
  if (choices.empty()) fail("NSGA-II: no genes (the model has no layers to choose for)");
  for (size_t k = 0; k < choices.size(); ++k)
    if (choices[k] < 1) fail("NSGA-II: gene {} has no choices", k);
  if (options.population < 2) fail("--population must be at least 2, got {}", options.population);
  if (options.generations < 0) fail("--generations must be >= 0, got {}", options.generations);
  if (!(options.crossover_rate >= 0 && options.crossover_rate <= 1))
    fail("NSGA-II: crossover rate must be in [0, 1], got {}", options.crossover_rate);
  if (options.mutation_rate > 1)
    fail("NSGA-II: mutation rate must be in [0, 1], got {}", options.mutation_rate);

  Search search(choices, fitness, options, on_evaluation);
  for (size_t k = 0; k < choices.size(); ++k)
    if (choices[k] >= 2) search.mutable_genes.push_back(k);
  search.mutation_rate = options.mutation_rate >= 0 ? options.mutation_rate
                                                    : 1.0 / static_cast<double>(choices.size());
  search.run();
  Nsga2Result result = std::move(search.result);
  result.seconds = search.elapsed();

  // Non-dominated among all evaluations: sweep by energy ascending, keeping each point whose
  // accuracy beats every cheaper point and equals the best of its own energy.
  const auto& ev = result.evaluations;
  std::vector<size_t> order(ev.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    if (ev[a].fitness.energy != ev[b].fitness.energy) return ev[a].fitness.energy < ev[b].fitness.energy;
    return ev[a].fitness.accuracy > ev[b].fitness.accuracy;
  });
  double best_cheaper = -std::numeric_limits<double>::infinity();
  for (size_t r = 0; r < order.size();) {
    size_t end = r;
    while (end < order.size() && ev[order[end]].fitness.energy == ev[order[r]].fitness.energy) ++end;
    const double group_best = ev[order[r]].fitness.accuracy;
    if (group_best > best_cheaper)
      for (size_t i = r; i < end && ev[order[i]].fitness.accuracy == group_best; ++i)
        result.front.push_back(order[i]);
    best_cheaper = std::max(best_cheaper, group_best);
    r = end;
  }
  return result;
}

}  // namespace fames
