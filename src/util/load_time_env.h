// Settings that libraries read from the environment only when they are loaded, before main() runs.
//
// libgomp reads OMP_WAIT_POLICY: LibTorch's OpenMP threads spin-wait by default, which made training
// 3-5x slower on a shared 2-core machine, so fames asks for PASSIVE.
// OpenBLAS picks its kernels by CPU model. On CPUs it does not know (seen on virtual machines that
// report a generic "Intel Xeon Processor") OpenBLAS 0.3.21 falls back to its Prescott (SSE3)
// kernels, which run sgemm several times slower than its AVX-512 ones; fames then names the kernel
// family the CPU's features allow (OPENBLAS_CORETYPE).
//
// Variables the user has set are left alone.
#pragma once

namespace fames {

// Sets what is missing. Returns true if it changed the environment; the caller should then
// re-execute itself so that the libraries load again and see it.
bool complete_load_time_env();

}  // namespace fames
