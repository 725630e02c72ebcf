// The one place that decides which kernel runs: SIMD level state, CPU detection, and the choice of
// lookup kind per table. Per-ISA code lives in x86/*.cpp, compiled with its own flags.
#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <cstring>

#include "emulate/simd_level.h"
#include "emulate/table_kernels.h"
#include "util/error.h"

namespace fames {

const char* to_string(SimdLevel level) {
  switch (level) {
    case SimdLevel::ref: return "ref";
    case SimdLevel::avx2: return "avx2";
    case SimdLevel::avx512: return "avx512";
  }
  return "?";
}

SimdLevel parse_simd_level(const std::string& text, const std::string& origin) {
  for (SimdLevel l : {SimdLevel::ref, SimdLevel::avx2, SimdLevel::avx512})
    if (text == to_string(l)) return l;
  fail("{} must be one of ref, avx2, avx512 (got \"{}\")", origin, text);
}

SimdLevel best_simd_level() {
#if defined(FAMES_X86_KERNELS)
  static const SimdLevel best = [] {
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
        __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq"))
      return SimdLevel::avx512;
    if (__builtin_cpu_supports("avx2")) return SimdLevel::avx2;
    return SimdLevel::ref;
  }();
  return best;
#else
  return SimdLevel::ref;
#endif
}

namespace {
constexpr int kUnset = -1;
std::atomic<int> g_level{kUnset};
thread_local KernelReport t_last_report;
}  // namespace

SimdLevel set_simd_level(SimdLevel requested) {
  const SimdLevel level = std::min(requested, best_simd_level());
  g_level.store(static_cast<int>(level));
  return level;
}

SimdLevel active_simd_level() {
  const int level = g_level.load();
  if (level != kUnset) return static_cast<SimdLevel>(level);
  const char* env = std::getenv("FAMES_SIMD");
  return set_simd_level(env && *env ? parse_simd_level(env, "environment variable FAMES_SIMD")
                                    : best_simd_level());
}

KernelReport last_kernel_report() { return t_last_report; }

namespace detail {

void record_kernel(SimdLevel level, const std::string& kernel) {
  t_last_report.level = level;
  t_last_report.kernel = kernel;
}

const char* to_string(LookupKind kind) {
  switch (kind) {
    case LookupKind::gather32: return "gather32";
    case LookupKind::shuf8: return "shuf8";
    case LookupKind::shuf16: return "shuf16";
    case LookupKind::shuf32: return "shuf32";
    case LookupKind::shuf64: return "shuf64";
    case LookupKind::shuf128: return "shuf128";
    case LookupKind::bytes16: return "bytes16";
    case LookupKind::perm32: return "perm32";
    case LookupKind::pair32: return "pair32";
    case LookupKind::perm64: return "perm64";
    case LookupKind::perm128: return "perm128";
    case LookupKind::perm256: return "perm256";
  }
  return "?";
}

std::string PreparedTable::name() const {
  return std::string(fames::to_string(level)) + "/" + to_string(kind);
}

namespace {

// Below this uint16 run length pair32's flushes would cost more than its lookups save.
constexpr int64_t kPairMinRun = 8;

// range = max T - min T (as int64: may exceed int32).
LookupKind choose_kind(int ba, int32_t max_abs, int64_t range, SimdLevel level) {
  // int16 lanes need every entry in int16 range; otherwise only the int32 gather is exact.
  if (max_abs > 32767) return LookupKind::gather32;
  if (level == SimdLevel::avx512) {
    if (ba <= 3) return LookupKind::shuf8;
    if (ba == 4 && range <= 255) return LookupKind::bytes16;  // 1 shuffle instead of vpermw's 2 uops
    // Two channels per 1-uop vpermi2d, unless uint16 runs of T - min T would be very short.
    if (ba <= 5 && (range == 0 || 65535 / range >= kPairMinRun)) return LookupKind::pair32;
    if (ba <= 5) return LookupKind::perm32;
    if (ba == 6) return LookupKind::perm64;
    if (ba == 7) return LookupKind::perm128;
    return LookupKind::perm256;
  }
  if (level == SimdLevel::avx2) {
    if (ba <= 3) return LookupKind::shuf8;
    if (ba == 4 && range <= 255) return LookupKind::bytes16;
    if (ba == 4) return LookupKind::shuf16;
    // AVX2 has no word permutes: one pshufb per 16 entries of each byte plane, which beats a
    // gather up to 128 entries.
    if (ba == 5) return LookupKind::shuf32;
    if (ba == 6) return LookupKind::shuf64;
    if (ba == 7) return LookupKind::shuf128;
  }
  return LookupKind::gather32;
}

void* aligned_zeroed(size_t bytes) {
  const size_t rounded = (bytes + 63) / 64 * 64;
  void* p = std::aligned_alloc(64, rounded);
  if (!p) throw std::bad_alloc();
  std::memset(p, 0, rounded);
  return p;
}

}  // namespace

PreparedTable prepare_table(const ProductTable& table, SimdLevel level) {
  const Signature& sig = table.signature();
  int32_t max_abs = 0, lo = INT32_MAX, hi = INT32_MIN;
  for (int32_t v : table.data()) {
    max_abs = std::max<int32_t>(max_abs, v == INT32_MIN ? INT32_MAX : std::abs(v));
    lo = std::min(lo, v);
    hi = std::max(hi, v);
  }
  const int64_t range = int64_t{hi} - lo;

  PreparedTable t;
  t.level = level;
  t.bw = sig.bw;
  t.ba = sig.ba;
  t.kind = choose_kind(sig.ba, max_abs, range, level);
  // An all-zero table never overflows; a finite bound keeps `k0 += run_length` from wrapping.
  t.run_length = max_abs == 0 ? int64_t{1} << 40 : 32767 / max_abs;
  if (t.kind == LookupKind::bytes16 || t.kind == LookupKind::pair32) {
    t.bias = lo;
    t.run_length = range == 0 ? int64_t{1} << 40 : 65535 / range;
  }
  const int64_t levels_w = sig.weight_levels(), levels_a = sig.act_levels();
  switch (t.kind) {
    case LookupKind::gather32:
      t.table32 = table.data().data();
      return t;
    case LookupKind::shuf8:  // row = 8 low bytes then 8 high bytes; lane = a | (a + 8) << 8
    case LookupKind::shuf16:  // row = 16 low bytes then 16 high bytes; lane = a | 0x8000
      t.row_bytes = t.kind == LookupKind::shuf8 ? 16 : 32;
      t.idx_mul = t.kind == LookupKind::shuf8 ? 0x0101 : 1;
      t.idx_add = t.kind == LookupKind::shuf8 ? 0x0800 : 0x8000;
      break;
    case LookupKind::shuf32:  // row = 2^ba low bytes then 2^ba high bytes; lane = a
    case LookupKind::shuf64:
    case LookupKind::shuf128:
      t.row_bytes = 2 * levels_a;
      break;
    case LookupKind::bytes16:  // row = 16 bytes T - bias; lane = a | 0x8000 (high byte -> 0)
      t.row_bytes = 16;
      t.idx_add = 0x8000;
      break;
    case LookupKind::pair32:  // row = 32 uint16 T - bias in pair order (below); lane = a
      t.row_bytes = 64;
      break;
    default:  // permutes: row = int16 entries, at least one full 32-lane register; lane = a
      t.row_bytes = 2 * std::max<int64_t>(32, levels_a);
      break;
  }
  t.rows.reset(static_cast<uint8_t*>(aligned_zeroed(static_cast<size_t>(t.row_bytes * levels_w))));
  const int64_t half = t.row_bytes / 2;  // byte-split rows: where the high bytes start
  for (int64_t w = 0; w < levels_w; ++w) {
    uint8_t* row = t.rows.get() + w * t.row_bytes;
    for (int64_t a = 0; a < levels_a; ++a) {
      const auto v = static_cast<uint16_t>(static_cast<int16_t>(table.raw(w, a)));
      if (t.kind == LookupKind::bytes16) {
        row[a] = static_cast<uint8_t>(table.raw(w, a) - t.bias);
      } else if (t.kind == LookupKind::pair32) {
        // 128-bit lane L holds entries 4L..4L+3 then 16+4L..16+4L+3: the order in which
        // unpacklo / unpackhi_epi16 of two rows list a = 0..15 / 16..31 (x86/table_gemm_avx512.cpp).
        const int64_t lane = (a & 15) / 4, slot = 8 * lane + (a >= 16 ? 4 : 0) + a % 4;
        const auto shifted = static_cast<uint16_t>(table.raw(w, a) - t.bias);
        std::memcpy(row + 2 * slot, &shifted, 2);
      } else if (t.kind == LookupKind::shuf8 || t.kind == LookupKind::shuf16 || t.kind == LookupKind::shuf32 ||
                 t.kind == LookupKind::shuf64 || t.kind == LookupKind::shuf128) {
        row[a] = static_cast<uint8_t>(v & 0xff);
        row[half + a] = static_cast<uint8_t>(v >> 8);
      } else {
        std::memcpy(row + 2 * a, &v, 2);
      }
    }
  }
  return t;
}

void run_table_gemm(const GemmArgs& args) {
#if defined(FAMES_X86_KERNELS)
  if (args.table->kind == LookupKind::gather32) return table_gemm_avx2(args);  // AVX-512 implies AVX2
  if (args.table->level == SimdLevel::avx512) return table_gemm_avx512(args);
  if (args.table->level == SimdLevel::avx2) return table_gemm_avx2(args);
#endif
  // Unreachable: without x86 kernels best_simd_level() is ref, and ref never prepares a table.
  fail("table GEMM: no kernel for {} in this build", args.table->name());
}

const LayerSteps* layer_steps(SimdLevel level) {
#if defined(FAMES_X86_KERNELS)
  static constexpr LayerSteps kAvx2{quantize_row_avx2, quantize_pixels_avx2, im2col_avx2,
                                    store_channels_last_avx2};
  static constexpr LayerSteps kAvx512{quantize_row_avx512, quantize_pixels_avx512, im2col_avx512,
                                      store_channels_last_avx512};
  if (level == SimdLevel::avx512) return &kAvx512;
  if (level == SimdLevel::avx2) return &kAvx2;
#else
  (void)level;
#endif
  return nullptr;
}

}  // namespace detail
}  // namespace fames
