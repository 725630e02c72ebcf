// The process group of a data-parallel fames run: torch's c10d with its Gloo backend, joined the
// way torch.distributed's env:// rendezvous does (MASTER_ADDR, MASTER_PORT, RANK, WORLD_SIZE and
// optionally LOCAL_WORLD_SIZE, as torchrun, Slurm wrappers and scripts/launch.sh set them).
//
// Contract:
// - init() joins a group when WORLD_SIZE > 1 and does nothing otherwise; every other function then
//   behaves as a group of one (rank 0 of 1, collectives leave their arguments as they are). Call it
//   once, before any collective.
// - Collectives must be called by every rank in the same order with the same dtypes and shapes
//   (except where a function says otherwise). Tensors are CPU tensors; they are made contiguous.
//   Sums of integers are exact; sums of floating-point values give the same bits on every rank.
// - A collective that fails (another rank exited or did not answer within the timeout given to
//   init) throws fames::Error naming the operation and, when the failing rank left one, that
//   rank's own error message. A rank learns of another's end at its next collective: a collective
//   waits at most the timeout; joining the group (TCPStore, then Gloo's connections) up to about
//   three times the timeout.
// - Not thread-safe: call from the main thread only.
#pragma once
#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

namespace at {
class Tensor;
}

namespace fames::dist {

// Joins the group the environment describes (WORLD_SIZE > 1), waiting at most `timeout` for the
// other ranks at the rendezvous and in every later collective. Throws fames::Error naming the
// variable when one is missing or malformed, and when the rendezvous times out.
void init(std::chrono::seconds timeout);
// The RANK this process was started as when WORLD_SIZE > 1, else 0, from the environment alone
// (no group is joined): commands that are not data-parallel run on rank 0 only.
int launched_rank();
// Leaves the group (waits for nothing). Called at exit; safe to call when inactive.
void shutdown();

bool active();     // a group of more than one rank was joined
int rank();        // 0 .. size() - 1; 0 when inactive
int size();        // 1 when inactive
bool is_root();    // rank() == 0: the rank that writes files and prints
int local_size();  // ranks on this machine (LOCAL_WORLD_SIZE, else 1), to share its cores

// The part of `count` items this rank handles: contiguous, in rank order, cut at multiples of
// `block` (so that batches of `block` items are the same batches as in one process). The blocks
// are dealt as evenly as possible, earlier ranks taking the extra ones: rank 0 has work whenever
// there is any.
struct Range {
  int64_t begin = 0, end = 0;
  int64_t size() const { return end - begin; }
};
Range shard(int64_t count, int64_t block = 1);
// The same for any rank of any group size (what shard() computes for this rank).
Range shard_of(int64_t count, int64_t block, int rank, int size);

// Element-wise sum over ranks, in place, on every rank.
void sum(at::Tensor& tensor);
// The same for several tensors of one dtype, as one collective.
void sum(std::vector<at::Tensor>& tensors);
// A per-rank partial sum that ranks without data may have left undefined: rank 0's (which has
// data whenever shard() gave any) fixes shape and dtype; an undefined one counts as zeros.
void sum_partial(at::Tensor& tensor);
// The same for several partial sums of one dtype, as one collective (and one for their shapes).
void sum_partial(std::vector<at::Tensor>& tensors);
void sum(std::vector<double>& values);
void sum(std::vector<int64_t>& values);
// `per_block` holds one value per block of shard() (e.g. a batch's loss sum), filled by each rank
// for its own blocks and 0 elsewhere. Returns the values of every rank added in block order: the
// same bits as one process adding them up in order.
double ordered_sum(std::vector<double> per_block);
// The same for `series` sums at once, as one collective: per_block[b * series + s] is block b's value
// of sum s; returns the sums.
std::vector<double> ordered_sums(std::vector<double> per_block, size_t series);

// Every rank gets `root`'s tensor (same shape and dtype on every rank) or bytes (any length).
void broadcast(at::Tensor& tensor, int root = 0);
void broadcast(std::string& bytes, int root = 0);

// Rank 0's `decision` on every rank: for choices that must be the same everywhere but are made
// from a clock (a time limit), so that all ranks stop together.
bool root_decides(bool decision);
// Throws fames::Error naming `what` if `bytes` differ from rank 0's: a check that the ranks still
// agree, before a collective whose meaning depends on them (e.g. the configuration to measure).
void check_same_as_root(const std::string& bytes, const std::string& what);

// Every rank's tensor, in rank order, on every rank. The tensors share dtype and every dimension
// but the first, which may differ between ranks (0 included). When inactive: {tensor}.
std::vector<at::Tensor> all_gather(const at::Tensor& tensor);
// The same for several tensors of one dtype in two collectives: result[i] is every rank's
// tensors[i], in rank order. Each rank passes as many tensors, tensors[i] of equal trailing
// dimensions on every rank.
std::vector<std::vector<at::Tensor>> all_gather(const std::vector<at::Tensor>& tensors);
// Every rank's bytes (any length), in rank order, on every rank.
std::vector<std::string> all_gather(const std::string& bytes);

void barrier();

// One data-parallel training step: every rank back-propagated its rows of the global batch, its
// loss divided by the global batch's size. Adds up the parameters' gradients (an undefined one
// counts as zeros and is then defined) and `values` (e.g. the step's loss and correct count) over
// the ranks, in one collective, so that every rank steps as one process would on the whole batch.
void sum_gradients(const std::vector<at::Tensor>& parameters, std::vector<double>& values);
// Every rank gets the mean over ranks of each floating-point tensor (others are left alone): for
// state that each rank keeps from its own rows, such as BatchNorm's running statistics.
void average(const std::vector<at::Tensor>& tensors);

// What this rank has handed to collectives so far: their number and the bytes of their payloads
// (the tensors or buffers passed in, as given; the transport sends about 2 (size-1)/size times a
// sum's payload and receives size-1 times a gather's).
struct Traffic {
  int64_t collectives = 0, payload_bytes = 0;
};
Traffic traffic();

// Records this rank's fatal error where the other ranks look when a collective fails, so that they
// can name the cause. Best effort: never throws. Call before exiting with an error.
void report_failure(const std::string& message);

}  // namespace fames::dist
