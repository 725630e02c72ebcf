// End to end: `fames import` on a committed ONNX fixture (a small Fashion-MNIST CNN exported by
// scripts/onnx_fixtures.py), then `fames quantize` and `fames run` on the result exactly as on a
// zoo model; and the import's one-line errors. Needs FAMES_BIN and Fashion-MNIST.
#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <unistd.h>

#include "cli_runner.h"

namespace fames::testing_cli {
namespace {
namespace fs = std::filesystem;

std::string fixture(const std::string& name) { return std::string(FAMES_SOURCE_DIR) + "/tests/fixtures/onnx/" + name; }

#define REQUIRE_INPUTS()                                                                  \
  if (!std::getenv("FAMES_BIN") || !fs::exists("/usr/share/datasets/fashion-mnist")) \
  GTEST_SKIP() << "needs FAMES_BIN and Fashion-MNIST"

// The JSON object printed last on stdout (stderr is interleaved in `output`).
nlohmann::json last_json(const std::string& output) {
  const size_t begin = output.find("{\n"), end = output.rfind('}');
  if (begin == std::string::npos || end == std::string::npos) return nlohmann::json();
  return nlohmann::json::parse(output.substr(begin, end - begin + 1), nullptr, false);
}

TEST(ImportCli, ImportedModelGoesThroughQuantizeAndRun) {
  REQUIRE_INPUTS();
  const std::string dir = process_temp_dir("fames_import_cli");
  fs::remove_all(dir);
  fs::create_directories(dir);
  CommandResult r = run_fames("--quiet import " + fixture("fmnist_cnn.onnx") + " --out " + dir + "/fp.pt --check-input " +
                              fixture("fmnist_cnn.input.npy") + " --check-output " + fixture("fmnist_cnn.output.npy") +
                              " --data fashion-mnist --limit 200 --json");
  ASSERT_EQ(r.status, 0) << r.output;
  const nlohmann::json imported = last_json(r.output);
  ASSERT_TRUE(imported.is_object()) << r.output;
  EXPECT_EQ(imported["layers"].get<int>(), 3);  // two convolutions and the Gemm
  // conv1 1->8 5x5 on 28x28 (padded), conv2 8->16 5x5 on 14x14 -> 10x10, fc 400->10.
  EXPECT_EQ(imported["macs"].get<int64_t>(), 8 * 25 * 28 * 28 + 16 * 8 * 25 * 10 * 10 + 400 * 10);
  EXPECT_LE(imported["max_rel_diff"].get<double>(), 1e-4);
  EXPECT_EQ(imported["samples"].get<int>(), 200);
  r = run_fames("--quiet quantize --model " + dir + "/fp.pt --data fashion-mnist --limit 512 --epochs 1 --avg-bits 6 --out " +
                dir + "/mp.pt --json");
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_EQ(last_json(r.output)["layers"].size(), 3u) << r.output;
  r = run_fames("--quiet lib build --bits 2..8 --no-als --signed-a --out " + dir + "/lib");
  ASSERT_EQ(r.status, 0) << r.output;
  r = run_fames("--quiet run --model " + dir + "/mp.pt --lib " + dir + "/lib --out " + dir +
                "/report --samples 64 --calibration-samples 256 --holdout 300 --sweep 2 --calibration-epochs 1"
                " --ga-seconds 0 --energy-reduction 0.2 --json");
  ASSERT_EQ(r.status, 0) << r.output;
  const nlohmann::json report = read_json_file(dir + "/report/report.json");
  EXPECT_EQ(report["layers"].size(), 3u);
  EXPECT_GT(report["energy_reduction"].get<double>(), 0.0);
  // The design: QDQ ONNX, the assigned AppMuls' Verilog and the manifest; the ONNX imports back.
  r = run_fames("--quiet export --model " + dir + "/mp.pt --assign " + dir + "/report/assign.json --lib " + dir +
                "/lib --out " + dir + "/design");
  ASSERT_EQ(r.status, 0) << r.output;
  const nlohmann::json manifest = read_json_file(dir + "/design/manifest.json");
  ASSERT_EQ(manifest["layers"].size(), 3u);
  int circuits = 0;
  for (const auto& layer : manifest["layers"]) {
    if (layer["verilog"].is_null()) continue;
    ++circuits;
    EXPECT_TRUE(fs::exists(dir + "/design/" + layer["verilog"].get<std::string>())) << layer.dump();
    EXPECT_GT(layer["macs"].get<int64_t>(), 0);
  }
  EXPECT_GT(circuits, 0) << manifest.dump();
  r = run_fames("--quiet import " + dir + "/design/model.onnx --out " + dir + "/back.pt --json");
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_EQ(last_json(r.output)["layers"].get<int>(), 3);
  fs::remove_all(dir);
}

TEST(ImportCli, BadModelsAreOneLineErrorsAndWriteNothing) {
  REQUIRE_INPUTS();
  const std::string out = ::testing::TempDir() + "/fames_import_never_written.pt";
  for (const auto& [file, says] : std::vector<std::pair<std::string, std::string>>{
           {fixture("error_unsupported_op.onnx"), "the_erf"},
           {fixture("error_dynamic_weight.onnx"), "dynamic weight"},
           {fixture("cifar_cnn.output.npy"), "is not an ONNX model"}}) {
    const CommandResult r = run_fames("import " + file + " --out " + out);
    EXPECT_EQ(r.status, 1) << r.output;
    EXPECT_NE(r.output.find(says), std::string::npos) << r.output;
    EXPECT_EQ(r.output.find("terminate"), std::string::npos) << r.output;
    EXPECT_FALSE(fs::exists(out));
  }
}

}  // namespace
}  // namespace fames::testing_cli
