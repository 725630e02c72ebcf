// The torch-free ONNX parser (models/onnx/onnx_proto.h) on hostile models: dimensions that claim
// more data than the file holds, products beyond int64, negative dimensions, value counts that do
// not match, external data, text that is not UTF-8, truncation. Each is one fames::Error naming the
// file, found before anything is allocated for the tensor.
#include <gtest/gtest.h>
#include <onnx/onnx_pb.h>

#include <cstring>

#include "models/onnx/onnx_proto.h"
#include "util/error.h"

namespace fames::models::onnx {
namespace {

const std::set<std::string> kOps = {"Relu", "Constant", "Add"};

// A model y = Relu(x) + init, with `init` as given.
::onnx::ModelProto model_with(const ::onnx::TensorProto& init) {
  ::onnx::ModelProto model;
  model.add_opset_import()->set_version(13);
  ::onnx::GraphProto* g = model.mutable_graph();
  *g->add_initializer() = init;
  g->add_input()->set_name("x");
  g->add_output()->set_name("y");
  ::onnx::NodeProto* relu = g->add_node();
  relu->set_op_type("Relu");
  relu->add_input("x");
  relu->add_output("r");
  ::onnx::NodeProto* add = g->add_node();
  add->set_op_type("Add");
  add->add_input("r");
  add->add_input(init.name());
  add->add_output("y");
  return model;
}

::onnx::TensorProto tensor(int type, std::vector<int64_t> dims) {
  ::onnx::TensorProto t;
  t.set_name("init");
  t.set_data_type(type);
  for (int64_t d : dims) t.add_dims(d);
  return t;
}

std::string error_of(const std::string& bytes) {
  try {
    parse_onnx_model(bytes, "m.onnx", kOps);
  } catch (const Error& e) {
    return e.what();
  }
  return "no error";
}

std::string error_of(const ::onnx::ModelProto& model) { return error_of(model.SerializeAsString()); }

TEST(OnnxProto, ReadsEveryStorageOfTheValues) {
  ::onnx::TensorProto floats = tensor(::onnx::TensorProto_DataType_FLOAT, {2, 2});
  for (float v : {1.f, -2.f, 3.f, 4.5f}) floats.add_float_data(v);
  OnnxModel m = parse_onnx_model(model_with(floats).SerializeAsString(), "m.onnx", kOps);
  ASSERT_EQ(m.constants.count("init"), 1u);
  const TensorData& f = m.constants["init"];
  EXPECT_EQ(f.dims, (std::vector<int64_t>{2, 2}));
  ASSERT_EQ(f.elements(), 4);
  float values[4];
  std::memcpy(values, f.bytes.data(), sizeof values);
  EXPECT_EQ(values[3], 4.5f);
  EXPECT_EQ(m.graph.inputs.size(), 1u);
  EXPECT_EQ(m.graph.nodes.size(), 2u);

  ::onnx::TensorProto bools = tensor(::onnx::TensorProto_DataType_BOOL, {3});
  for (int v : {0, 2, 256}) bools.add_int32_data(v);  // any non-zero value is true
  m = parse_onnx_model(model_with(bools).SerializeAsString(), "m.onnx", kOps);
  EXPECT_EQ(m.constants["init"].bytes, std::string("\0\1\1", 3));

  ::onnx::TensorProto raw = tensor(::onnx::TensorProto_DataType_INT16, {2});
  raw.set_raw_data(std::string("\x01\x00\xff\xff", 4));
  m = parse_onnx_model(model_with(raw).SerializeAsString(), "m.onnx", kOps);
  int16_t shorts[2];
  std::memcpy(shorts, m.constants["init"].bytes.data(), sizeof shorts);
  EXPECT_EQ(shorts[0], 1);
  EXPECT_EQ(shorts[1], -1);
}

TEST(OnnxProto, SizesAreCheckedAgainstTheDataBeforeAllocation) {
  // 2^60 floats claimed, 4 bytes present: an error, not a 4 EiB allocation.
  ::onnx::TensorProto huge = tensor(::onnx::TensorProto_DataType_FLOAT, {int64_t{1} << 40, int64_t{1} << 20});
  huge.set_raw_data("abcd");
  EXPECT_EQ(error_of(model_with(huge)),
            "'m.onnx': initializer 'init' has 4 bytes of data for 1152921504606846976 elements");
  huge.clear_raw_data();
  huge.add_float_data(1.f);
  EXPECT_EQ(error_of(model_with(huge)),
            "'m.onnx': initializer 'init' holds 1 values for 1152921504606846976 elements");
  ::onnx::TensorProto overflow = tensor(::onnx::TensorProto_DataType_INT64, {int64_t{1} << 40, int64_t{1} << 40});
  EXPECT_EQ(error_of(model_with(overflow)),
            "'m.onnx': initializer 'init' has dimensions whose product exceeds 2^63");
  ::onnx::TensorProto negative = tensor(::onnx::TensorProto_DataType_FLOAT, {-1});
  EXPECT_EQ(error_of(model_with(negative)), "'m.onnx': initializer 'init' has a negative dimension");
  ::onnx::TensorProto odd = tensor(::onnx::TensorProto_DataType_INT32, {1});
  odd.set_raw_data("abcde");
  EXPECT_EQ(error_of(model_with(odd)), "'m.onnx': initializer 'init' has 5 bytes of data for 1 elements");
}

TEST(OnnxProto, UnreadableModelsNameTheFile) {
  ::onnx::TensorProto ok = tensor(::onnx::TensorProto_DataType_FLOAT, {1});
  ok.add_float_data(1.f);
  const std::string bytes = model_with(ok).SerializeAsString();
  EXPECT_NE(error_of(bytes.substr(0, bytes.size() / 2)).find("'m.onnx' is not an ONNX model"), std::string::npos);
  EXPECT_NE(error_of(std::string()).find("'m.onnx' is not an ONNX model"), std::string::npos);

  ::onnx::TensorProto external = ok;
  external.set_data_location(::onnx::TensorProto_DataLocation_EXTERNAL);
  EXPECT_NE(error_of(model_with(external)).find("initializer 'init' is stored as external data"), std::string::npos);
  ::onnx::TensorProto strings = tensor(::onnx::TensorProto_DataType_STRING, {1});
  EXPECT_NE(error_of(model_with(strings)).find("has ONNX element type 8, which fames does not read"),
            std::string::npos);

  ::onnx::ModelProto latin1 = model_with(ok);
  latin1.mutable_graph()->mutable_node(0)->set_name("caf\xe9");
  EXPECT_EQ(error_of(latin1), "'m.onnx' has names or string attributes that are not UTF-8 text");
  ::onnx::ModelProto old = model_with(ok);
  old.mutable_opset_import(0)->set_version(3);
  EXPECT_NE(error_of(old).find("'m.onnx' uses opset 3 of ai.onnx"), std::string::npos);
  ::onnx::ModelProto unknown = model_with(ok);
  unknown.mutable_graph()->mutable_node(0)->set_op_type("Softplus");
  EXPECT_NE(error_of(unknown).find("uses operator Softplus (opset 13), which fames does not import; supported: Add "
                                   "Constant Relu"),
            std::string::npos);
}

TEST(OnnxProto, TensorFiles) {
  ::onnx::TensorProto t = tensor(::onnx::TensorProto_DataType_INT64, {2});
  t.add_int64_data(-3);
  t.add_int64_data(int64_t{1} << 40);
  const TensorData data = parse_tensor_proto(t.SerializeAsString(), "t.pb");
  int64_t values[2];
  std::memcpy(values, data.bytes.data(), sizeof values);
  EXPECT_EQ(values[1], int64_t{1} << 40);
  t.add_int64_data(1);
  try {
    parse_tensor_proto(t.SerializeAsString(), "t.pb");
    ADD_FAILURE() << "three values for two elements were accepted";
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "tensor file 't.pb' holds 3 values for 2 elements");
  }
}

}  // namespace
}  // namespace fames::models::onnx
