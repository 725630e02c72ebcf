// End to end on unsigned-weight layers: LeNet-5 quantized with --weights asymmetric at 8 bits has
// w8u signatures; gate-level mul8u-style circuits (tests/fixtures/mul8u, written by make_mul8u.py)
// import into a library, and `fames estimate` + `fames select` assign some of them. Needs FAMES_BIN, the float LeNet-5 and Fashion-MNIST.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "cli_runner.h"

namespace fames::testing_cli {
namespace {
namespace fs = std::filesystem;

const std::string kSource = FAMES_SOURCE_DIR;
const std::string kFloatModel = kSource + "/models/training/lenet5-fp.pt";
const std::string kFixtures = kSource + "/tests/fixtures/mul8u/";

TEST(UnsignedWeightsCli, AsymmetricLenetSelectsImportedUnsignedMultipliers) {
  if (!std::getenv("FAMES_BIN") || !fs::exists(kFloatModel) || !fs::exists("/usr/share/datasets/fashion-mnist"))
    GTEST_SKIP() << "needs FAMES_BIN, " << kFloatModel << " and Fashion-MNIST";
  const std::string dir = process_temp_dir("fames_unsigned_cli");
  fs::remove_all(dir);
  fs::create_directories(dir);
  std::ofstream(dir + "/bits.json") << R"({"conv1": [8, 8], "conv2": [8, 8], "fc1": [8, 8], "fc2": [8, 8], "fc3": [8, 8]})";
  CommandResult r = run_fames("--quiet quantize --model " + kFloatModel + " --bits " + dir +
                              "/bits.json --weights asymmetric --epochs 1 --limit 512 --out " + dir + "/q.pt --json");
  ASSERT_EQ(r.status, 0) << r.output;
  const nlohmann::json quantized = nlohmann::json::parse(r.output);
  for (const auto& layer : quantized["layers"]) {
    EXPECT_FALSE(layer["signed_w"].get<bool>()) << layer.dump();
    EXPECT_EQ(layer["signature"].get<std::string>().substr(0, 3), "w8u") << layer.dump();
  }
  // Zero points cannot be taken back: re-quantizing it as symmetric is one clear error.
  r = run_fames("--quiet quantize --model " + dir + "/q.pt --bits " + dir + "/bits.json --weights symmetric --out " +
                dir + "/s.pt");
  EXPECT_NE(r.status, 0);
  EXPECT_NE(r.output.find("--weights symmetric"), std::string::npos) << r.output;
  EXPECT_FALSE(fs::exists(dir + "/s.pt"));

  // The library: generated multipliers for the first layer's w8u_a8s (its inputs are signed) and
  // nothing but the imported circuits for w8u_a8u, so that selection has to use those.
  std::ofstream(dir + "/card.json") << R"({"layers": [{"bw": 8, "ba": 8, "signed_w": false, "signed_a": true}]})";
  r = run_fames("--quiet lib build --bits 8 --no-als --per-signature 2 --no-cache --model " + dir + "/card.json --out " +
                dir + "/lib");
  ASSERT_EQ(r.status, 0) << r.output;
  std::string circuits;
  for (const char* name : {"mul8u_fx_exact", "mul8u_fx_t4", "mul8u_fx_t6", "mul8u_fx_t8", "mul8u_fx_or6"})
    circuits += kFixtures + name + ".v ";
  r = run_fames("--quiet lib import " + circuits + "--into " + dir + "/lib --json");
  ASSERT_EQ(r.status, 0) << r.output;
  for (const auto& m : nlohmann::json::parse(r.output)) {
    EXPECT_FALSE(m["signed_w"].get<bool>()) << m.dump();
    EXPECT_FALSE(m["signed_a"].get<bool>()) << m.dump();
    EXPECT_EQ(m["bw"], 8);
    EXPECT_EQ(m["ba"], 8);
    EXPECT_EQ(m["exact"].get<bool>(), m["name"] == "mul8u_fx_exact") << m.dump();
  }

  // fames run selects on its own: estimate, select at 30%, calibrate, the test figures.
  r = run_fames("--quiet run --model " + dir + "/q.pt --lib " + dir + "/lib --energy-reduction 0.3 --samples 128 "
                "--calibration-samples 256 --holdout 300 --sweep 3 --calibration-epochs 1 --ga-seconds 0 --no-uniform "
                "--out " + dir + "/run");
  ASSERT_EQ(r.status, 0) << r.output;
  const nlohmann::json report = read_json_file(dir + "/run/report.json");
  int imported = 0;
  for (const auto& layer : report["layers"]) {
    const std::string name = layer["appmul"].get<std::string>();
    EXPECT_EQ(layer["signature"].get<std::string>().substr(0, 3), "w8u") << layer.dump();
    imported += name.rfind("mul8u_fx_", 0) == 0 && name != "mul8u_fx_exact";
  }
  EXPECT_GE(imported, 1) << report["layers"].dump(2);
  EXPECT_GT(report["top1_final"].get<double>(), 0.5);
  // Out as QDQ ONNX with uint8 weights and zero points, and back: the same test figure.
  r = run_fames("--quiet export --model " + dir + "/q.pt --assign " + dir + "/run/assign.json --lib " + dir +
                "/lib --out " + dir + "/design");
  ASSERT_EQ(r.status, 0) << r.output;
  r = run_fames("--quiet import " + dir + "/design/model.onnx --out " + dir + "/back.pt");
  ASSERT_EQ(r.status, 0) << r.output;
  const std::string eval = " --limit 500 --json";
  r = run_fames("--quiet eval --model " + dir + "/q.pt" + eval);
  ASSERT_EQ(r.status, 0) << r.output;
  const double before = nlohmann::json::parse(r.output)["top1"].get<double>();
  r = run_fames("--quiet eval --model " + dir + "/back.pt" + eval);
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_EQ(nlohmann::json::parse(r.output)["top1"].get<double>(), before);
  fs::remove_all(dir);
}

}  // namespace
}  // namespace fames::testing_cli
