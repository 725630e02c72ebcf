#include "models/loop_state.h"

#include <sstream>

#include "util/error.h"
#include "util/files.h"

namespace fames::models {

void save_loop_state(const std::string& path, torch::nn::Module& model, torch::optim::Optimizer& optimizer,
                     const std::mt19937_64& rng, const LoopState& state) {
  torch::serialize::OutputArchive archive, model_archive, optimizer_archive, tensors_archive;
  model.save(model_archive);
  optimizer.save(optimizer_archive);
  for (size_t i = 0; i < state.tensors.size(); ++i) tensors_archive.write(std::to_string(i), state.tensors[i]);
  archive.write("model", model_archive);
  archive.write("optimizer", optimizer_archive);
  archive.write("tensors", tensors_archive);
  archive.write("tensor_count", c10::IValue(static_cast<int64_t>(state.tensors.size())));
  archive.write("epoch", c10::IValue(static_cast<int64_t>(state.epoch)));
  archive.write("record", c10::IValue(state.record.dump()));
  std::ostringstream rng_state;
  rng_state << rng;
  archive.write("rng", c10::IValue(rng_state.str()));
  const std::string temp = temp_path_for(path);
  archive.save_to(temp);
  commit_temp_file(temp, path);
}

LoopState load_loop_state(const std::string& path, torch::nn::Module& model, torch::optim::Optimizer& optimizer,
                          std::mt19937_64& rng) {
  const auto unfit = [&](const std::string& why) {
    fail("resume state '{}' does not fit this model/options (delete it to start over): {}", path, why.substr(0, 160));
  };
  LoopState state;
  try {
    torch::serialize::InputArchive archive, model_archive, optimizer_archive, tensors_archive;
    archive.load_from(path);
    archive.read("model", model_archive);
    archive.read("optimizer", optimizer_archive);
    model.load(model_archive);
    optimizer.load(optimizer_archive);
    c10::IValue epoch, rng_state, record, count;
    archive.read("epoch", epoch);
    archive.read("rng", rng_state);
    std::istringstream in(rng_state.toStringRef());
    in >> rng;
    if (!in) unfit("its random stream does not read");
    state.epoch = static_cast<int>(epoch.toInt());
    // Older states (fames train's, before the loop's own parts existed) have none of these.
    if (archive.try_read("tensor_count", count)) {
      archive.read("tensors", tensors_archive);
      for (int64_t i = 0; i < count.toInt(); ++i) {
        torch::Tensor t;
        tensors_archive.read(std::to_string(i), t);
        state.tensors.push_back(t);
      }
    }
    if (archive.try_read("record", record)) state.record = nlohmann::json::parse(record.toStringRef());
  } catch (const c10::Error& e) {
    unfit(e.what_without_backtrace());
  } catch (const nlohmann::json::exception& e) {
    unfit(e.what());
  }
  return state;
}

}  // namespace fames::models
