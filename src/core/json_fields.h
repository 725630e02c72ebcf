// Reading JSON files: parsing with a depth limit, and typed access to fields with errors that name
// the file and the key's path, e.g. "est.json: layers[3].candidates[0]: missing key \"dl\"".
// Every accessor throws fames::Error on a missing key or a value of the wrong type; no nlohmann
// exception escapes.
#pragma once
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>

namespace fames::detail {

// Arrays and objects nest at most this deep in a file fames reads.
constexpr int kMaxJsonDepth = 64;

// Parses `text` read from `file`. A syntax error, a number out of range or nesting deeper than
// kMaxJsonDepth throws fames::Error naming the file (and nlohmann's position).
nlohmann::json parse_json_file_text(const std::string& text, const std::string& file);

// A JSON object being read, plus where it is (file, and a path such as "layers[3]").
class JsonFields {
 public:
  JsonFields(const nlohmann::json& object, std::string file, std::string path);

  bool has(const char* key) const;
  const nlohmann::json& raw(const char* key) const;  // any type
  std::string string(const char* key) const;
  double number(const char* key) const;      // finite number
  int64_t integer(const char* key) const;    // integral number
  JsonFields object(const char* key) const;  // a nested object
  const nlohmann::json& array(const char* key) const;
  // Element i of array(key), which must be an object.
  JsonFields element(const char* key, size_t i) const;

  // "file: path: message" / "file: message" for errors found by the caller.
  [[noreturn]] void fail_here(const std::string& message) const;
  const std::string& file() const { return file_; }
  std::string path_of(const char* key) const;

 private:
  const nlohmann::json& object_;
  std::string file_, path_;
};

}  // namespace fames::detail
