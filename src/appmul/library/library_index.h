// Reading a library folder's index.json (docs/formats.md, "AppMul library folder"): the entries as
// written, each checked field by field, and each checked against its table once that is read.
// Library::load (library.h) is built from these; they are separate so that they can be fuzzed
// without files.
#pragma once
#include <string>
#include <vector>

#include "appmul/library/library.h"

namespace fames {

// One entry of index.json as read, before its files are: the AppMul without its table, the
// signature the entry declares, and its file names (inside the library folder).
struct LibraryIndexEntry {
  AppMul appmul;
  Signature signature;
  std::string table_file, netlist_file;  // netlist_file empty = none
};

// Parses index.json. Every field is checked: format and version, a usable unique name, operand
// widths 1..8, booleans, metrics and cost finite and >= 0 (bias: finite), depth >= 0, and file
// names without '/' or a leading '.' (nothing outside the folder). Throws fames::Error naming
// `index_path` and the entry.
std::vector<LibraryIndexEntry> parse_library_index(const std::string& text,
                                                   const std::string& index_path);
// Checks an entry against its table: the same signature, and `exact` true exactly when the table
// is exact. Throws fames::Error naming `table_path`.
void check_index_entry(const LibraryIndexEntry& entry, const ProductTable& table,
                       const std::string& table_path);

}  // namespace fames
