#include "models/onnx/layer_names.h"

#include <cctype>
#include <vector>

namespace fames::models::onnx {
namespace {

std::string sanitize_segment(const std::string& text) {
  std::string out;
  for (char c : text) out += std::isalnum(static_cast<unsigned char>(c)) || c == '_' ? c : '_';
  return out.empty() ? "_" : out;
}

// "a.b/c" -> "a.b.c" with every segment sanitized; "" stays "".
std::string sanitize_path(const std::string& path) {
  std::string out, segment;
  for (size_t i = 0; i <= path.size(); ++i) {
    if (i == path.size() || path[i] == '.') {
      if (!segment.empty() || i < path.size()) out += (out.empty() ? "" : ".") + sanitize_segment(segment);
      segment.clear();
    } else {
      segment += path[i];
    }
  }
  return out;
}

bool starts_with(const std::string& text, const std::string& prefix) { return text.compare(0, prefix.size(), prefix) == 0; }

// PyTorch names a node "/scope/scope.child/leaf/Op": each segment is either the full module path
// so far or one more name below it; the last segment is the operator.
std::string module_path_of(const std::string& node_name, const std::string& op) {
  std::vector<std::string> segments;
  size_t begin = 0;
  while (begin <= node_name.size()) {
    const size_t slash = node_name.find('/', begin);
    const std::string s = node_name.substr(begin, slash == std::string::npos ? std::string::npos : slash - begin);
    if (!s.empty()) segments.push_back(s);
    if (slash == std::string::npos) break;
    begin = slash + 1;
  }
  if (segments.size() > 1 && starts_with(segments.back(), op)) segments.pop_back();
  std::string path;
  for (const auto& s : segments) path = path.empty() || starts_with(s, path + ".") ? s : path + "." + s;
  return path;
}

}  // namespace

bool LayerNames::free(const std::string& path) const {
  static const std::set<std::string> reserved = {"constants", "input_scale", "input_shift"};
  const std::string top = path.substr(0, path.find('.'));
  if (reserved.count(top)) return false;
  for (const auto& t : taken_) {
    if (t == path || starts_with(t, path + ".") || starts_with(path, t + ".")) return false;
  }
  return true;
}

std::string LayerNames::claim(const Node& node, const std::string& weight_name) {
  ++count_;
  static const std::string suffix = ".weight";
  std::string base;
  if (weight_name.size() > suffix.size() && weight_name.compare(weight_name.size() - suffix.size(), suffix.size(), suffix) == 0 &&
      !starts_with(weight_name, "onnx::"))
    base = sanitize_path(weight_name.substr(0, weight_name.size() - suffix.size()));
  else if (!node.name.empty())
    base = sanitize_path(module_path_of(node.name, node.op));
  if (base.empty()) {
    std::string op;
    for (char c : node.op) op += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    base = op + "_" + std::to_string(count_);
  }
  std::string path = base;
  for (int n = 2; !free(path); ++n) path = base + "_" + std::to_string(n);
  taken_.insert(path);
  return path;
}

}  // namespace fames::models::onnx
