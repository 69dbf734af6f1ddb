// Measures this machine's main-memory bandwidth the way STREAM does (copy and triad over
// arrays far larger than the caches, best of several repetitions, bytes counted as read +
// written), at the thread count OpenMP is given (OMP_NUM_THREADS). BENCHMARKS.md sets
// Convoy's bytes per env-step against this figure.
#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <vector>

int main(int argc, char** argv) {
  const long n = argc > 1 ? std::atol(argv[1]) : 32L * 1024 * 1024;  // doubles per array
  const int reps = 10;
  std::vector<double> a(n), b(n), c(n);
#pragma omp parallel for schedule(static)
  for (long i = 0; i < n; ++i) {
    a[i] = 1.0;
    b[i] = 2.0;
    c[i] = 0.0;
  }
  double best_copy = 1e30, best_triad = 1e30;
  for (int r = 0; r < reps; ++r) {
    auto t0 = std::chrono::steady_clock::now();
#pragma omp parallel for schedule(static)
    for (long i = 0; i < n; ++i) c[i] = a[i];
    auto t1 = std::chrono::steady_clock::now();
#pragma omp parallel for schedule(static)
    for (long i = 0; i < n; ++i) a[i] = b[i] + 3.0 * c[i];
    auto t2 = std::chrono::steady_clock::now();
    best_copy = std::min(best_copy, std::chrono::duration<double>(t1 - t0).count());
    best_triad = std::min(best_triad, std::chrono::duration<double>(t2 - t1).count());
  }
  const double mb = 1e-9 * sizeof(double) * n;
  std::printf("{\"threads\": %d, \"array_mib\": %.0f, \"copy_gb_s\": %.2f, \"triad_gb_s\": %.2f}\n",
              omp_get_max_threads(), mb * 1e3 / 1.048576, 2 * mb / best_copy, 3 * mb / best_triad);
  return a[n / 2] > 0 ? 0 : 1;
}
