#include "estimate/terms_file.h"

#include <torch/torch.h>

#include "util/error.h"

namespace fames::estimate {
namespace {

template <typename T>
std::vector<T> values_of(const torch::Tensor& t) {
  return std::vector<T>(t.data_ptr<T>(), t.data_ptr<T>() + t.numel());
}

TermsLayer to_terms_layer(const LayerTerms& t) {
  TermsLayer l;
  l.name = t.name;
  l.signature = t.signature;
  l.macs = t.macs;
  l.samples = t.samples;
  l.g = values_of<double>(t.g.to(torch::kDouble).contiguous());
  if (t.h.defined() && t.h_dense) {
    l.form = TermsLayer::Form::kDense;
    l.h = values_of<double>(t.h.to(torch::kDouble).contiguous());
  } else if (t.h.defined()) {
    if (!t.projected.empty()) fail("layer {}: projected terms cannot be written to a terms file", t.name);
    const torch::Tensor f = t.h.to(torch::kFloat).contiguous();
    l.form = TermsLayer::Form::kFactor;
    l.rows = f.size(0);
    l.support = values_of<int64_t>(t.support.to(torch::kLong).contiguous());
    l.factor = values_of<float>(f);
  }
  return l;
}

}  // namespace

TermsFile to_terms_file(const std::vector<LayerTerms>& terms, const std::string& model,
                        const std::string& hessian) {
  TermsFile file;
  file.model = model;
  file.hessian = hessian;
  for (const LayerTerms& t : terms) file.layers.push_back(to_terms_layer(t));
  return file;
}

}  // namespace fames::estimate
