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

 private:
  std::size_t start_;
};

}  // namespace tensorgraph::testing
