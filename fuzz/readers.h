// What the libFuzzer harnesses of fuzz/ feed their bytes to (docs/reliability.md), one function per
// reader, shared with the Fuzz.* tests that replay the corpora and the minimized crashes.
//
// A reader may reject its input only with fames::Error: each function swallows that and nothing
// else. Any other exception escapes, and libFuzzer reports it as a crash, as it does every
// sanitizer report, stack overflow, leak, timeout or allocation over its -rss_limit_mb.
#pragma once
#include <cstddef>
#include <cstdint>
#include <set>
#include <string>
#include <vector>

#include "appmul/io/blif.h"
#include "appmul/io/table_file.h"
#include "appmul/io/table_import.h"
#include "appmul/io/verilog.h"
#include "appmul/io/liberty.h"
#include "appmul/library/library_index.h"
#include "core/assignment.h"
#include "core/estimate_file.h"
#include "core/json_fields.h"
#include "core/operand_histogram.h"
#include "data/image_codec.h"
#include "models/checkpoint_meta.h"
#include "models/onnx/onnx_proto.h"
#include "util/error.h"

namespace fames::fuzz {

inline std::string text_of(const uint8_t* data, size_t size) {
  return std::string(reinterpret_cast<const char*>(data), size);
}

// Runs `read`; fames::Error (the reader's rejection of bad input) is an expected outcome.
template <typename Read>
void expect_clean(Read&& read) {
  try {
    read();
  } catch (const fames::Error&) {
  }
}

inline void read_verilog_text(const uint8_t* data, size_t size) {
  expect_clean([&] { parse_verilog(text_of(data, size), "fuzz.v"); });
}

inline void read_blif_text(const uint8_t* data, size_t size) {
  expect_clean([&] { parse_blif(text_of(data, size), "fuzz.blif"); });
}

// The same bytes as NumPy .npy, as a fames table file (.tbl) and as a raw 16-bit table whose
// widths (0 = infer, 9 = out of range), signedness and layout come from the first bytes.
inline void read_table_bytes(const uint8_t* data, size_t size) {
  const std::vector<unsigned char> bytes(data, data + size);
  expect_clean([&] { parse_npy_table(bytes, "fuzz.npy", {}); });
  expect_clean([&] { parse_table_file(bytes, "fuzz.tbl"); });
  TableImportOptions options;
  if (size >= 3) {
    options.bw = data[0] % 10;
    options.ba = data[1] % 10;
    options.signed_w = data[0] & 0x10;
    options.signed_a = data[1] & 0x10;
    options.layout = data[0] & 0x20 ? TableLayout::kActivationRows : TableLayout::kWeightRows;
  }
  expect_clean([&] { parse_raw_table(bytes, size >= 3 && (data[2] & 1), "fuzz.bin", options); });
}

inline void read_liberty_text(const uint8_t* data, size_t size) {
  expect_clean([&] { parse_liberty(text_of(data, size), "fuzz.lib"); });
}

// index.json, then each entry checked against an exact table of the signature it declares.
inline void read_library_index(const uint8_t* data, size_t size) {
  expect_clean([&] {
    for (const LibraryIndexEntry& entry : parse_library_index(text_of(data, size), "fuzz/index.json"))
      check_index_entry(entry, ProductTable::exact(entry.signature), "fuzz/" + entry.table_file);
  });
}

inline void read_estimate(const uint8_t* data, size_t size) {
  expect_clean([&] {
    const auto json = detail::parse_json_file_text(text_of(data, size), "est.json");
    Estimate::from_json(json, "est.json").exact_energy_fj_per_image();
  });
}

inline void read_assignment(const uint8_t* data, size_t size) {
  expect_clean([&] {
    Assignment::from_json(detail::parse_json_file_text(text_of(data, size), "assign.json"),
                          "assign.json");
  });
}

// Operand histograms, written back out as well.
inline void read_operand_histogram(const uint8_t* data, size_t size) {
  expect_clean([&] {
    const auto json = detail::parse_json_file_text(text_of(data, size), "hist.json");
    OperandHistograms::from_json(json, "hist.json").to_json().dump();
  });
}

// The torch-free part of loading a checkpoint: its metadata record (models/checkpoint_meta.h).
// The LibTorch archive around it is LibTorch's own reader, outside this build.
inline void read_checkpoint_meta(const uint8_t* data, size_t size) {
  expect_clean([&] { models::parse_checkpoint_meta(text_of(data, size), "fuzz.pt").record.dump(); });
}

// JPEG/PNG: the header, then the pixels as gray and as RGB for images of up to 2^20 pixels
// (larger ones only slow the fuzzer down; the size check runs on every input).
inline void read_image(const uint8_t* data, size_t size) {
  const std::string bytes = text_of(data, size);
  expect_clean([&] {
    const ImageInfo info = read_image_info(bytes, "fuzz.img");
    if (int64_t{info.width} * info.height > (int64_t{1} << 20)) return;
    std::vector<uint8_t> chw(static_cast<size_t>(info.width) * info.height * 3), scratch;
    for (int channels : {1, 3})
      decode_image_chw(bytes, "fuzz.img", channels, info.width, info.height, chw.data(), scratch);
  });
}

// ONNX: the bytes as a ModelProto (its graph also through the checkpoint's JSON record and back)
// and as a TensorProto. The torch-free part of the ONNX reader (models/onnx/onnx_proto.h); turning
// its checked tensor data into tensors is one copy (onnx_reader.cpp), outside this build.
inline void read_onnx(const uint8_t* data, size_t size) {
  // What the fixtures use; the real list comes from the LibTorch operator table (ops.h).
  static const std::set<std::string> importable = {
      "Add", "AveragePool", "BatchNormalization", "Cast", "Clip", "Concat", "Constant", "Conv",
      "Dropout", "Flatten", "Gather", "Gemm", "GlobalAveragePool", "HardSigmoid", "HardSwish",
      "Identity", "MatMul", "MaxPool", "Mul", "Pad", "ReduceMean", "Relu", "Reshape", "Shape",
      "Sigmoid", "Slice", "Softmax", "Split", "Squeeze", "Transpose", "Unsqueeze"};
  const std::string bytes = text_of(data, size);
  expect_clean([&] {
    const models::onnx::OnnxModel model = models::onnx::parse_onnx_model(bytes, "fuzz.onnx", importable);
    models::onnx::Graph::from_json(model.graph.to_json(), "fuzz.onnx").to_json().dump();
  });
  expect_clean([&] { models::onnx::parse_tensor_proto(bytes, "fuzz.pb"); });
}

struct Reader {
  const char* name;  // the harness is fuzz/fuzz_<name>.cpp, its corpus fuzz/corpus/<name>
  void (*read)(const uint8_t*, size_t);
};

inline const std::vector<Reader>& readers() {
  static const std::vector<Reader> all = {
      {"verilog", read_verilog_text},        {"blif", read_blif_text},
      {"table", read_table_bytes},           {"liberty", read_liberty_text},
      {"library_index", read_library_index}, {"estimate", read_estimate},
      {"assignment", read_assignment},       {"operand_histogram", read_operand_histogram},
      {"checkpoint_meta", read_checkpoint_meta}, {"image", read_image},
      {"onnx", read_onnx}};
  return all;
}

}  // namespace fames::fuzz
