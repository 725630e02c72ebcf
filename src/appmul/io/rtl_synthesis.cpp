#include "appmul/io/rtl_synthesis.h"

#include <fmt/format.h>

#include <cstdlib>
#include <filesystem>
#include <sys/wait.h>

#include "util/error.h"
#include "util/files.h"

namespace fames {
namespace {

namespace fs = std::filesystem;

// A folder of this process's own, removed when it goes out of scope.
class TemporaryFolder {
 public:
  TemporaryFolder() {
    std::string pattern = (fs::temp_directory_path() / "fames-yosys-XXXXXX").string();
    if (!::mkdtemp(pattern.data())) fail("cannot create a temporary folder under {}", pattern);
    // The folder is quoted in a shell command; $TMPDIR could put a quote in it.
    if (pattern.find('\'') != std::string::npos) {
      std::error_code ec;
      fs::remove_all(pattern, ec);
      fail("temporary folder '{}' has a quote in its name; set TMPDIR to another folder", pattern);
    }
    path_ = pattern;
  }
  ~TemporaryFolder() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  TemporaryFolder(const TemporaryFolder&) = delete;
  TemporaryFolder& operator=(const TemporaryFolder&) = delete;
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

// Every gate the BLIF reader maps to one Netlist gate; yosys's abc picks among them.
constexpr const char* kGates = "AND,NAND,OR,NOR,XOR,XNOR,ANDNOT,ORNOT,MUX";

std::string yosys_script(const std::string& top) {
  const std::string hierarchy = top.empty() ? "hierarchy -check -auto-top" : "hierarchy -check -top " + top;
  return fmt::format(
      "read_verilog -sv input.v; {}; synth -flatten; abc -g {}; opt_clean -purge; "
      "write_blif output.blif",
      hierarchy, kGates);
}

// The last line yosys logged that says what went wrong, for the error message.
std::string yosys_complaint(const fs::path& log) {
  std::string text;
  try {
    text = read_file(log.string());
  } catch (const Error&) {
    return "no log";
  }
  const size_t at = text.rfind("ERROR:");
  std::string line = text.substr(at == std::string::npos ? 0 : at);
  if (at == std::string::npos) {
    while (!line.empty() && (line.back() == '\n' || line.back() == ' ')) line.pop_back();
    line = line.substr(line.rfind('\n') == std::string::npos ? 0 : line.rfind('\n') + 1);
  }
  return line.substr(0, line.find('\n'));
}

}  // namespace

RtlSynthesis synthesize_with_yosys(const std::string& verilog_path, const std::string& top) {
  if (!top.empty() && top.find_first_not_of(
                          "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_$") !=
                          std::string::npos)
    fail("--top '{}': not a plain Verilog module name", top);
  const TemporaryFolder folder;
  std::error_code ec;
  fs::copy_file(verilog_path, folder.path() / "input.v", ec);
  if (ec) fail("{}: cannot be read ({})", verilog_path, ec.message());
  RtlSynthesis result;
  result.script = yosys_script(top);
  write_file_atomic((folder.path() / "script.ys").string(), result.script + "\n");
  // Only fixed names inside the folder reach the shell; the user's path never does.
  const std::string command = fmt::format(
      "cd '{}' && timeout {} yosys -q -l yosys.log -s script.ys >/dev/null 2>&1",
      folder.path().string(), kYosysSeconds);
  const int status = std::system(command.c_str());
  const int code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  if (code == 127)
    fail("{}: the multiplier is written with arithmetic operators and needs yosys to become gates, "
         "but yosys is not installed (apt-get install yosys)",
         verilog_path);
  if (code == 124) fail("{}: yosys took longer than {} s to synthesize it", verilog_path, kYosysSeconds);
  if (code != 0)
    fail("{}: yosys could not synthesize it: {}", verilog_path,
         yosys_complaint(folder.path() / "yosys.log"));
  result.blif = read_file((folder.path() / "output.blif").string());
  return result;
}

}  // namespace fames
