#include "models/checkpoint_meta.h"

#include <set>

#include "core/json_fields.h"
#include "util/error.h"

namespace fames::models {
namespace {

int64_t integer_in(const detail::JsonFields& f, const char* key, int64_t lo, int64_t hi) {
  const int64_t v = f.integer(key);
  if (v < lo || v > hi) f.fail_here(fmt::format("\"{}\" is {}; it must be {}..{}", key, v, lo, hi));
  return v;
}

std::vector<std::string> class_names(const detail::JsonFields& f, int64_t num_classes) {
  const nlohmann::json& names = f.array("classes");
  if (static_cast<int64_t>(names.size()) != num_classes)
    f.fail_here(fmt::format("\"classes\" lists {} names for {} classes", names.size(), num_classes));
  std::vector<std::string> out;
  std::set<std::string> seen;
  for (const nlohmann::json& name : names) {
    if (!name.is_string() || !seen.insert(name.get<std::string>()).second)
      f.fail_here("\"classes\" must be distinct strings");
    out.push_back(name.get<std::string>());
  }
  return out;
}

// Layer names, distinct non-empty strings (which layers exist is checked against the network).
std::vector<std::string> layer_names(const detail::JsonFields& f, const char* key) {
  std::vector<std::string> out;
  std::set<std::string> seen;
  for (const nlohmann::json& name : f.array(key)) {
    if (!name.is_string() || name.get<std::string>().empty() || !seen.insert(name.get<std::string>()).second)
      f.fail_here(fmt::format("\"{}\" must list distinct layer names", key));
    out.push_back(name.get<std::string>());
  }
  return out;
}

}  // namespace

CheckpointMeta parse_checkpoint_meta(const std::string& text, const std::string& path) {
  const std::string where = fmt::format("model '{}' metadata", path);
  CheckpointMeta meta;
  meta.record = detail::parse_json_file_text(text, where);
  const detail::JsonFields f(meta.record, where, "");
  if (f.string("format") != kCheckpointFormat)
    f.fail_here(fmt::format("\"format\" is not \"{}\"", kCheckpointFormat));
  const int64_t version = f.integer("format_version");
  if (version != kCheckpointFormatVersion)
    f.fail_here(fmt::format("format_version {} is not supported (this build reads {})", version,
                            kCheckpointFormatVersion));
  meta.arch = f.string("arch");
  if (meta.arch.empty()) f.fail_here("\"arch\" is empty");
  meta.num_classes = integer_in(f, "num_classes", 2, kMaxClasses);
  meta.in_channels = integer_in(f, "in_channels", 1, kMaxInChannels);
  meta.image_size = integer_in(f, "image_size", 1, kMaxImageSize);
  meta.width = f.number("width");
  if (!(meta.width > 0 && meta.width <= kMaxWidth))
    f.fail_here(fmt::format("\"width\" is {}; it must be in (0, {}]", meta.width, kMaxWidth));
  if (f.has("quantized")) {
    if (!f.raw("quantized").is_boolean()) f.fail_here("\"quantized\" must be true or false");
    meta.quantized = f.raw("quantized").get<bool>();
  }
  if (f.has("classes")) meta.classes = class_names(f, meta.num_classes);
  if (f.has("asymmetric_weights")) meta.asymmetric_layers = layer_names(f, "asymmetric_weights");
  if (f.has("dataset")) f.string("dataset");  // a dataset spec; other readers take it as text
  return meta;
}

}  // namespace fames::models
