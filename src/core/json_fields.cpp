#include "core/json_fields.h"

#include <cmath>

#include "util/error.h"

namespace fames::detail {

nlohmann::json parse_json_file_text(const std::string& text, const std::string& file) {
  // Copying, comparing and printing a json value recurse into it: refuse deep nesting up front.
  const auto depth_limit = [&](int depth, nlohmann::json::parse_event_t, nlohmann::json&) {
    if (depth > kMaxJsonDepth)
      fail("{}: JSON nested more than {} levels deep (the reader's limit)", file, kMaxJsonDepth);
    return true;
  };
  try {
    return nlohmann::json::parse(text, depth_limit);
  } catch (const nlohmann::json::exception& e) {  // syntax errors, and numbers out of range
    fail("{}: not valid JSON ({})", file, e.what());
  }
}

JsonFields::JsonFields(const nlohmann::json& object, std::string file, std::string path)
    : object_(object), file_(std::move(file)), path_(std::move(path)) {
  if (!object_.is_object()) fail_here("expected a JSON object");
}

void JsonFields::fail_here(const std::string& message) const {
  if (path_.empty()) fail("{}: {}", file_, message);
  fail("{}: {}: {}", file_, path_, message);
}

std::string JsonFields::path_of(const char* key) const {
  return path_.empty() ? std::string(key) : path_ + "." + key;
}

bool JsonFields::has(const char* key) const { return object_.contains(key); }

const nlohmann::json& JsonFields::raw(const char* key) const {
  auto it = object_.find(key);
  if (it == object_.end()) fail_here(fmt::format("missing key \"{}\"", key));
  return *it;
}

std::string JsonFields::string(const char* key) const {
  const nlohmann::json& v = raw(key);
  if (!v.is_string()) fail("{}: {} must be a string", file_, path_of(key));
  return v.get<std::string>();
}

double JsonFields::number(const char* key) const {
  const nlohmann::json& v = raw(key);
  if (!v.is_number() || !std::isfinite(v.get<double>()))
    fail("{}: {} must be a finite number", file_, path_of(key));
  return v.get<double>();
}

int64_t JsonFields::integer(const char* key) const {
  const nlohmann::json& v = raw(key);
  if (!v.is_number_integer()) fail("{}: {} must be an integer", file_, path_of(key));
  return v.get<int64_t>();
}

JsonFields JsonFields::object(const char* key) const {
  const nlohmann::json& v = raw(key);
  if (!v.is_object()) fail("{}: {} must be an object", file_, path_of(key));
  return JsonFields(v, file_, path_of(key));
}

const nlohmann::json& JsonFields::array(const char* key) const {
  const nlohmann::json& v = raw(key);
  if (!v.is_array()) fail("{}: {} must be an array", file_, path_of(key));
  return v;
}

JsonFields JsonFields::element(const char* key, size_t i) const {
  const nlohmann::json& v = array(key).at(i);
  const std::string where = fmt::format("{}[{}]", path_of(key), i);
  if (!v.is_object()) fail("{}: {} must be an object", file_, where);
  return JsonFields(v, file_, where);
}

}  // namespace fames::detail
