#pragma once
// Helpers around oneDNN 2.6 (the v2 C++ API: op::desc, then op::primitive_desc(desc, attr,
// engine)). Execution goes through the C entry point with a stack array of arguments: the C++
// execute() takes an std::unordered_map, which would allocate on every call.
#include <initializer_list>
#include <string>

#include <oneapi/dnnl/dnnl.hpp>

#include "tensorgraph/core/dtype.hpp"
#include "tensorgraph/core/shape.hpp"

namespace tensorgraph::runtime::cpu::onednn {

// The process-wide CPU engine.
dnnl::engine& engine();
// A stream for the calling thread (oneDNN CPU streams are cheap; one per thread keeps
// Sessions on different threads independent).
dnnl::stream& stream();

dnnl::memory::data_type data_type(DType dtype);
dnnl::memory::dims dims_of(const Shape& shape);
// Dense row-major descriptor.
dnnl::memory::desc plain_desc(const Shape& shape, DType dtype);
// A memory object over `desc` with no data yet (set per run with set_handle).
dnnl::memory unbound_memory(const dnnl::memory::desc& desc);
// Points a memory object at `data` (no allocation).
void set_handle(const dnnl::memory& m, const void* data);

// Executes with a fixed argument list (no allocation of ours; oneDNN itself may allocate, see
// docs/ARCHITECTURE.md). Throws Error on failure.
void execute(const dnnl::primitive& p, std::initializer_list<dnnl_exec_arg_t> args);
void execute(const dnnl::primitive& p, const dnnl_exec_arg_t* args, int nargs);

// The implementation oneDNN picked ("brg:avx512_core", "gemm:jit"...).
std::string impl_name(const dnnl::primitive_desc_base& pd);

// Runs `body`, turning a dnnl::error into an Error that says what was being created.
template <typename F>
decltype(auto) guarded(const char* what, F&& body);

}  // namespace tensorgraph::runtime::cpu::onednn

#include "tensorgraph/core/error.hpp"

template <typename F>
decltype(auto) tensorgraph::runtime::cpu::onednn::guarded(const char* what, F&& body) {
  try {
    return body();
  } catch (const dnnl::error& e) {
    fail("oneDNN could not create {}: {} (status {})", what, e.what(), static_cast<int>(e.status));
  }
}
