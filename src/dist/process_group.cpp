// c10d's ProcessGroupGloo behind the small interface of dist/process_group.h. Rank 0 hosts the
// TCPStore the ranks meet at; Gloo then connects every pair of ranks directly.
#include "dist/process_group.h"

#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>

#include <algorithm>
#include <cstdlib>

#include "util/error.h"

namespace fames::dist {
namespace {

const char* const kFailureKey = "fames/failure";

struct Group {
  c10::intrusive_ptr<c10d::TCPStore> store;
  c10::intrusive_ptr<c10d::ProcessGroupGloo> gloo;
  int rank = 0, size = 1, local_size = 1;
  std::chrono::seconds timeout{0};
  Traffic traffic;
};
Group& group() {
  static Group g;
  return g;
}

std::string env_or_empty(const char* name) {
  const char* value = std::getenv(name);
  return value ? value : "";
}

// The integer in environment variable `name`, in [low, high]; `fallback` when it is unset.
int64_t env_int(const char* name, int64_t fallback, int64_t low, int64_t high) {
  const std::string text = env_or_empty(name);
  if (text.empty()) return fallback;
  size_t used = 0;
  int64_t value = 0;
  try {
    value = std::stoll(text, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used != text.size() || value < low || value > high)
    fail("environment variable {}='{}' is not an integer in [{}, {}]", name, text, low, high);
  return value;
}

std::string message_of(const std::exception& e) {
  if (const auto* c10_error = dynamic_cast<const c10::Error*>(&e)) return c10_error->what_without_backtrace();
  return e.what();
}

// What another rank left in the store before it exited with an error, or "".
std::string reported_failure() {
  Group& g = group();
  try {
    g.store->setTimeout(std::chrono::seconds(2));
    if (!g.store->check({kFailureKey})) return "";
    const std::vector<uint8_t> bytes = g.store->get(kFailureKey);
    return std::string(bytes.begin(), bytes.end());
  } catch (const std::exception&) {
    return "";  // rank 0, which hosts the store, is gone too
  }
}

// Runs one collective and waits for it; any failure becomes one fames::Error.
template <typename Start>
void run(const char* operation, int64_t payload_bytes, const Start& start) {
  Group& g = group();
  ++g.traffic.collectives;
  g.traffic.payload_bytes += payload_bytes;
  try {
    start(*g.gloo)->wait();
  } catch (const std::exception& e) {
    const std::string cause = reported_failure();
    // main() prefixes the rank to every error of a data-parallel run.
    if (!cause.empty()) fail("{} failed because {}", operation, cause);
    fail("{} failed: another rank exited or did not answer within {} s (--dist-timeout); {}", operation,
         g.timeout.count(), message_of(e));
  }
}

std::shared_ptr<::gloo::transport::Device> make_device(const std::string& master) {
  const std::string interface = env_or_empty("GLOO_SOCKET_IFNAME");
  if (!interface.empty()) return c10d::ProcessGroupGloo::createDeviceForInterface(interface);
  // One machine: stay on the loopback, whatever the host name resolves to.
  if (master == "localhost" || master.rfind("127.", 0) == 0)
    return c10d::ProcessGroupGloo::createDeviceForHostname("127.0.0.1");
  return c10d::ProcessGroupGloo::createDefaultDevice();
}

at::Tensor contiguous_or_fail(const at::Tensor& tensor, const char* operation) {
  if (!tensor.defined()) fail("{} of an undefined tensor", operation);
  if (!tensor.device().is_cpu()) fail("{} needs CPU tensors", operation);
  return tensor.contiguous();
}

}  // namespace

void init(std::chrono::seconds timeout) {
  Group& g = group();
  if (g.gloo) return;
  const int64_t world = env_int("WORLD_SIZE", 1, 1, 1 << 20);
  g.local_size = static_cast<int>(env_int("LOCAL_WORLD_SIZE", 1, 1, 1 << 20));
  if (world == 1) return;
  g.size = static_cast<int>(world);
  g.rank = static_cast<int>(env_int("RANK", -1, 0, world - 1));
  if (g.rank < 0) fail("WORLD_SIZE is {} but RANK is not set", world);
  const std::string master = env_or_empty("MASTER_ADDR");
  if (master.empty()) fail("WORLD_SIZE is {} but MASTER_ADDR is not set", world);
  const int64_t port = env_int("MASTER_PORT", -1, 1, 65535);
  if (port < 0) fail("WORLD_SIZE is {} but MASTER_PORT is not set", world);
  g.timeout = timeout;
  // Programs this one starts (e.g. `fames lib build`) are not ranks of this group.
  unsetenv("WORLD_SIZE");
  try {
    c10d::TCPStoreOptions options;
    options.port = static_cast<uint16_t>(port);
    options.isServer = g.rank == 0;
    options.numWorkers = g.size;
    options.timeout = timeout;
    g.store = c10::make_intrusive<c10d::TCPStore>(master, options);
    auto gloo_options = c10d::ProcessGroupGloo::Options::create(timeout);
    gloo_options->devices.push_back(make_device(master));
    g.gloo = c10::make_intrusive<c10d::ProcessGroupGloo>(g.store, g.rank, g.size, gloo_options);
  } catch (const std::exception& e) {
    g.store.reset();
    fail("rank {} of {}: joining the process group at {}:{} failed within {} s (--dist-timeout): {}", g.rank,
         g.size, master, port, timeout.count(), message_of(e));
  }
}

int launched_rank() {
  const int64_t world = env_int("WORLD_SIZE", 1, 1, 1 << 20);
  return world > 1 ? static_cast<int>(std::max<int64_t>(0, env_int("RANK", 0, 0, world - 1))) : 0;
}

void shutdown() {
  Group& g = group();
  g.gloo.reset();
  g.store.reset();
}

bool active() { return static_cast<bool>(group().gloo); }
int rank() { return group().rank; }
int size() { return group().size; }
bool is_root() { return group().rank == 0; }
int local_size() { return group().local_size; }

Range shard(int64_t count, int64_t block) { return shard_of(count, block, rank(), size()); }

Range shard_of(int64_t count, int64_t block, int rank, int size) {
  block = std::max<int64_t>(1, block);
  const int64_t blocks = (count + block - 1) / block, ranks = std::max(1, size), r = rank;
  const int64_t base = blocks / ranks, extra = blocks % ranks;
  const int64_t first = r * base + std::min(r, extra), taken = base + (r < extra ? 1 : 0);
  return {std::min(count, first * block), std::min(count, (first + taken) * block)};
}

void sum(at::Tensor& tensor) {
  if (!active()) return;
  std::vector<at::Tensor> one{contiguous_or_fail(tensor, "sum")};
  run("sum", one[0].nbytes(), [&](c10d::ProcessGroup& pg) { return pg.allreduce(one); });
  if (!one[0].is_same(tensor)) tensor.copy_(one[0]);
}

void sum(std::vector<at::Tensor>& tensors) {
  if (!active() || tensors.empty()) return;
  std::vector<at::Tensor> flat;
  for (const at::Tensor& t : tensors) flat.push_back(contiguous_or_fail(t, "sum").reshape({-1}));
  at::Tensor all = at::cat(flat);
  sum(all);
  int64_t at = 0;
  for (at::Tensor& t : tensors) {
    t.copy_(all.slice(0, at, at + t.numel()).view(t.sizes()));
    at += t.numel();
  }
}

void sum_partial(at::Tensor& tensor) {
  std::vector<at::Tensor> one{tensor};
  sum_partial(one);
  tensor = one[0];
}

void sum_partial(std::vector<at::Tensor>& tensors) {
  if (!active() || tensors.empty()) return;
  // Rank 0's dtype and shapes: [dtype, then per tensor: dims, size 0, size 1, ...].
  std::string header;
  if (is_root()) {
    std::vector<int64_t> fields{static_cast<int64_t>(tensors[0].defined() ? tensors[0].scalar_type() : at::kLong)};
    for (const at::Tensor& t : tensors) {
      if (!t.defined()) fail("rank 0 has no partial sum to share (no data?)");
      if (t.scalar_type() != tensors[0].scalar_type()) fail("sum_partial needs tensors of one dtype");
      fields.push_back(t.dim());
      for (int64_t d : t.sizes()) fields.push_back(d);
    }
    header.assign(reinterpret_cast<const char*>(fields.data()), fields.size() * sizeof(int64_t));
  }
  broadcast(header);
  std::vector<int64_t> fields(header.size() / sizeof(int64_t));
  std::copy(header.begin(), header.end(), reinterpret_cast<char*>(fields.data()));
  const auto dtype = at::TensorOptions().dtype(static_cast<at::ScalarType>(fields.at(0)));
  size_t at = 1;
  for (at::Tensor& t : tensors) {
    const auto dims = static_cast<size_t>(fields.at(at));
    if (at + 1 + dims > fields.size()) fail("sum_partial: the ranks disagree on the number of partial sums");
    const std::vector<int64_t> shape(fields.begin() + static_cast<std::ptrdiff_t>(at + 1),
                                     fields.begin() + static_cast<std::ptrdiff_t>(at + 1 + dims));
    if (!t.defined()) t = at::zeros(shape, dtype);
    at += 1 + dims;
  }
  sum(tensors);
}

void sum(std::vector<double>& values) {
  if (!active() || values.empty()) return;
  at::Tensor view = at::from_blob(values.data(), {static_cast<int64_t>(values.size())}, at::kDouble);
  sum(view);
}

void sum(std::vector<int64_t>& values) {
  if (!active() || values.empty()) return;
  at::Tensor view = at::from_blob(values.data(), {static_cast<int64_t>(values.size())}, at::kLong);
  sum(view);
}

double ordered_sum(std::vector<double> per_block) { return ordered_sums(std::move(per_block), 1)[0]; }

std::vector<double> ordered_sums(std::vector<double> per_block, size_t series) {
  sum(per_block);  // x + 0 is exact: every block keeps its one rank's value
  std::vector<double> totals(series, 0.0);
  for (size_t i = 0; i < per_block.size(); ++i) totals[i % series] += per_block[i];
  return totals;
}

void broadcast(at::Tensor& tensor, int root) {
  if (!active()) return;
  std::vector<at::Tensor> one{contiguous_or_fail(tensor, "broadcast")};
  c10d::BroadcastOptions options;
  options.rootRank = root;
  run("broadcast", one[0].nbytes(), [&](c10d::ProcessGroup& pg) { return pg.broadcast(one, options); });
  if (!one[0].is_same(tensor)) tensor.copy_(one[0]);
}

void broadcast(std::string& bytes, int root) {
  if (!active()) return;
  at::Tensor length = at::full({1}, static_cast<int64_t>(bytes.size()), at::kLong);
  broadcast(length, root);
  bytes.resize(static_cast<size_t>(length.item<int64_t>()));
  if (bytes.empty()) return;
  at::Tensor view = at::from_blob(bytes.data(), {static_cast<int64_t>(bytes.size())}, at::kByte);
  broadcast(view, root);
}

bool root_decides(bool decision) {
  if (!active()) return decision;
  at::Tensor flag = at::full({1}, decision ? 1 : 0, at::kInt);
  broadcast(flag);
  return flag.item<int>() != 0;
}

void check_same_as_root(const std::string& bytes, const std::string& what) {
  if (!active()) return;
  std::string root = bytes;
  broadcast(root);
  if (root != bytes) fail("this rank disagrees with rank 0 on {}; the ranks cannot go on together", what);
}

std::vector<at::Tensor> all_gather(const at::Tensor& tensor) {
  if (!active()) return {tensor};
  const at::Tensor local = contiguous_or_fail(tensor, "all_gather");
  if (local.dim() == 0) fail("all_gather needs tensors of at least one dimension");
  std::vector<int64_t> rows(static_cast<size_t>(size()), 0);
  rows[static_cast<size_t>(rank())] = local.size(0);
  sum(rows);
  std::vector<int64_t> shape = local.sizes().vec();
  shape[0] = *std::max_element(rows.begin(), rows.end());
  std::vector<at::Tensor> out;
  if (shape[0] > 0) {  // Gloo gathers the padded tensors; the padding is cut off again
    at::Tensor padded = at::zeros(shape, local.options());
    padded.slice(0, 0, local.size(0)).copy_(local);
    std::vector<std::vector<at::Tensor>> outputs(1);
    for (int r = 0; r < size(); ++r) outputs[0].push_back(at::empty(shape, local.options()));
    std::vector<at::Tensor> inputs{padded};
    run("all_gather", padded.nbytes(), [&](c10d::ProcessGroup& pg) { return pg.allgather(outputs, inputs); });
    for (int r = 0; r < size(); ++r) out.push_back(outputs[0][r].slice(0, 0, rows[static_cast<size_t>(r)]));
  } else {
    for (int r = 0; r < size(); ++r) out.push_back(local);
  }
  return out;
}

std::vector<std::vector<at::Tensor>> all_gather(const std::vector<at::Tensor>& tensors) {
  const size_t n = tensors.size(), ranks = static_cast<size_t>(size()), me = static_cast<size_t>(rank());
  std::vector<std::vector<at::Tensor>> out(n);
  if (!active()) {
    for (size_t i = 0; i < n; ++i) out[i] = {tensors[i]};
    return out;
  }
  std::vector<int64_t> heights(ranks * n, 0);  // [rank][tensor]: first dimension
  std::vector<at::Tensor> flat;
  for (size_t i = 0; i < n; ++i) {
    const at::Tensor t = contiguous_or_fail(tensors[i], "all_gather");
    if (t.dim() == 0) fail("all_gather needs tensors of at least one dimension");
    if (t.scalar_type() != tensors[0].scalar_type()) fail("all_gather needs tensors of one dtype");
    heights[me * n + i] = t.size(0);
    flat.push_back(t.reshape({-1}));
  }
  sum(heights);
  const std::vector<at::Tensor> parts = all_gather(n == 0 ? at::empty({0}) : at::cat(flat));
  for (size_t r = 0; r < ranks; ++r) {
    int64_t offset = 0;
    for (size_t i = 0; i < n; ++i) {
      std::vector<int64_t> shape = tensors[i].sizes().vec();
      shape[0] = heights[r * n + i];
      const int64_t count = c10::multiply_integers(shape);
      if (offset + count > parts[r].numel()) fail("all_gather: the ranks disagree on the tensors' shapes");
      out[i].push_back(parts[r].slice(0, offset, offset + count).view(shape));
      offset += count;
    }
  }
  return out;
}

std::vector<std::string> all_gather(const std::string& bytes) {
  if (!active()) return {bytes};
  std::string copy = bytes;
  const at::Tensor view = at::from_blob(copy.data(), {static_cast<int64_t>(copy.size())}, at::kByte);
  std::vector<std::string> out;
  for (const at::Tensor& part : all_gather(view))
    out.emplace_back(reinterpret_cast<const char*>(part.data_ptr<uint8_t>()), static_cast<size_t>(part.numel()));
  return out;
}

void barrier() {
  if (!active()) return;
  run("barrier", 0, [&](c10d::ProcessGroup& pg) { return pg.barrier(); });
}

void sum_gradients(const std::vector<at::Tensor>& parameters, std::vector<double>& values) {
  if (!active()) return;
  // A gradient no rank has stays undefined (the optimizer then skips it, as in one process): each
  // parameter's "has a gradient" count travels with the sums.
  std::vector<at::Tensor> sums;
  std::vector<double> extras = values;
  for (at::Tensor p : parameters) {
    extras.push_back(p.grad().defined() ? 1.0 : 0.0);
    if (!p.grad().defined()) p.mutable_grad() = at::zeros_like(p);  // a rank without rows
    sums.push_back(p.grad());
  }
  const auto options = sums.empty() ? at::TensorOptions().dtype(at::kFloat) : sums.front().options();
  for (double v : extras) sums.push_back(at::full({1}, v, options));
  sum(sums);
  for (size_t i = 0; i < values.size(); ++i) values[i] = sums[parameters.size() + i].item<double>();
  for (size_t i = 0; i < parameters.size(); ++i)
    if (sums[parameters.size() + values.size() + i].item<double>() == 0) {
      at::Tensor p = parameters[i];
      p.mutable_grad() = at::Tensor();
    }
}

void average(const std::vector<at::Tensor>& tensors) {
  if (!active()) return;
  std::vector<at::Tensor> floating;
  for (const at::Tensor& t : tensors)
    if (t.is_floating_point()) floating.push_back(t);
  if (floating.empty()) return;
  std::vector<at::Tensor> copies;
  for (const at::Tensor& t : floating) copies.push_back(t.to(at::kDouble));
  sum(copies);
  for (size_t i = 0; i < floating.size(); ++i) floating[i].copy_(copies[i] / size());
}

Traffic traffic() { return group().traffic; }

void report_failure(const std::string& message) {
  Group& g = group();
  if (!g.store) return;
  try {
    g.store->setTimeout(std::chrono::seconds(2));
    const std::string text = fmt::format("rank {} failed: {}", g.rank, message);
    g.store->set(kFailureKey, std::vector<uint8_t>(text.begin(), text.end()));
  } catch (const std::exception&) {
  }
}

}  // namespace fames::dist
