#pragma once
// Counts calls to the global operator new (hooked in alloc_counter.cpp), to prove that a hot
// path makes no heap allocation. Counting is per thread and only while a scope is active.
#include <cstddef>

namespace tensorgraph::testing {

class AllocationCounter {
 public:
  AllocationCounter();
  ~AllocationCounter();
  AllocationCounter(const AllocationCounter&) = delete;
  AllocationCounter& operator=(const AllocationCounter&) = delete;
  // operator new calls on this thread since construction.
  std::size_t count() const;
  // operator new calls on every thread since construction (worker threads included; other
  // threads of the process count too, so use it where nothing else runs).
  std::size_t count_all_threads() const;

 private:
  std::size_t start_;
  std::size_t start_all_;
};

}  // namespace tensorgraph::testing
