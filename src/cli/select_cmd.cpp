// fames select: picks one AppMul per layer from an estimate (est.json) by integer programming,
// under an energy-reduction target or a predicted-loss bound, and writes the assignment
// (assign.json). --sweep N instead solves N reduction targets from 0 to the largest feasible one.
#include <fmt/core.h>

#include <nlohmann/json.hpp>

#include "cli/command.h"
#include "cli/common.h"
#include "select/selection.h"
#include "util/error.h"
#include "util/files.h"

namespace {

struct SelectFlags {
  std::string estimate_path, out_path;
  double energy_reduction = 0, max_loss_increase = 0;
  int sweep = 0;
  bool json = false;
  fames::SelectOptions solver;
};

void run_single(const fames::Estimate& estimate, const SelectFlags& flags, bool by_energy) {
  using namespace fames;
  if (flags.out_path.empty()) fail("--out is required (the assignment file to write)");
  Assignment chosen;
  if (by_energy) {
    check_energy_reduction(estimate, flags.energy_reduction, "--energy-reduction");
    chosen = select_for_energy_reduction(estimate, flags.energy_reduction, flags.solver);
  } else {
    check_max_loss_increase(flags.max_loss_increase, "--max-loss-increase");
    chosen = select_for_max_loss_increase(estimate, flags.max_loss_increase, flags.solver);
  }
  chosen.save(flags.out_path);
  if (flags.json) {
    nlohmann::json report = chosen.to_json();
    report["out"] = flags.out_path;
    fmt::print("{}\n", report.dump(2));
  } else {
    fmt::print("{}wrote {}\n", selection_table(estimate, chosen), flags.out_path);
  }
}

void run_sweep(const fames::Estimate& estimate, const SelectFlags& flags) {
  using namespace fames;
  const std::vector<ParetoPoint> points = pareto_sweep(estimate, flags.sweep, flags.solver);
  const nlohmann::json all = pareto_to_json(points);
  if (!flags.out_path.empty()) write_file_atomic(flags.out_path, all.dump(2) + "\n");
  if (flags.json) {
    fmt::print("{}\n", all.dump(2));
    return;
  }
  fmt::print("{:>10} {:>10} {:>12} {:>16}\n", "requested", "reached", "predicted dL",
             "fJ per image");
  for (const ParetoPoint& p : points) {
    const AssignmentSummary& s = *p.assignment.summary;
    fmt::print("{:>9.2f}% {:>9.2f}% {:>12.4g} {:>16.4g}\n", 100 * p.requested_reduction,
               100 * s.energy_reduction, s.predicted_dl, s.energy_fj_per_image);
  }
  if (!flags.out_path.empty()) fmt::print("wrote {}\n", flags.out_path);
}

void setup_select(CLI::App& root) {
  auto flags = std::make_shared<SelectFlags>();
  auto* cmd = root.add_subcommand(
      "select",
      "Choose one AppMul per layer from an estimate by integer programming.\n"
      "Reads est.json (from 'fames estimate'), writes assign.json (layer -> AppMul).\n"
      "Example: fames select --est est.json --energy-reduction 0.3 --out assign.json");
  cmd->add_option("--est", flags->estimate_path, "Estimate file (est.json) to select from")
      ->required()
      ->check(CLI::ExistingFile);
  auto* by_energy = cmd->add_option(
      "--energy-reduction", flags->energy_reduction,
      "Target multiplication-energy reduction vs exact multipliers, in [0, 1): minimize the "
      "predicted loss change subject to it")
      ->check(fames::cli::in_range(0, 1));
  auto* by_loss =
      cmd->add_option("--max-loss-increase", flags->max_loss_increase,
                      "Bound on the predicted loss change (>= 0): minimize energy subject to it")
      ->check(fames::cli::at_least(0));
  auto* sweep =
      cmd->add_option(
             "--sweep", flags->sweep,
             "Instead of one target, solve N reductions from 0 to the largest feasible one (Pareto "
             "front); --out then receives a JSON array")
          ->check(fames::cli::in_range(1, 10000));
  by_energy->excludes(by_loss)->excludes(sweep);
  by_loss->excludes(sweep);
  cmd->add_option("--out", flags->out_path, "Assignment file to write (assign.json)");
  cmd->add_option("--solver", flags->solver.solver, "cbc (MILP, exact) or dp (dynamic program)")
      ->check(CLI::IsMember({"cbc", "dp"}))
      ->capture_default_str();
  cmd->add_option("--time-limit", flags->solver.time_limit_s, "CBC time limit in seconds")
      ->check(fames::cli::positive())
      ->capture_default_str();
  cmd->add_option("--dp-resolution", flags->solver.dp_resolution,
                  "DP only: energy steps across the budget (energies round up to a step)")
      ->check(fames::cli::in_range(1, 100000000))
      ->capture_default_str();
  cmd->add_flag("--json", flags->json, "Print the result as one JSON value on stdout");
  cmd->callback([flags, by_energy, by_loss, sweep] {
    const int targets = static_cast<int>(by_energy->count() + by_loss->count() + sweep->count());
    if (targets != 1)
      fames::fail("give exactly one of --energy-reduction, --max-loss-increase or --sweep");
    const fames::Estimate estimate = fames::Estimate::load(flags->estimate_path);
    if (sweep->count())
      run_sweep(estimate, *flags);
    else
      run_single(estimate, *flags, by_energy->count() > 0);
  });
}

}  // namespace
FAMES_REGISTER_COMMAND("select", setup_select);
