#include "estimate/estimator.h"

#include <random>

#include "estimate/counting.h"
#include "models/batches.h"
#include "models/zoo.h"
#include "quant/quant_layer.h"
#include "util/error.h"
#include "util/progress.h"

namespace fames::estimate {
namespace {
constexpr int64_t kDenseLimit = 1024;

struct WeightedVectors {
  torch::Tensor v;       // [N, K] gradient of the loss in the logits, one row per sample
  torch::Tensor weight;  // [N] weight of this vector in the Hessian sum
};

// The vectors v (in logit space) whose back-propagation gives the u_c of the Hessian factorisation.
std::vector<WeightedVectors> hessian_vectors(Hessian h, const torch::Tensor& p, std::mt19937_64& rng) {
  const int64_t n = p.size(0), k = p.size(1);
  std::vector<WeightedVectors> out;
  auto onehot = [&](const torch::Tensor& c) { return torch::one_hot(c, k).to(torch::kFloat); };
  switch (h) {
    case Hessian::kNone:
    case Hessian::kFisher:  // the first-order vectors p - e_y double as the Fisher factor
      break;
    case Hessian::kMonteCarlo: {
      torch::Tensor sampled = torch::empty({n}, torch::kInt64);
      auto pa = p.accessor<float, 2>();
      for (int64_t i = 0; i < n; ++i) {
        std::vector<double> probs(pa[i].data(), pa[i].data() + k);
        sampled[i] = std::discrete_distribution<int64_t>(probs.begin(), probs.end())(rng);
      }
      out.push_back({p - onehot(sampled), torch::ones({n})});
      break;
    }
    case Hessian::kGaussNewton:
      for (int64_t c = 0; c < k; ++c)
        out.push_back({p - onehot(torch::full({n}, c, torch::kInt64)), p.select(1, c).contiguous()});
      break;
  }
  return out;
}

}  // namespace

Hessian parse_hessian(const std::string& name) {
  if (name == "gn") return Hessian::kGaussNewton;
  if (name == "mc") return Hessian::kMonteCarlo;
  if (name == "fisher") return Hessian::kFisher;
  if (name == "first" || name == "none") return Hessian::kNone;
  fail("--hessian '{}' is unknown (gn, mc, fisher, first)", name);
}

const char* hessian_name(Hessian h) {
  switch (h) {
    case Hessian::kGaussNewton: return "gn";
    case Hessian::kMonteCarlo: return "mc";
    case Hessian::kFisher: return "fisher";
    case Hessian::kNone: return "first";
  }
  return "?";
}

double LayerTerms::predict(const ProductTable& table) const {
  const std::vector<int32_t> errors = table.errors();
  const torch::Tensor e = torch::tensor(std::vector<double>(errors.begin(), errors.end()), torch::kDouble);
  const double s = static_cast<double>(std::max<int64_t>(1, samples));
  double dl = torch::dot(g, e).item<double>() / s;
  if (h.defined()) {
    const double quad = h_dense ? torch::dot(e, torch::mv(h, e)).item<double>()
                                : torch::mv(h.to(torch::kDouble), e).pow(2).sum().item<double>();
    dl += 0.5 * quad / s;
  }
  return dl;
}

std::vector<LayerTerms> compute_terms(torch::nn::Module& model, const Dataset& samples, const EstimateOptions& options) {
  auto layers = quant::quant_layers(model);
  std::vector<LayerTerms> terms(layers.size());
  {
    torch::NoGradGuard no_grad;  // one forward so every layer knows its macs and clipping
    model.eval();
    models::run_model(model, models::make_batch(samples, 0, std::min<int64_t>(2, samples.size())).images);
  }
  for (size_t k = 0; k < layers.size(); ++k) {
    auto& layer = *layers[k].second;
    terms[k].name = layers[k].first;
    terms[k].signature = layer.signature();
    terms[k].macs = layer.macs_per_image();
    const int64_t t = terms[k].signature.table_size();
    terms[k].g = torch::zeros({t}, torch::kDouble);
    terms[k].h_dense = t <= kDenseLimit;
    if (options.hessian != Hessian::kNone && terms[k].h_dense) terms[k].h = torch::zeros({t, t}, torch::kDouble);
    layer.set_capture(true);
  }
  std::vector<std::vector<torch::Tensor>> factor_rows(layers.size());
  std::mt19937_64 rng(options.seed);
  Progress bar(fmt::format("estimate ({})", hessian_name(options.hessian)), samples.size(), "img");
  model.eval();
  for (int64_t begin = 0; begin < samples.size(); begin += options.batch_size) {
    const int64_t count = std::min(options.batch_size, samples.size() - begin);
    models::Batch batch = models::make_batch(samples, begin, count);
    const torch::Tensor logits = models::run_model(model, batch.images);
    const torch::Tensor p = torch::softmax(logits.detach(), 1);
    std::vector<torch::Tensor> outputs;
    for (auto& [name, layer] : layers) outputs.push_back(layer->captured_output);
    std::vector<WeightedVectors> vectors = {{p - torch::one_hot(batch.labels, p.size(1)).to(torch::kFloat), {}}};
    for (auto& wv : hessian_vectors(options.hessian, p, rng)) vectors.push_back(std::move(wv));
    for (size_t vi = 0; vi < vectors.size(); ++vi) {
      const bool first_order = vi == 0;
      const auto grads = torch::autograd::grad({logits}, outputs, {vectors[vi].v}, true, false, true);
      for (size_t k = 0; k < layers.size(); ++k) {
        const torch::Tensor g = weighted_counting(*layers[k].second, layers[k].second->captured_input, grads[k]);
        if (first_order) terms[k].g += g.sum(0).to(torch::kDouble);
        const bool hessian_term = (first_order && options.hessian == Hessian::kFisher) || (!first_order);
        if (!hessian_term) continue;
        const torch::Tensor weight = first_order ? torch::ones({count}) : vectors[vi].weight;
        const torch::Tensor rows = g * weight.sqrt().unsqueeze(1);
        if (terms[k].h_dense) {
          const torch::Tensor r = rows.to(torch::kDouble);
          terms[k].h += torch::matmul(r.t(), r);
        } else {
          factor_rows[k].push_back(rows);
        }
      }
    }
    for (auto& t : terms) t.samples += count;
    bar.advance(count);
  }
  bar.finish();
  for (size_t k = 0; k < layers.size(); ++k) {
    layers[k].second->set_capture(false);
    if (!terms[k].h_dense && !factor_rows[k].empty()) terms[k].h = torch::cat(factor_rows[k], 0);
  }
  return terms;
}

Estimate assemble_estimate(const std::vector<LayerTerms>& terms, const Library& library) {
  Estimate est;
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
    for (const AppMul* m : library.of_signature(t.signature)) {
      layer.candidates.push_back({m->name, m->exact ? 0.0 : t.predict(m->table), m->energy_fj});
      est.appmuls[m->name] = {m->signature(), m->energy_fj, m->metrics.mred};
    }
    est.layers.push_back(std::move(layer));
  }
  est.samples = terms.empty() ? 0 : terms.front().samples;
  return est;
}

}  // namespace fames::estimate
