// What `fames search-ga` and `fames pareto` start from: the model, the AppMul library, the
// candidates and an emulated evaluator (measure/evaluator.h) on validation images.
// Errors (a missing file, no library named) throw fames::Error naming the file or flag.
#pragma once
#include <memory>
#include <string>

#include "appmul/library/library.h"
#include "measure/evaluator.h"
#include "models/checkpoint.h"

namespace fames::pipeline {

// The model (`model_path`), the library (`library_dir`, else the estimate's), the candidates
// (`est_path`, else every fitting library AppMul), the training split of `data_spec` (else the
// model's dataset) and an evaluator on `holdout` images of data::judging_split() (`seed`).
// A bias-corrected estimate gets an evaluator that corrects what it measures, from training images
// outside the holdout.
struct SearchInputs {
  models::LoadedModel model;
  Library library;
  std::string library_dir, data_spec;
  std::string judged_on;  // "val", or "train" without a validation split
  std::unique_ptr<measure::EmulatedEvaluator> evaluator;  // views model.module; declared last, ends first
};
SearchInputs load_search_inputs(const std::string& model_path, const std::string& est_path,
                                const std::string& library_dir, const std::string& data_spec,
                                int64_t holdout, uint64_t seed);

}  // namespace fames::pipeline
