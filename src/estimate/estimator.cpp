#include "estimate/estimator.h"

#include <algorithm>
#include <map>
#include <random>

#include "appmul/synth/loss_change.h"
#include "dist/process_group.h"
#include "measure/counting.h"
#include "models/batches.h"
#include "models/zoo.h"
#include "quant/quant_layer.h"
#include "util/error.h"
#include "util/progress.h"

namespace fames::estimate {
namespace {
constexpr int64_t kDenseLimit = 1024;

// The logit-space vectors whose back-propagation gives the u of one batch: v[i] is [N, K]. The
// Hessian rows of vector i carry weight[i] (per sample). `first` is the index of the vector whose G
// is the first-order term, or -1 when it is the G of the sample's own class among the GN vectors
// (p - e_y is the GN vector of class y).
struct Vectors {
  std::vector<torch::Tensor> v, weight;
  bool unit_weights = false;  // every weight is 1 (the Hessian rows need no scaling)
  int first = 0;
  int hessian_begin = 0;  // vectors [hessian_begin, size) are Hessian factors
};

Vectors make_vectors(const EstimateOptions& options, const torch::Tensor& p, const torch::Tensor& labels,
                     std::mt19937_64& rng) {
  const int64_t n = p.size(0), k = p.size(1);
  auto onehot = [&](const torch::Tensor& c) { return torch::one_hot(c, k).to(torch::kFloat); };
  Vectors out;
  if (options.hessian == Hessian::kGaussNewton && (options.gn_classes <= 0 || options.gn_classes >= k)) {
    for (int64_t c = 0; c < k; ++c) {
      out.v.push_back(p - onehot(torch::full({n}, c, torch::kInt64)));
      out.weight.push_back(p.select(1, c).contiguous());
    }
    out.first = -1;
    return out;
  }
  out.v.push_back(p - onehot(labels));
  out.weight.push_back(torch::ones({n}));
  switch (options.hessian) {
    case Hessian::kNone:
      out.hessian_begin = 1;
      break;
    case Hessian::kFisher:  // the first-order vectors p - e_y double as the Fisher factor
      out.unit_weights = true;
      break;
    case Hessian::kMonteCarlo: {
      torch::Tensor sampled = torch::empty({n}, torch::kInt64);
      auto pa = p.accessor<float, 2>();
      for (int64_t i = 0; i < n; ++i) {
        std::vector<double> probs(pa[i].data(), pa[i].data() + k);
        sampled[i] = std::discrete_distribution<int64_t>(probs.begin(), probs.end())(rng);
      }
      out.v.push_back(p - onehot(sampled));
      out.weight.push_back(torch::ones({n}));
      out.hessian_begin = 1;
      break;
    }
    case Hessian::kGaussNewton: {  // the gn_classes most probable classes of each sample
      const torch::Tensor order = std::get<1>(p.topk(options.gn_classes, 1));
      for (int64_t r = 0; r < options.gn_classes; ++r) {
        const torch::Tensor c = order.select(1, r).contiguous();
        out.v.push_back(p - onehot(c));
        out.weight.push_back(p.gather(1, c.unsqueeze(1)).squeeze(1));
      }
      out.hessian_begin = 1;
      break;
    }
  }
  return out;
}

// Accumulators of one layer while the samples stream by.
struct Accumulator {
  torch::Tensor h;                   // dense: sum of G G' [T, T] double
  torch::Tensor ug, uu, usum, hist;  // bias correction: sum U G' [O, T], sum U U' [O, O], sum U [O], taps
  std::vector<torch::Tensor> cols, rows, urows;  // factor form: per batch, the nonzero columns and rows
  torch::Tensor e;  // projected form: the candidates' error vectors [T, m] float; rows are then F E
};

// The error vectors of `tables` as the columns of a [T, m] double matrix (ProductTable layout).
torch::Tensor error_columns(const std::vector<const ProductTable*>& tables, int64_t t, const std::string& layer) {
  const int64_t m = static_cast<int64_t>(tables.size());
  torch::Tensor by_table = torch::empty({m, t}, torch::kDouble);  // filled row by row, then transposed
  for (int64_t j = 0; j < m; ++j) {
    const std::vector<int32_t> errors = tables[j]->errors();
    if (static_cast<int64_t>(errors.size()) != t)
      fail("table {} does not fit layer {}", tables[j]->signature().key(), layer);
    std::copy(errors.begin(), errors.end(), by_table.data_ptr<double>() + j * t);
  }
  return by_table.t().contiguous();
}

torch::Tensor nonzero_columns(const torch::Tensor& rows) {
  return rows.ne(0).any(0).nonzero().reshape({-1});
}

// The factor rows of several batches, each over its own columns (cols[i]: sorted table indices of
// rows[i]'s columns), as one [sum of rows, support] matrix over the union of their columns and of
// `extra` (if defined). Returns (support, factor).
std::pair<torch::Tensor, torch::Tensor> assemble_factor(const std::vector<torch::Tensor>& cols,
                                                        const std::vector<torch::Tensor>& rows,
                                                        const torch::Tensor& extra) {
  std::vector<torch::Tensor> all_cols = cols;
  if (extra.defined()) all_cols.push_back(extra);
  const torch::Tensor support = all_cols.empty()
                                    ? torch::empty({0}, torch::kInt64)
                                    : std::get<0>(torch::_unique(torch::cat(all_cols), /*sorted=*/true));
  int64_t r_count = 0;
  for (const auto& r : rows) r_count += r.size(0);
  torch::Tensor f = torch::zeros({r_count, support.size(0)});
  int64_t at = 0;
  for (size_t i = 0; i < rows.size(); ++i) {
    const torch::Tensor pos = torch::searchsorted(support, cols[i]);
    f.slice(0, at, at + rows[i].size(0)).index_copy_(1, pos, rows[i]);
    at += rows[i].size(0);
  }
  return {support, f};
}

// The factor form across ranks: each rank's rows over its own support (finish_layer merges the
// supports), and the bias-correction rows, in rank order.
void gather_factor(Accumulator& a) {
  torch::Tensor support, f;
  std::tie(support, f) = assemble_factor(a.cols, a.rows, torch::Tensor());
  a.cols = dist::all_gather(support);
  const size_t ranks = static_cast<size_t>(dist::size()), me = static_cast<size_t>(dist::rank());
  std::vector<int64_t> heights(ranks, 0), widths(ranks, 0);
  heights[me] = f.size(0);
  widths[me] = f.size(1);
  dist::sum(heights);
  dist::sum(widths);
  const std::vector<torch::Tensor> flat = dist::all_gather(f.reshape({-1}));
  a.rows.clear();
  for (size_t r = 0; r < ranks; ++r) a.rows.push_back(flat[r].reshape({heights[r], widths[r]}));
  if (a.usum.defined()) {
    torch::Tensor mine = a.urows.empty() ? torch::empty({0, a.usum.size(0)}, torch::kFloat) : torch::cat(a.urows, 0);
    a.urows = {torch::cat(dist::all_gather(mine), 0)};
  }
}

// Data-parallel estimates: adds up what every rank accumulated on its shard, so that each rank
// holds what one process would have after all samples (sums: g, dense H, bias-correction terms, tap
// histograms; row lists, whose order does not change a sum of squares: every rank's rows, in rank
// order). The layers share one collective per kind: on a fast link their latency, not their
// bytes, is what the exchange costs.
void sum_over_ranks(std::vector<Accumulator>& acc, std::vector<LayerTerms>& terms, bool second_order) {
  if (!dist::active()) return;
  std::vector<torch::Tensor> sums, hists, rows;  // all double; all int64; all float
  std::vector<int64_t> samples;
  auto rows_of = [](const std::vector<torch::Tensor>& parts, int64_t width) {
    return parts.empty() ? torch::empty({0, width}, torch::kFloat) : torch::cat(parts, 0);
  };
  for (size_t k = 0; k < acc.size(); ++k) {
    const Accumulator& a = acc[k];
    sums.push_back(terms[k].g);
    for (const torch::Tensor& t : {a.h, a.ug, a.uu, a.usum})
      if (t.defined()) sums.push_back(t);
    if (a.usum.defined()) hists.push_back(a.hist);
    samples.push_back(terms[k].samples);
    if (a.e.defined()) {
      rows.push_back(rows_of(a.rows, a.e.size(1)));
      if (a.usum.defined()) rows.push_back(rows_of(a.urows, a.usum.size(0)));
    }
  }
  dist::sum(sums);  // in place: the tensors share storage with the accumulators
  dist::sum_partial(hists);
  dist::sum(samples);
  const std::vector<std::vector<torch::Tensor>> gathered = dist::all_gather(rows);
  size_t next_hist = 0, next_rows = 0;
  for (size_t k = 0; k < acc.size(); ++k) {
    Accumulator& a = acc[k];
    terms[k].samples = samples[k];
    if (a.usum.defined()) a.hist = hists[next_hist++];
    if (a.e.defined()) {
      a.rows = {torch::cat(gathered[next_rows++], 0)};
      if (a.usum.defined()) a.urows = {torch::cat(gathered[next_rows++], 0)};
    } else if (second_order && !terms[k].h_dense) {
      gather_factor(a);
    }
  }
}

// Finishes one layer: applies the bias correction and assembles the factor over the support.
void finish_layer(const quant::QuantLayer& layer, Accumulator& acc, LayerTerms& terms, bool bias_correction) {
  torch::Tensor b;  // [O, T] double
  if (bias_correction) {
    b = measure::mean_counting(layer, acc.hist);
    terms.g -= torch::mv(b.t(), acc.usum);
  }
  if (terms.h_dense) {
    if (!acc.h.defined()) return;
    terms.h = acc.h;
    if (bias_correction) {
      const torch::Tensor bug = torch::matmul(b.t(), acc.ug);  // [T, T]
      terms.h = terms.h - bug - bug.t() + torch::matmul(torch::matmul(b.t(), acc.uu), b);
    }
    return;
  }
  if (acc.rows.empty()) return;
  if (acc.e.defined()) {  // projected: (F - U B) E = F E - U (B E)
    torch::Tensor p = torch::cat(acc.rows, 0);
    acc.rows.clear();
    if (bias_correction)
      p -= torch::matmul(torch::cat(acc.urows, 0), torch::matmul(b, acc.e.to(torch::kDouble)).to(torch::kFloat));
    terms.h = p;
    return;
  }
  torch::Tensor support, f;
  std::tie(support, f) = assemble_factor(acc.cols, acc.rows, bias_correction ? nonzero_columns(b) : torch::Tensor());
  acc.rows.clear();
  if (bias_correction)
    f -= torch::matmul(torch::cat(acc.urows, 0), b.index_select(1, support).to(torch::kFloat));
  terms.h = f;
  terms.support = support;
}

}  // namespace

void parse_hessian(const std::string& name, EstimateOptions& options) {
  options.gn_classes = 0;
  if (name == "gn") {
    options.hessian = Hessian::kGaussNewton;
  } else if (name.size() > 2 && name.compare(0, 2, "gn") == 0 &&
             name.find_first_not_of("0123456789", 2) == std::string::npos && name.size() < 6) {
    options.hessian = Hessian::kGaussNewton;
    options.gn_classes = std::stoi(name.substr(2));
    if (options.gn_classes < 1) fail("--hessian '{}': the number of classes must be at least 1", name);
  } else if (name == "mc") {
    options.hessian = Hessian::kMonteCarlo;
  } else if (name == "fisher") {
    options.hessian = Hessian::kFisher;
  } else if (name == "first" || name == "none") {
    options.hessian = Hessian::kNone;
  } else {
    fail("--hessian '{}' is unknown (gn, gnK e.g. gn3, mc, fisher, first)", name);
  }
}

std::string hessian_name(const EstimateOptions& options) {
  switch (options.hessian) {
    case Hessian::kGaussNewton: return options.gn_classes > 0 ? "gn" + std::to_string(options.gn_classes) : "gn";
    case Hessian::kMonteCarlo: return "mc";
    case Hessian::kFisher: return "fisher";
    case Hessian::kNone: return "first";
  }
  return "?";
}

std::vector<double> LayerTerms::predict(const std::vector<const ProductTable*>& tables) const {
  if (tables.empty()) return {};
  auto check = [&](const torch::Tensor& x, torch::ScalarType type, const char* what) {
    if (x.defined() && (x.scalar_type() != type || !x.is_contiguous()))
      fail("predict: layer {}'s {} is not a contiguous {} tensor", name, what, c10::toString(type));
  };
  check(g, torch::kDouble, "g");
  TermsView v;
  v.name = name;
  v.signature = signature;
  v.samples = samples;
  v.g = g.defined() ? g.data_ptr<double>() : nullptr;
  if (!h.defined()) return predict_loss_change(v, tables);
  if (h_dense) {
    check(h, torch::kDouble, "H");
    v.form = TermsForm::kDense;
    v.h = h.data_ptr<double>();
    return predict_loss_change(v, tables);
  }
  check(h, torch::kFloat, "factor");
  // The full factor is first projected onto these tables' error vectors (P = F E, one matrix
  // product, as compute_terms does batch by batch with a library), then predicted in that form.
  torch::Tensor p = h;
  const std::vector<const ProductTable*>* columns = &projected;
  if (projected.empty()) {
    const torch::Tensor e = error_columns(tables, signature.table_size(), name);  // [T, m]
    p = torch::matmul(h, e.index_select(0, support).to(torch::kFloat)).contiguous();
    columns = &tables;
  }
  v.form = TermsForm::kProjected;
  v.rows = p.size(0);
  v.columns = p.size(1);
  v.factor = p.data_ptr<float>();
  v.projected = columns;
  return predict_loss_change(v, tables);
}

double LayerTerms::predict(const ProductTable& table) const { return predict(std::vector<const ProductTable*>{&table}).front(); }

namespace {

// Sets up a layer's terms and accumulators before the samples stream by; with `project_onto`, a
// layer that would keep a factor gets the error matrix of its candidates (one per signature).
void start_layer(const std::string& name, quant::QuantLayer& layer, const EstimateOptions& options,
                 const Library* project_onto, std::map<std::string, torch::Tensor>& error_matrices,
                 LayerTerms& terms, Accumulator& acc) {
  const bool bc = options.bias_correction, second_order = options.hessian != Hessian::kNone;
  terms.name = name;
  terms.signature = layer.signature();
  terms.macs = layer.macs_per_image();
  const int64_t t = terms.signature.table_size(), o = layer.out_channels();
  terms.g = torch::zeros({t}, torch::kDouble);
  terms.h_dense = t <= kDenseLimit;
  if (second_order && terms.h_dense) acc.h = torch::zeros({t, t}, torch::kDouble);
  if (second_order && !terms.h_dense && project_onto) {
    for (const AppMul* m : project_onto->of_signature(terms.signature)) terms.projected.push_back(&m->table);
    if (!terms.projected.empty()) {
      torch::Tensor& e = error_matrices[terms.signature.key()];
      if (!e.defined()) e = error_columns(terms.projected, t, terms.name).to(torch::kFloat);
      acc.e = e;
    }
  }
  if (bc) {
    acc.usum = torch::zeros({o}, torch::kDouble);
    if (second_order && terms.h_dense) {
      acc.ug = torch::zeros({o, t}, torch::kDouble);
      acc.uu = torch::zeros({o, o}, torch::kDouble);
    }
  }
  layer.set_capture(true);
}

// Which rows of a batch's per-vector tensors ([V, N, X]) make the first-order term and the Hessian
// factor.
struct BatchRows {
  const Vectors& vectors;
  torch::Tensor labels, sample_index;
  torch::Tensor root_weight;  // [Vh, N, 1]; undefined when every weight is 1 (no scaling needed)

  BatchRows(const Vectors& v, const torch::Tensor& batch_labels, int64_t count)
      : vectors(v), labels(batch_labels), sample_index(torch::arange(count)) {
    const int64_t hb = v.hessian_begin, v_count = static_cast<int64_t>(v.v.size());
    if (hb < v_count && !v.unit_weights)
      root_weight = torch::stack(std::vector<torch::Tensor>(v.weight.begin() + hb, v.weight.end())).sqrt().unsqueeze(2);
  }
  // Per sample, the row of its first-order vector ([V, N, X] -> [N, X]).
  torch::Tensor first(const torch::Tensor& x) const {
    return vectors.first >= 0 ? x[vectors.first] : x.index({labels, sample_index});
  }
  // The Hessian factor rows of x ([V, N, X] -> [Vh * N, X]), each scaled by sqrt(weight).
  torch::Tensor hessian(const torch::Tensor& x) const {
    const int64_t hb = vectors.hessian_begin;
    return (root_weight.defined() ? x.slice(0, hb) * root_weight : x.slice(0, hb)).reshape({-1, x.size(2)});
  }
};

// Adds one batch to one layer's terms: `grads` are the output gradients of every vector.
void accumulate(const quant::QuantLayer& layer, const std::vector<torch::Tensor>& grads, const BatchRows& rows,
                const EstimateOptions& options, LayerTerms& terms, Accumulator& acc) {
  const bool bc = options.bias_correction;
  torch::Tensor hist;  // bias correction: the tap histogram, counted by the walk
  const torch::Tensor g = measure::weighted_counting(layer, layer.captured_input, grads, measure::CountingMethod::kAuto,
                                                     bc ? &hist : nullptr);  // [V, N, T]
  terms.g += rows.first(g).sum(0).to(torch::kDouble);
  torch::Tensor u;  // bias correction: U, the output gradient summed over positions [V, N, O]
  if (bc) {
    u = torch::stack(grads).detach().to(torch::kDouble);
    if (u.dim() > 3) u = u.sum({3, 4});
    acc.hist = acc.hist.defined() ? acc.hist + hist : hist;
    acc.usum += rows.first(u).sum(0);
  }
  if (options.hessian == Hessian::kNone) return;
  const torch::Tensor h_rows = rows.hessian(g);
  const torch::Tensor u_rows = bc ? rows.hessian(u) : torch::Tensor();
  if (acc.e.defined()) {
    acc.rows.push_back(torch::matmul(h_rows, acc.e));
    if (bc) acc.urows.push_back(u_rows.to(torch::kFloat));
  } else if (terms.h_dense) {
    const torch::Tensor r = h_rows.to(torch::kDouble);
    acc.h.addmm_(r.t(), r);
    if (bc) {
      acc.ug.addmm_(u_rows.t(), r);
      acc.uu.addmm_(u_rows.t(), u_rows);
    }
  } else {
    const torch::Tensor cols = nonzero_columns(h_rows);
    acc.cols.push_back(cols);
    acc.rows.push_back(h_rows.index_select(1, cols));
    if (bc) acc.urows.push_back(u_rows.to(torch::kFloat));
  }
}

}  // namespace

std::vector<LayerTerms> compute_terms(torch::nn::Module& model, const Dataset& samples, const EstimateOptions& options,
                                      const Library* project_onto) {
  auto layers = quant::quant_layers(model);
  std::vector<LayerTerms> terms(layers.size());
  std::vector<Accumulator> acc(layers.size());
  {
    torch::NoGradGuard no_grad;  // one forward so every layer knows its macs and clipping
    model.eval();
    models::run_model(model, models::make_batch(samples, 0, std::min<int64_t>(2, samples.size())).images);
  }
  const bool bc = options.bias_correction;
  if (options.hessian == Hessian::kNone && !options.first_order)
    fail("--hessian first without the first-order term predicts nothing; keep one of the two terms");
  std::map<std::string, torch::Tensor> error_matrices;  // projected form: [T, m] float by signature
  for (size_t k = 0; k < layers.size(); ++k)
    start_layer(layers[k].first, *layers[k].second, options, project_onto, error_matrices, terms[k], acc[k]);
  std::mt19937_64 rng(options.seed);
  Progress bar(fmt::format("estimate ({}{})", hessian_name(options), bc ? ", bias-corrected" : ""),
               dist::shard(samples.size(), options.batch_size).size(), "img");
  model.eval();
  const dist::Range mine = dist::shard(samples.size(), options.batch_size);  // whole batches per rank
  for (int64_t begin = mine.begin; begin < mine.end; begin += options.batch_size) {
    const int64_t count = std::min(options.batch_size, mine.end - begin);
    models::Batch batch = models::make_batch(samples, begin, count);
    const torch::Tensor logits = models::run_model(model, batch.images);
    const torch::Tensor p = torch::softmax(logits.detach() / options.temperature, 1).contiguous();
    std::vector<torch::Tensor> outputs;
    for (auto& [name, layer] : layers) outputs.push_back(layer->captured_output);
    const Vectors vectors = make_vectors(options, p, batch.labels, rng);
    std::vector<std::vector<torch::Tensor>> grads(layers.size());  // [layer][vector]
    for (const torch::Tensor& v : vectors.v) {
      const auto g = torch::autograd::grad({logits}, outputs, {v / options.temperature}, true, false, true);
      for (size_t k = 0; k < layers.size(); ++k) grads[k].push_back(g[k]);
    }
    const BatchRows rows(vectors, batch.labels, count);
    for (size_t k = 0; k < layers.size(); ++k) accumulate(*layers[k].second, grads[k], rows, options, terms[k], acc[k]);
    for (auto& t : terms) t.samples += count;
    bar.advance(count);
  }
  bar.finish();
  sum_over_ranks(acc, terms, options.hessian != Hessian::kNone);
  for (size_t k = 0; k < layers.size(); ++k) {
    layers[k].second->set_capture(false);
    finish_layer(*layers[k].second, acc[k], terms[k], bc);
    if (!options.first_order) terms[k].g.zero_();
  }
  return terms;
}

Estimate assemble_estimate(const std::vector<LayerTerms>& terms, const Library& library,
                           const EstimateOptions& options) {
  Estimate est;
  est.hessian = hessian_name(options);
  est.bias_correction = options.bias_correction;
  est.first_order = options.first_order;
  est.temperature = options.temperature;
  for (const auto& t : terms) {
    const AppMul* exact = library.exact(t.signature);
    if (!exact)
      fail("the AppMul library has no exact multiplier for {} (layer {}); build it with 'fames lib build'",
           t.signature.key(), t.name);
    EstimateLayer layer;
    layer.name = t.name;
    layer.signature = t.signature;
    layer.macs = t.macs;
    layer.exact = exact->name;
    const std::vector<const AppMul*> candidates = library.of_signature(t.signature);
    std::vector<const ProductTable*> tables;
    for (const AppMul* m : candidates) tables.push_back(&m->table);
    const std::vector<double> dl = t.predict(tables);
    for (size_t i = 0; i < candidates.size(); ++i) {
      const AppMul* m = candidates[i];
      layer.candidates.push_back({m->name, m->exact ? 0.0 : dl[i], m->energy_fj});
      est.appmuls[m->name] = {m->signature(), m->energy_fj, m->metrics.mred};
    }
    est.layers.push_back(std::move(layer));
  }
  est.samples = terms.empty() ? 0 : terms.front().samples;
  return est;
}

}  // namespace fames::estimate
