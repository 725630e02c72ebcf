#include "models/onnx/graph.h"

#include "util/error.h"

namespace fames::models::onnx {

int64_t Node::attr_int(const std::string& key, int64_t fallback) const {
  if (!attrs.contains(key)) return fallback;
  const auto& v = attrs[key];
  if (!v.is_number_integer()) fail("{} has attribute '{}' that is not an integer", describe(), key);
  return v.get<int64_t>();
}

double Node::attr_float(const std::string& key, double fallback) const {
  if (!attrs.contains(key)) return fallback;
  const auto& v = attrs[key];
  if (!v.is_number()) fail("{} has attribute '{}' that is not a number", describe(), key);
  return v.get<double>();
}

std::string Node::attr_string(const std::string& key, const std::string& fallback) const {
  if (!attrs.contains(key)) return fallback;
  const auto& v = attrs[key];
  if (!v.is_string()) fail("{} has attribute '{}' that is not a string", describe(), key);
  return v.get<std::string>();
}

std::vector<int64_t> Node::attr_ints(const std::string& key, std::vector<int64_t> fallback) const {
  if (!attrs.contains(key)) return fallback;
  const auto& v = attrs[key];
  if (!v.is_array()) fail("{} has attribute '{}' that is not a list of integers", describe(), key);
  std::vector<int64_t> values;
  for (const auto& e : v) {
    if (!e.is_number_integer()) fail("{} has attribute '{}' that is not a list of integers", describe(), key);
    values.push_back(e.get<int64_t>());
  }
  return values;
}

std::vector<double> Node::attr_floats(const std::string& key) const {
  std::vector<double> values;
  if (!attrs.contains(key)) return values;
  const auto& v = attrs[key];
  if (!v.is_array()) fail("{} has attribute '{}' that is not a list of numbers", describe(), key);
  for (const auto& e : v) {
    if (!e.is_number()) fail("{} has attribute '{}' that is not a list of numbers", describe(), key);
    values.push_back(e.get<double>());
  }
  return values;
}

const std::string& Node::input(size_t i) const {
  static const std::string none;
  return i < inputs.size() ? inputs[i] : none;
}

std::string Node::describe() const {
  const std::string& shown = !name.empty() ? name : (outputs.empty() ? std::string("?") : outputs[0]);
  return fmt::format("node '{}' ({})", shown, op);
}

nlohmann::json Graph::to_json() const {
  nlohmann::json nodes_json = nlohmann::json::array();
  for (const auto& n : nodes)
    nodes_json.push_back({{"name", n.name}, {"op", n.op}, {"inputs", n.inputs}, {"outputs", n.outputs}, {"attrs", n.attrs}});
  nlohmann::json inputs_json = nlohmann::json::array();
  for (const auto& v : inputs) inputs_json.push_back({{"name", v.name}, {"shape", v.shape}});
  nlohmann::json constants_json = nlohmann::json::array();
  for (const auto& c : constants) constants_json.push_back({{"name", c.name}, {"dtype", c.dtype}, {"shape", c.shape}});
  return {{"opset", opset},          {"inputs", inputs_json},       {"outputs", outputs},
          {"nodes", nodes_json},     {"constants", constants_json}, {"input_map_channels", input_map_channels}};
}

Graph Graph::from_json(const nlohmann::json& record, const std::string& what) {
  Graph graph;
  try {
    graph.opset = record.at("opset").get<int64_t>();
    for (const auto& v : record.at("inputs"))
      graph.inputs.push_back({v.at("name").get<std::string>(), v.at("shape").get<std::vector<int64_t>>()});
    graph.outputs = record.at("outputs").get<std::vector<std::string>>();
    for (const auto& c : record.at("constants"))
      graph.constants.push_back({c.at("name").get<std::string>(), c.at("dtype").get<std::string>(),
                                 c.at("shape").get<std::vector<int64_t>>()});
    graph.input_map_channels = record.value("input_map_channels", int64_t{0});
    for (const auto& n : record.at("nodes")) {
      Node node;
      node.name = n.at("name").get<std::string>();
      node.op = n.at("op").get<std::string>();
      node.inputs = n.at("inputs").get<std::vector<std::string>>();
      node.outputs = n.at("outputs").get<std::vector<std::string>>();
      node.attrs = n.at("attrs");
      graph.nodes.push_back(std::move(node));
    }
  } catch (const nlohmann::json::exception& e) {
    fail("{} has a malformed graph record: {}", what, e.what());
  }
  return graph;
}

}  // namespace fames::models::onnx
