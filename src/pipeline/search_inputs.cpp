#include "pipeline/search_inputs.h"

#include <optional>

#include "data/dataset.h"
#include "estimate/estimator.h"
#include "util/error.h"

namespace fames::pipeline {

SearchInputs load_search_inputs(const std::string& model_path, const std::string& est_path,
                                const std::string& library_dir, const std::string& data_spec,
                                int64_t holdout, uint64_t seed) {
  SearchInputs in;
  std::optional<Estimate> est;
  if (!est_path.empty()) est = Estimate::load(est_path);
  in.library_dir = !library_dir.empty() ? library_dir : est ? est->library : std::string();
  if (in.library_dir.empty()) fail("give --lib (the AppMul library folder) or --est");
  in.model = models::load_model(model_path);
  in.library = Library::load(in.library_dir);
  in.data_spec = !data_spec.empty() ? data_spec
                                    : in.model.meta.value("dataset", std::string(kDefaultDatasetSpec));
  auto [rest, held, judged_on] = judging_split(in.data_spec, holdout, seed);
  models::check_dataset_fits(held, in.model, "--data");
  in.judged_on = judged_on;
  if (!est) est = measure::candidates_from_library(*in.model.module, in.library, held, in.library_dir);
  est->library = in.library_dir;
  const bool corrected = est->bias_correction;
  in.evaluator = std::make_unique<measure::EmulatedEvaluator>(*in.model.module, std::move(*est), in.library, held);
  // Configurations of a corrected estimate are measured corrected, from training images outside
  // the holdout (as many as an estimate uses by default).
  if (corrected) in.evaluator->enable_bias_correction(subset(rest, estimate::kDefaultEstimateSamples, seed));
  return in;
}

}  // namespace fames::pipeline
