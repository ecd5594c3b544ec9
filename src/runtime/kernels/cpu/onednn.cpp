#include "onednn.hpp"

#include "tensorgraph/core/error.hpp"

namespace tensorgraph::runtime::cpu::onednn {

dnnl::engine& engine() {
  static dnnl::engine e(dnnl::engine::kind::cpu, 0);
  return e;
}

dnnl::stream& stream() {
  thread_local dnnl::stream s(engine());
  return s;
}

dnnl::memory::data_type data_type(DType dtype) {
  switch (dtype) {
    case DType::F32:
      return dnnl::memory::data_type::f32;
    case DType::F16:
      return dnnl::memory::data_type::f16;
    case DType::BF16:
      return dnnl::memory::data_type::bf16;
    case DType::I8:
      return dnnl::memory::data_type::s8;
    case DType::U8:
      return dnnl::memory::data_type::u8;
    case DType::I32:
      return dnnl::memory::data_type::s32;
    default:
      fail("oneDNN has no {} data type", dtype_name(dtype));
  }
}

dnnl::memory::dims dims_of(const Shape& shape) {
  return dnnl::memory::dims(shape.dims().begin(), shape.dims().end());
}

dnnl::memory::desc plain_desc(const Shape& shape, DType dtype) {
  const auto strides = shape.strides();
  dnnl::memory::dims st(strides.begin(), strides.begin() + shape.rank());
  return dnnl::memory::desc(dims_of(shape), data_type(dtype), st);
}

dnnl::memory unbound_memory(const dnnl::memory::desc& desc) {
  return dnnl::memory(desc, engine(), DNNL_MEMORY_NONE);
}

void set_handle(const dnnl::memory& m, const void* data) {
  const dnnl_status_t st =
      dnnl_memory_set_data_handle_v2(m.get(), const_cast<void*>(data), nullptr);
  TG_CHECK(st == dnnl_success, "oneDNN: cannot set a memory handle (status {})",
           static_cast<int>(st));
}

void execute(const dnnl::primitive& p, const dnnl_exec_arg_t* args, int nargs) {
  const dnnl_status_t st = dnnl_primitive_execute(p.get(), stream().get(), nargs, args);
  TG_CHECK(st == dnnl_success, "oneDNN: primitive execution failed (status {})",
           static_cast<int>(st));
}

void execute(const dnnl::primitive& p, std::initializer_list<dnnl_exec_arg_t> args) {
  execute(p, args.begin(), static_cast<int>(args.size()));
}

std::string impl_name(const dnnl::primitive_desc_base& pd) {
  const char* s = pd.impl_info_str();
  return s ? s : "?";
}

}  // namespace tensorgraph::runtime::cpu::onednn
