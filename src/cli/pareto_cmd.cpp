// fames pareto: the FAMES Pareto sweep (select at evenly spaced energy reductions) with every
// configuration's top-1 measured by emulation on validation images; JSON, CSV and a plot.
#include <fmt/core.h>

#include "cli/command.h"
#include "cli/common.h"
#include "core/json_fields.h"
#include "dist/process_group.h"
#include "pipeline/pareto_sweep.h"
#include "pipeline/search_inputs.h"
#include "util/error.h"
#include "util/files.h"

namespace fames::cli {
namespace {

struct ParetoArgs {
  std::string model, est, library, data, out, ga;
  int steps = 11;
  int64_t holdout = 0;
  uint64_t seed = 1;
  SelectOptions solver;
  bool json = false;
};

// --ga's front, checked before the sweep: an array of points with finite "energy_reduction" and "top1".
nlohmann::json read_ga_front(const std::string& path) {
  const std::string where = fmt::format("--ga '{}'", path);
  const nlohmann::json doc = detail::parse_json_file_text(read_file(path), where);
  if (!doc.is_object() || !doc.contains("front")) fail("{} is not a ga.json from 'fames search-ga'", where);
  const detail::JsonFields root(doc, where, "");
  for (size_t i = 0; i < root.array("front").size(); ++i) {
    const detail::JsonFields point = root.element("front", i);
    point.number("energy_reduction");
    point.number("top1");
  }
  return doc["front"];
}

void run_pareto(const ParetoArgs& args) {
  const nlohmann::json ga_front = args.ga.empty() ? nlohmann::json() : read_ga_front(args.ga);
  pipeline::SearchInputs in = pipeline::load_search_inputs(args.model, args.est, args.library, args.data, args.holdout, args.seed);
  const double exact_top1 = in.evaluator->top1(in.evaluator->exact_choice());
  const auto points = pipeline::measured_pareto(*in.evaluator, args.steps, args.solver);
  const nlohmann::json info = {{"model", args.model}, {"estimate", args.est}, {"library", in.library_dir},
                               {"data", in.data_spec}, {"holdout", in.evaluator->holdout_size()},
                               {"seed", args.seed}, {"solver", args.solver.solver}, {"command", command_line()}};
  if (dist::is_root()) pipeline::write_pareto_report(args.out, points, exact_top1, info, ga_front);  // rank 0 writes
  if (args.json) {
    nlohmann::json rows = nlohmann::json::array();
    for (const auto& m : points)
      rows.push_back({{"requested_reduction", m.point.requested_reduction},
                      {"energy_reduction", m.point.assignment.summary->energy_reduction},
                      {"predicted_dl", m.point.assignment.summary->predicted_dl},
                      {"top1", m.top1}});
    print_json({{"out", args.out}, {"exact_top1", exact_top1}, {"points", rows}});
    return;
  }
  fmt::print("exact top-1 {:.2f}% on {} {} images\n", 100 * exact_top1, in.evaluator->holdout_size(),
             in.judged_on == "val" ? "validation" : "held-out training");
  fmt::print("{:>10} {:>10} {:>12} {:>9}\n", "requested", "reached", "predicted dL", "top-1");
  for (const auto& m : points)
    fmt::print("{:>9.2f}% {:>9.2f}% {:>12.4g} {:>8.2f}%\n", 100 * m.point.requested_reduction,
               100 * m.point.assignment.summary->energy_reduction, m.point.assignment.summary->predicted_dl,
               100 * m.top1);
  fmt::print("wrote {0}/pareto.json, {0}/pareto.csv, {0}/pareto.png, {0}/pareto.svg\n", args.out);
}

void setup_pareto(CLI::App& root) {
  auto args = std::make_shared<ParetoArgs>();
  auto* cmd = root.add_subcommand("pareto", "FAMES Pareto sweep with measured accuracy: JSON, CSV and a plot");
  cmd->footer(
      "Example: fames pareto --est est.json --model models/lenet5-fmnist-mp.pt --steps 11 --out pareto/\n"
      "Selects at --steps energy reductions from 0 to the largest feasible one, then measures each\n"
      "configuration's top-1 by emulation on --holdout validation images.\n"
      "Writes OUT/pareto.json, pareto.csv, pareto.png and pareto.svg (needs gnuplot).");
  cmd->add_option("--est", args->est, "est.json from 'fames estimate'")->required()->check(CLI::ExistingFile);
  cmd->add_option("--model", args->model, "Quantized model checkpoint")->required()->check(CLI::ExistingFile);
  cmd->add_option("--lib", args->library, "AppMul library folder (default: the estimate's)");
  cmd->add_option("--data", args->data, "Dataset (default: the model's); the training split is used");
  cmd->add_option("--steps", args->steps, "Energy-reduction targets")->capture_default_str()->check(in_range(1, 1000));
  cmd->add_option("--holdout", args->holdout, holdout_help("measure top-1"))->capture_default_str()
      ->check(at_least(0));
  cmd->add_option("--seed", args->seed, "Seed of the hold-out draw")->capture_default_str();
  cmd->add_option("--solver", args->solver.solver, "cbc or dp")->check(CLI::IsMember({"cbc", "dp"}))->capture_default_str();
  cmd->add_option("--ga", args->ga, "Also draw the front of this ga.json (fames search-ga)")->check(CLI::ExistingFile);
  cmd->add_option("--out", args->out, "Output folder")->required();
  cmd->add_flag("--json", args->json, "Print a JSON summary");
  cmd->callback([args] { run_pareto(*args); });
}

}  // namespace
}  // namespace fames::cli
FAMES_REGISTER_COMMAND("pareto", fames::cli::setup_pareto);
