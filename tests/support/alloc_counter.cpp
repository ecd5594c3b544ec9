#include "alloc_counter.hpp"

#include <atomic>
#include <cstdlib>
#include <new>

namespace {
thread_local std::size_t g_allocations = 0;
// Every thread's calls (OpenMP workers included), for AllocationCounter::count_all_threads().
std::atomic<std::size_t> g_all_threads{0};
[[maybe_unused]] void count_one() {
  ++g_allocations;
  g_all_threads.fetch_add(1, std::memory_order_relaxed);
}
}  // namespace

#ifndef TG_SANITIZE
// Replacements of the global allocation functions (the sanitizers bring their own, so the hook
// is compiled out there and the counter reports zero).
void* operator new(std::size_t size) {
  count_one();
  if (void* p = std::malloc(size ? size : 1)) return p;
  throw std::bad_alloc();
}
void* operator new[](std::size_t size) {
  count_one();
  if (void* p = std::malloc(size ? size : 1)) return p;
  throw std::bad_alloc();
}
void* operator new(std::size_t size, std::align_val_t align) {
  count_one();
  const std::size_t a = static_cast<std::size_t>(align);
  if (void* p = std::aligned_alloc(a, (size + a - 1) / a * a)) return p;
  throw std::bad_alloc();
}
void* operator new(std::size_t size, std::align_val_t align, const std::nothrow_t&) noexcept {
  count_one();
  const std::size_t a = static_cast<std::size_t>(align);
  return std::aligned_alloc(a, (size + a - 1) / a * a);
}
void* operator new(std::size_t size, const std::nothrow_t&) noexcept {
  count_one();
  return std::malloc(size ? size : 1);
}
void operator delete(void* p) noexcept {
  std::free(p);
}
void operator delete[](void* p) noexcept {
  std::free(p);
}
void operator delete(void* p, std::size_t) noexcept {
  std::free(p);
}
void operator delete[](void* p, std::size_t) noexcept {
  std::free(p);
}
void operator delete(void* p, std::align_val_t) noexcept {
  std::free(p);
}
void operator delete(void* p, std::size_t, std::align_val_t) noexcept {
  std::free(p);
}
#endif

namespace tensorgraph::testing {

AllocationCounter::AllocationCounter()
    : start_(g_allocations), start_all_(g_all_threads.load(std::memory_order_relaxed)) {}
AllocationCounter::~AllocationCounter() = default;
std::size_t AllocationCounter::count() const {
  return g_allocations - start_;
}
std::size_t AllocationCounter::count_all_threads() const {
  return g_all_threads.load(std::memory_order_relaxed) - start_all_;
}

}  // namespace tensorgraph::testing
