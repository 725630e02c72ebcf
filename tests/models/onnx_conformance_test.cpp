// ONNX's own backend tests (Debian's libonnx-testdata, installed by scripts/install-deps.sh) run
// through the importer and GraphModel, compared as ONNX's backend runner compares them:
// |fames - expected| <= atol + rtol * |expected| element by element, rtol 1e-3, atol 1e-7.
//
// Each test directory holds model.onnx and test_data_set_*/input_<i>.pb, output_<i>.pb. The first
// graph input stays an input; the others (weights, shapes, axes, bounds) are bound as constants,
// as a model file would store them. A test is skipped, with its reason, when fames refuses the
// model or its data as outside the supported set (an operator, opset or attribute value the
// message says is not supported, 1-D and 3-D convolutions and pooling, training mode, sequence
// data); any other error or any mismatch is a failure. The counts per directory are printed; the
// table in docs/onnx.md comes from this output.
#include <gtest/gtest.h>

#include <filesystem>
#include <iostream>
#include <map>

#include "models/onnx/onnx_import.h"
#include "models/onnx/onnx_reader.h"
#include "models/onnx/ops.h"
#include "util/error.h"

namespace fames::models::onnx {
namespace {

namespace fs = std::filesystem;
constexpr const char* kTestData = "/usr/share/libonnx-testdata/data";

bool is_limitation(const std::string& message) {
  for (const char* marker : {"not supported", "does not import", "fames imports opsets", "does not read", "not a serialized ONNX TensorProto"})
    if (message.find(marker) != std::string::npos) return true;
  return false;
}

std::vector<fs::path> numbered(const fs::path& dir, const std::string& prefix) {
  std::vector<fs::path> files;
  for (int i = 0; fs::exists(dir / (prefix + std::to_string(i) + ".pb")); ++i) files.push_back(dir / (prefix + std::to_string(i) + ".pb"));
  return files;
}

// "" when every output of every data set matches; otherwise what went wrong.
std::string compare_outputs(GraphModel& model, const fs::path& data_set, const std::vector<torch::Tensor>& inputs) {
  const auto expected_files = numbered(data_set, "output_");
  const auto outputs = model.run(inputs);
  if (outputs.size() != expected_files.size())
    return fmt::format("{} outputs, expected {}", outputs.size(), expected_files.size());
  for (size_t i = 0; i < outputs.size(); ++i) {
    const torch::Tensor expected = read_tensor_file(expected_files[i].string());
    if (outputs[i].sizes() != expected.sizes())
      return fmt::format("output {} has shape {}, expected {}", i, shape_string(outputs[i]), shape_string(expected));
    const torch::Tensor got = outputs[i].to(torch::kDouble), want = expected.to(torch::kDouble);
    const torch::Tensor bad = (got - want).abs() > (1e-7 + 1e-3 * want.abs());
    if (bad.any().item<bool>())
      return fmt::format("output {}: {} of {} values differ, max |diff| {}", i, bad.sum().item<int64_t>(), bad.numel(),
                         (got - want).abs().max().item<double>());
  }
  return "";
}

struct Outcome {
  enum Kind { kPassed, kSkipped, kFailed } kind;
  std::string reason;
};

Outcome run_case(const fs::path& dir) {
  try {
    const OnnxFile file = read_onnx_file((dir / "model.onnx").string());
    std::vector<fs::path> sets;
    for (const auto& entry : fs::directory_iterator(dir))
      if (entry.is_directory() && entry.path().filename().string().rfind("test_data_set_", 0) == 0) sets.push_back(entry.path());
    std::sort(sets.begin(), sets.end());
    if (sets.empty()) return {Outcome::kSkipped, "no test data"};
    for (const auto& set : sets) {
      const auto input_files = numbered(set, "input_");
      if (input_files.size() != file.graph.inputs.size()) return {Outcome::kSkipped, "optional inputs left out of the data"};
      ImportOptions options;
      std::vector<torch::Tensor> inputs;
      for (size_t i = 0; i < input_files.size(); ++i) {
        const torch::Tensor value = read_tensor_file(input_files[i].string());
        if (i == 0) inputs.push_back(value);
        else options.bound_inputs[file.graph.inputs[i].name] = value;
      }
      Imported imported = import_onnx((dir / "model.onnx").string(), options);
      torch::NoGradGuard no_grad;
      imported.model->eval();
      const std::string mismatch = compare_outputs(*imported.model, set, inputs);
      if (!mismatch.empty()) return {Outcome::kFailed, set.filename().string() + ": " + mismatch};
    }
    return {Outcome::kPassed, ""};
  } catch (const Error& e) {
    return {is_limitation(e.what()) ? Outcome::kSkipped : Outcome::kFailed, e.what()};
  } catch (const c10::Error& e) {
    return {Outcome::kFailed, std::string(e.what_without_backtrace()).substr(0, 300)};
  }
}

// The reason without the file path, so that skips group: "node 'x' (Conv) is a 1-D convolution..."
std::string short_reason(const std::string& reason, const fs::path& dir) {
  std::string r = reason;
  const std::string prefix = "'" + (dir / "model.onnx").string() + "'";
  for (size_t at; (at = r.find(prefix)) != std::string::npos;) r.replace(at, prefix.size(), "model.onnx");
  const size_t supported_list = r.find("; supported:");
  return supported_list == std::string::npos ? r : r.substr(0, supported_list);
}

TEST(OnnxConformance, BackendTestsOfTheSupportedOperatorsPass) {
  if (!fs::exists(kTestData)) FAIL() << kTestData << " is missing: install libonnx-testdata (scripts/install-deps.sh)";
  int total_passed = 0;
  for (const char* suite : {"node", "pytorch-converted", "pytorch-operator", "simple"}) {
    std::vector<fs::path> cases;
    for (const auto& entry : fs::directory_iterator(fs::path(kTestData) / suite))
      if (fs::exists(entry.path() / "model.onnx")) cases.push_back(entry.path());
    std::sort(cases.begin(), cases.end());
    int passed = 0, skipped = 0, failed = 0;
    for (const auto& dir : cases) {
      const Outcome outcome = run_case(dir);
      const std::string name = dir.filename().string();
      if (outcome.kind == Outcome::kPassed) {
        ++passed;
        std::cout << "PASS " << suite << "/" << name << "\n";
      } else if (outcome.kind == Outcome::kSkipped) {
        ++skipped;
        std::cout << "SKIP " << suite << "/" << name << ": " << short_reason(outcome.reason, dir) << "\n";
      } else {
        ++failed;
        ADD_FAILURE() << suite << "/" << name << ": " << outcome.reason;
      }
    }
    std::cout << "onnx conformance " << suite << ": " << passed << " passed, " << skipped << " skipped, " << failed
              << " failed of " << cases.size() << "\n";
    total_passed += passed;
  }
  EXPECT_GT(total_passed, 100);
}

}  // namespace
}  // namespace fames::models::onnx
