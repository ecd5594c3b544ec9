#include "tensorgraph/core/threads.hpp"

#include <omp.h>

#include <cstdlib>
#include <mutex>
#include <string>

#include "tensorgraph/core/error.hpp"

namespace tensorgraph {

namespace {
std::once_flag env_once;

void apply_env() {
  std::call_once(env_once, [] {
    if (const char* env = std::getenv("TG_NUM_THREADS"); env && *env) {
      char* end = nullptr;
      const long n = std::strtol(env, &end, 10);
      TG_CHECK(end && *end == '\0' && n >= 1 && n <= 1024,
               "TG_NUM_THREADS must be a whole number from 1 to 1024, got '{}'", env);
      omp_set_num_threads(static_cast<int>(n));
    }
  });
}
}  // namespace

int num_threads() {
  apply_env();
  return omp_get_max_threads();
}

void set_num_threads(int n) {
  TG_CHECK(n >= 1, "thread count must be at least 1, got {}", n);
  apply_env();
  omp_set_num_threads(n);
}

}  // namespace tensorgraph
