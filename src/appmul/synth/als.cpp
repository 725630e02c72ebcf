#include "appmul/synth/als.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <memory>
#include <numeric>
#include <random>
#include <tuple>

#include "core/operand_histogram.h"
#include "appmul/netlist/gate_eval.h"
#include "appmul/netlist/simulate.h"
#include "appmul/synth/als_tracker.h"
#include "util/error.h"

namespace fames {
namespace {

// One candidate move: node `target` takes the value of `substitute` (complemented if `invert`).
struct Move {
  int32_t target = -1;
  int32_t substitute = -1;
  bool invert = false;
  double error = 0;
  double objective = 0;  // with an AlsObjective: its value after the move
  double saving = 0;
  double score = -1;
};

bool is_logic(GateType type) {
  return type != GateType::kInput && type != GateType::kConst0 && type != GateType::kConst1;
}

// Sum of popcount(a[k] ^ b[k]) (b may be null: popcount(a[k])). Uses the POPCNT instruction when
// the CPU has it; the portable builtin otherwise compiles to a slow library call.
#if defined(__x86_64__) && defined(__GNUC__)
__attribute__((target("popcnt"))) int64_t popcount_hw(const uint64_t* a, const uint64_t* b,
                                                      int64_t words) {
  int64_t n = 0;
  for (int64_t k = 0; k < words; ++k) n += __builtin_popcountll(b ? a[k] ^ b[k] : a[k]);
  return n;
}
#endif

int64_t popcount_words(const uint64_t* a, const uint64_t* b, int64_t words) {
#if defined(__x86_64__) && defined(__GNUC__)
  static const bool has_popcnt = __builtin_cpu_supports("popcnt");
  if (has_popcnt) return popcount_hw(a, b, words);
#endif
  int64_t n = 0;
  for (int64_t k = 0; k < words; ++k) n += __builtin_popcountll(b ? a[k] ^ b[k] : a[k]);
  return n;
}

// The search state of one step: the current netlist, its exhaustive node values, fanouts,
// reference counts, energy proxy per node and output words, all rebuilt after each accepted move.
class AlsStep {
 public:
  AlsStep(Netlist& net, const AlsOptions& options, detail::AlsErrorTracker& tracker)
      : net_(net), options_(options), tracker_(tracker) {
    const0_ = net_.const0();
    const1_ = net_.const1();
    values_ = simulate_exhaustive(net_);
    words_ = values_.words;
    last_mask_ = last_word_mask(values_.patterns);
    build_structure();
    current_error_ = tracker_.reset(output_patterns(net_, values_));
    current_objective_ = tracker_.objective();
  }

  // Best admissible move over the sampled gates; score < 0 when there is none. When no sampled
  // gate has one (near the bound), further samples of the remaining gates are tried, so a run
  // stops only when no gate at all has an admissible move.
  Move search(std::mt19937_64& rng) {
    std::vector<int32_t> sample = live_gates_;
    const size_t chunk = size_t(std::max(1, options_.candidates_per_step));
    Move best;
    ranked_.clear();  // with an objective: the admissible moves, ranked by its estimate
    for (size_t from = 0; from < sample.size(); from += chunk) {
      const size_t to = std::min(sample.size(), from + chunk);
      shuffle_prefix(sample, from, to, rng);
      for (size_t i = from; i < to; ++i) consider_target(sample[i], best);
      if (best.score >= 0 || !ranked_.empty()) break;
    }
    if (!options_.objective) return best;
    // Re-score the best few by the objective's exact value.
    std::sort(ranked_.begin(), ranked_.end(),
              [](const Move& a, const Move& b) { return a.score > b.score; });
    best = Move{};
    const size_t rechecks = std::min(ranked_.size(), size_t(std::max(1, options_.exact_rechecks)));
    for (size_t i = 0; i < rechecks; ++i) {
      Move m = ranked_[i];
      const std::vector<int32_t> tfo = transitive_fanout(m.target);
      m.error = move_error(tfo, m.substitute, m.invert, &m.objective, true);
      if (m.error > options_.max_error || m.objective > options_.max_objective) continue;
      m.score = m.saving / added(m.objective, current_objective_);
      if (m.score > best.score) best = m;
    }
    return best;
  }

  // Partial Fisher-Yates: positions [from, to) get uniformly drawn gates of [from, end).
  static void shuffle_prefix(std::vector<int32_t>& sample, size_t from, size_t to, std::mt19937_64& rng) {
    for (size_t i = from; i < to; ++i) {
      std::uniform_int_distribution<size_t> pick(i, sample.size() - 1);
      std::swap(sample[i], sample[pick(rng)]);
    }
  }

  // Redirects every reader of move.target to the substitute (through a new inverter if needed).
  void apply(const Move& move) {
    int32_t source = move.substitute;
    if (move.invert) source = net_.add_gate(GateType::kNot, source);
    net_.replace_uses(move.target, source);
  }

 private:
  void build_structure() {
    const auto& nodes = net_.nodes();
    const size_t n = nodes.size();
    fanouts_.assign(n, {});
    refs_.assign(n, 0);
    position_.assign(n, -1);
    const std::vector<int32_t> order = net_.topological_order(true);
    for (size_t i = 0; i < order.size(); ++i) {
      const int32_t id = order[i];
      position_[id] = static_cast<int32_t>(i);
      const Gate& g = nodes[id];
      if (is_logic(g.type)) live_gates_.push_back(id);
      const int fanins = fanin_count(g.type);
      if (fanins >= 1) fanouts_[g.in0].push_back(id), ++refs_[g.in0];
      if (fanins >= 2) fanouts_[g.in1].push_back(id), ++refs_[g.in1];
    }
    for (int32_t out : net_.outputs()) ++refs_[out];
    // Energy proxy per node: toggles x (internal + load charging) + leakage over one cycle.
    const CellLibrary& cells = options_.cells;
    const double half_v2 = 0.5 * cells.voltage * cells.voltage;
    node_energy_.assign(n, 0);
    load_ff_.assign(n, 0);
    not_of_.assign(n, -1);
    for (int32_t id : order) {
      const Gate& g = nodes[id];
      if (!is_logic(g.type)) continue;
      double load_ff = 0;
      for (int32_t reader : fanouts_[id]) {
        const Gate& r = nodes[reader];
        const auto& caps = cells.cell(r.type).input_cap_ff;
        if (r.in0 == id && caps.size() > 0) load_ff += caps[0];
        if (r.in1 == id && caps.size() > 1) load_ff += caps[1];
      }
      for (int32_t out : net_.outputs())
        if (out == id) load_ff += options_.cost.output_load_ff;
      load_ff_[id] = load_ff;
      if (g.type == GateType::kNot && not_of_[g.in0] < 0) not_of_[g.in0] = id;
      const CellFigures& cell = cells.cell(g.type);
      node_energy_[id] = toggle_rate(id) * (cell.internal_fj + half_v2 * load_ff) +
                         cell.leakage_nw * options_.cost.cycle_ns * 1e-3;
    }
  }

  // Proxy energy of a new inverter of `source` that drives the readers of `target`.
  double inverter_energy(int32_t source, int32_t target) const {
    const CellLibrary& cells = options_.cells;
    const CellFigures& inv = cells.cell(GateType::kNot);
    const double half_v2 = 0.5 * cells.voltage * cells.voltage;
    return toggle_rate(source) * (inv.internal_fj + half_v2 * load_ff_[target]) +
           inv.leakage_nw * options_.cost.cycle_ns * 1e-3;
  }

  double toggle_rate(int32_t id) const {
    const int64_t ones = popcount_words(values_.node(id), nullptr, words_);
    const double p = double(ones) / double(values_.patterns);
    return 2 * p * (1 - p);  // consecutive uniform operand pairs are independent
  }

  // Transitive fanout of `root` (root included), in topological order.
  std::vector<int32_t> transitive_fanout(int32_t root) const {
    std::vector<int32_t> tfo{root};
    std::vector<char> seen(fanouts_.size(), 0);
    seen[root] = 1;
    for (size_t i = 0; i < tfo.size(); ++i)
      for (int32_t r : fanouts_[tfo[i]])
        if (!seen[r]) seen[r] = 1, tfo.push_back(r);
    std::sort(tfo.begin(), tfo.end(),
              [&](int32_t a, int32_t b) { return position_[a] < position_[b]; });
    return tfo;
  }

  // Energy proxy of the gates that die when every reader of `target` reads `substitute` instead.
  double dead_energy(int32_t target, int32_t substitute) const {
    std::vector<int32_t> refs = refs_;
    refs[substitute] += refs[target];
    refs[target] = 0;
    double saved = 0;
    std::vector<int32_t> stack{target};
    while (!stack.empty()) {
      const int32_t id = stack.back();
      stack.pop_back();
      const Gate& g = net_.nodes()[id];
      if (!is_logic(g.type)) continue;
      saved += node_energy_[id];
      const int fanins = fanin_count(g.type);
      if (fanins >= 1 && --refs[g.in0] == 0) stack.push_back(g.in0);
      if (fanins >= 2 && --refs[g.in1] == 0) stack.push_back(g.in1);
    }
    return saved;
  }

  // The substitutes_per_node signals outside `tfo` nearest to `target` in Hamming distance, with
  // the polarity that is nearer.
  std::vector<std::pair<int32_t, bool>> similar_signals(int32_t target,
                                                        const std::vector<char>& in_tfo) const {
    std::vector<std::tuple<int64_t, int32_t, bool>> ranked;
    const uint64_t* t = values_.node(target);
    for (size_t id = 0; id < net_.nodes().size(); ++id) {
      const GateType type = net_.nodes()[id].type;
      if (in_tfo[id] || position_[id] < 0 || type == GateType::kConst0 || type == GateType::kConst1)
        continue;
      const uint64_t* v = values_.node(static_cast<int32_t>(id));
      const int64_t d = popcount_words(t, v, words_);
      const int64_t d_inv = values_.patterns - d;
      ranked.emplace_back(std::min(d, d_inv), static_cast<int32_t>(id), d_inv < d);
    }
    const size_t keep = std::min(ranked.size(), size_t(std::max(0, options_.substitutes_per_node)));
    std::partial_sort(ranked.begin(), ranked.begin() + keep, ranked.end());
    std::vector<std::pair<int32_t, bool>> result;
    for (size_t i = 0; i < keep; ++i) result.emplace_back(std::get<1>(ranked[i]), std::get<2>(ranked[i]));
    return result;
  }

  void consider_target(int32_t target, Move& best) {
    const std::vector<int32_t> tfo = transitive_fanout(target);
    std::vector<char> in_tfo(net_.nodes().size(), 0);
    for (int32_t id : tfo) in_tfo[id] = 1;
    std::vector<std::pair<int32_t, bool>> moves{{const0_, false}, {const1_, false}};
    for (const auto& s : similar_signals(target, in_tfo)) moves.push_back(s);
    for (auto [substitute, invert] : moves) {
      if (invert && not_of_[substitute] >= 0) {
        // Reuse the existing inverter; if it lies in the fanout (e.g. it is the target), skip.
        if (in_tfo[not_of_[substitute]]) continue;
        substitute = not_of_[substitute];
        invert = false;
      }
      Move m;
      m.target = target;
      m.substitute = substitute;
      m.invert = invert;
      m.saving = dead_energy(target, substitute) - (invert ? inverter_energy(substitute, target) : 0);
      if (m.saving <= 0) continue;
      const bool with_objective = options_.objective != nullptr;
      m.error = move_error(tfo, substitute, invert, with_objective ? &m.objective : nullptr, false);
      if (m.error > options_.max_error) continue;
      if (with_objective) {
        if (m.objective > options_.max_objective) continue;
        m.score = m.saving / added(m.objective, current_objective_);
        ranked_.push_back(m);
        continue;
      }
      m.score = m.saving / added(m.error, current_error_);
      if (m.score > best.score) best = m;
    }
  }

  // Error added by a move; moves that add none rank by saving, above all others.
  static double added(double after, double before) {
    return std::max(after - before, 1e-9 * (1 + std::abs(before)));
  }

  // Error of the netlist after the move, re-simulating only the target's transitive fanout.
  double move_error(const std::vector<int32_t>& tfo, int32_t substitute, bool invert,
                    double* objective, bool exact_objective) {
    slot_.assign(net_.nodes().size(), -1);
    scratch_.assign(tfo.size() * words_, 0);
    for (size_t i = 0; i < tfo.size(); ++i) slot_[tfo[i]] = static_cast<int32_t>(i);
    auto word_of = [&](int32_t id) -> const uint64_t* {
      return slot_[id] >= 0 ? scratch_.data() + slot_[id] * words_ : values_.node(id);
    };
    const uint64_t* s = values_.node(substitute);
    uint64_t* root = scratch_.data();
    for (int64_t k = 0; k < words_; ++k) root[k] = invert ? ~s[k] : s[k];
    root[words_ - 1] &= last_mask_;
    for (size_t i = 1; i < tfo.size(); ++i) {
      const Gate& g = net_.nodes()[tfo[i]];
      uint64_t* out = scratch_.data() + i * words_;
      eval_gate_words(g.type, word_of(g.in0), g.in1 >= 0 ? word_of(g.in1) : nullptr, out, words_,
                      last_mask_);
    }
    const auto& outs = net_.outputs();
    for (size_t j = 0; j < outs.size(); ++j) {
      if (slot_[outs[j]] < 0) continue;
      const uint64_t* now = word_of(outs[j]);
      const uint64_t* before = values_.node(outs[j]);
      for (int64_t k = 0; k < words_; ++k) {
        uint64_t diff = now[k] ^ before[k];
        while (diff) {
          const int b = __builtin_ctzll(diff);
          tracker_.flip(k * 64 + b, static_cast<int>(j));
          diff &= diff - 1;
        }
      }
    }
    return tracker_.candidate_metric(objective, exact_objective);
  }

  Netlist& net_;
  const AlsOptions& options_;
  detail::AlsErrorTracker& tracker_;
  int32_t const0_ = -1, const1_ = -1;
  NodeValues values_;
  int64_t words_ = 0;
  uint64_t last_mask_ = ~uint64_t{0};
  std::vector<std::vector<int32_t>> fanouts_;
  std::vector<int32_t> refs_, position_, live_gates_, slot_;
  std::vector<double> node_energy_, load_ff_;  // proxy fJ per operation; driven load, fF
  std::vector<int32_t> not_of_;                 // a live NOT gate reading the node, or -1
  std::vector<uint64_t> scratch_;
  std::vector<Move> ranked_;  // with an objective: admissible moves of this step
  double current_error_ = 0, current_objective_ = 0;
};

void check_options(const Netlist& exact, const AlsOptions& o) {
  if (exact.outputs().empty()) fail("ALS: the netlist '{}' has no outputs", exact.name());
  if (o.max_steps < 0 || o.candidates_per_step < 1 || o.substitutes_per_node < 0)
    fail("ALS: max_steps must be >= 0, candidates_per_step >= 1 and substitutes_per_node >= 0");
  if (!(o.max_error >= 0)) fail("ALS: the error bound must be >= 0, got {}", o.max_error);
  if (!o.pair_weights.empty())
    check_pair_weights(exact.signature(), o.pair_weights,
                       "ALS pair weights for " + exact.signature().key());
}

// The Pareto front of `appmuls` with error errors[i] (see pareto_front in als.h).
std::vector<AppMul> pareto_front_by(const std::vector<AppMul>& appmuls,
                                    const std::vector<double>& errors) {
  std::vector<size_t> order(appmuls.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    if (appmuls[a].energy_fj != appmuls[b].energy_fj) return appmuls[a].energy_fj < appmuls[b].energy_fj;
    return errors[a] < errors[b];
  });
  std::vector<AppMul> front;
  double best_error = std::numeric_limits<double>::infinity();
  for (size_t i : order) {
    if (errors[i] >= best_error) continue;  // a cheaper-or-equal member is at least as accurate
    best_error = errors[i];
    front.push_back(appmuls[i]);
  }
  return front;
}

}  // namespace

AlsMetric parse_als_metric(const std::string& name) {
  for (AlsMetric m : {AlsMetric::kMred, AlsMetric::kNmed, AlsMetric::kEr, AlsMetric::kWce, AlsMetric::kMse})
    if (name == als_metric_name(m)) return m;
  fail("unknown ALS error metric '{}' (expected mred, nmed, er, wce or mse)", name);
}

const char* als_metric_name(AlsMetric metric) {
  switch (metric) {
    case AlsMetric::kMred: return "mred";
    case AlsMetric::kNmed: return "nmed";
    case AlsMetric::kEr: return "er";
    case AlsMetric::kWce: return "wce";
    case AlsMetric::kMse: return "mse";
  }
  return "?";
}

double metric_value(const ErrorMetrics& e, AlsMetric metric) {
  switch (metric) {
    case AlsMetric::kMred: return e.mred;
    case AlsMetric::kNmed: return e.nmed;
    case AlsMetric::kEr: return e.er;
    case AlsMetric::kWce: return e.wce;
    case AlsMetric::kMse: return e.mse;
  }
  return 0;
}

std::vector<AppMul> run_als(const Netlist& exact, const AlsOptions& options) {
  check_options(exact, options);
  const std::string metric = als_metric_name(options.metric);
  const std::string key = exact.signature().key();
  const std::string source = "als:" + metric + (options.pair_weights.empty() ? "" : ":histogram");
  std::mt19937_64 rng(options.seed);
  Netlist net = exact.strash();
  detail::AlsErrorTracker tracker(exact.signature(), options);
  std::vector<AppMul> steps;
  for (int step = 1; step <= options.max_steps; ++step) {
    AlsStep state(net, options, tracker);
    const Move move = state.search(rng);
    if (move.score < 0) break;
    state.apply(move);
    net = net.strash();
    net.set_name(options.tag.empty() ? fmt::format("als_{}_s{}_{}", metric, step, key)
                                     : fmt::format("als_{}_{}_s{}_{}", metric, options.tag, step, key));
    AppMul m = characterize(net, source, options.cells, options.cost);
    // The running sums can differ from metrics.h in the last bits; the bound is a promise.
    if (als_error(m, options) > options.max_error) break;
    steps.push_back(std::move(m));
    if (options.on_step) options.on_step(steps.back());
  }
  return steps;
}

double als_error(const AppMul& m, const AlsOptions& options) {
  if (options.pair_weights.empty()) return metric_value(m.metrics, options.metric);
  return metric_value(error_metrics(m.table, options.pair_weights), options.metric);
}

std::vector<AppMul> pareto_front(const std::vector<AppMul>& appmuls, AlsMetric metric) {
  std::vector<double> errors;
  for (const AppMul& m : appmuls) errors.push_back(metric_value(m.metrics, metric));
  return pareto_front_by(appmuls, errors);
}

std::vector<AppMul> pareto_front(const std::vector<AppMul>& appmuls, const AlsOptions& options) {
  std::vector<double> errors;
  for (const AppMul& m : appmuls) errors.push_back(als_error(m, options));
  return pareto_front_by(appmuls, errors);
}

}  // namespace fames
