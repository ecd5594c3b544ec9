#include "tensorgraph/core/tensor.hpp"

#include <cstdint>

#include <gtest/gtest.h>

#include "tensorgraph/core/aligned.hpp"
#include "tensorgraph/core/error.hpp"
#include "tensorgraph/core/utf8.hpp"

namespace tensorgraph {
namespace {

TEST(Shape, BasicsAndErrors) {
  Shape s{2, 3, 4};
  EXPECT_EQ(s.rank(), 3);
  EXPECT_EQ(s.numel(), 24);
  EXPECT_EQ(s[-1], 4);
  EXPECT_EQ(s.to_string(), "[2,3,4]");
  EXPECT_EQ(s.strides()[0], 12);
  EXPECT_EQ(Shape{}.numel(), 1);
  EXPECT_TRUE((Shape{2, 3} == Shape{2, 3}));
  EXPECT_FALSE((Shape{2, 3} == Shape{3, 2}));
  EXPECT_FALSE((Shape{-1, 4}.is_static()));
  EXPECT_THROW((Shape{-1, 4}.numel()), Error);
  EXPECT_THROW((Shape{-2}), Error);
  EXPECT_THROW((Shape{1, 1, 1, 1, 1, 1, 1, 1, 1}), Error);
  EXPECT_THROW(s.normalize_axis(3), Error);
  EXPECT_THROW((Shape{std::int64_t{1} << 40, std::int64_t{1} << 40}.numel()), Error);
  // An empty shape whose other dimensions multiply past int64: strides wrap instead of being
  // undefined behaviour (UBSan checks this in the sanitizer run).
  const Shape huge_empty{0, std::int64_t{1} << 62, std::int64_t{1} << 62};
  EXPECT_EQ(huge_empty.numel(), 0);
  EXPECT_EQ(huge_empty.strides()[2], 1);
  EXPECT_EQ(huge_empty.strides()[1], std::int64_t{1} << 62);
}

TEST(Tensor, DefinedMeansHasData) {
  EXPECT_FALSE(Tensor().defined());  // default: no data, yet a rank-0 shape means one element
  EXPECT_EQ(Tensor().nbytes(), 0u);
  EXPECT_TRUE(Tensor::empty(DType::F32, {0, 3}).defined());
  EXPECT_TRUE(Tensor::view(DType::F32, {0}, nullptr, nullptr).defined());
  EXPECT_TRUE(Tensor::scalar<float>(1.f).defined());
}

TEST(Tensor, OwningIsAlignedAndTyped) {
  Tensor t = Tensor::from<float>({2, 2}, {1.f, 2.f, 3.f, 4.f});
  EXPECT_EQ(reinterpret_cast<std::uintptr_t>(t.raw()) % kAlignment, 0u);
  EXPECT_EQ(t.description(), "f32[2,2]");
  EXPECT_EQ(t.data<float>()[3], 4.f);
  EXPECT_THROW(t.data<double>(), Error);
  EXPECT_THROW(Tensor::from<float>({3}, {1.f, 2.f}), Error);
  Tensor c = t.clone();
  c.mutable_data<float>()[0] = 9.f;
  EXPECT_EQ(t.data<float>()[0], 1.f);
  Tensor r = t.reshaped({4});
  EXPECT_EQ(r.raw(), t.raw());
  EXPECT_THROW(t.reshaped({5}), Error);
}

TEST(Tensor, ViewsAreReadOnlyAndKeepOwnerAlive) {
  auto owner = std::make_shared<std::vector<float>>(std::vector<float>{5.f, 6.f});
  Tensor v = Tensor::view(DType::F32, {2}, owner->data(), owner);
  std::weak_ptr<std::vector<float>> weak = owner;
  owner.reset();
  EXPECT_FALSE(weak.expired());
  EXPECT_EQ(v.data<float>()[1], 6.f);
  EXPECT_TRUE(v.read_only());
  EXPECT_THROW(v.mutable_data<float>(), Error);
  v = Tensor();
  EXPECT_TRUE(weak.expired());
}

TEST(Tensor, Conversions) {
  Tensor t = Tensor::from<float>({4}, {1.5f, -2.25f, 65504.f, 1e-8f});
  Tensor h = t.to(DType::F16);
  EXPECT_EQ(h.dtype(), DType::F16);
  Tensor back = h.to(DType::F32);
  EXPECT_EQ(back.data<float>()[0], 1.5f);
  EXPECT_EQ(back.data<float>()[2], 65504.f);
  EXPECT_EQ(back.data<float>()[3], 0.f);  // underflows to zero in f16
  Tensor i = Tensor::from<float>({3}, {2.9f, -2.9f, 1e20f}).to(DType::I32);
  EXPECT_EQ(i.data<std::int32_t>()[0], 2);
  EXPECT_EQ(i.data<std::int32_t>()[1], -2);
  EXPECT_EQ(i.data<std::int32_t>()[2], 2147483647);  // saturates
  Tensor big = Tensor::from<std::int64_t>({1}, {(std::int64_t{1} << 60) + 1});
  EXPECT_EQ(big.to(DType::I64).data<std::int64_t>()[0], (std::int64_t{1} << 60) + 1);
  EXPECT_EQ(Tensor::from<std::int32_t>({1}, {-7}).to(DType::I64).data<std::int64_t>()[0], -7);
  EXPECT_EQ(Tensor::from<float>({2}, {0.f, 3.f}).to(DType::Bool).value_as_double(1), 1.0);
}

TEST(Error, ContextIsPrepended) {
  try {
    with_context("model.safetensors", [] { fail("tensor '{}' has shape {}", "w", "[2,3]"); });
    FAIL();
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "model.safetensors: tensor 'w' has shape [2,3]");
  }
}

TEST(Utf8, StrictValidation) {
  EXPECT_FALSE(find_invalid_utf8("plain ascii").has_value());
  EXPECT_FALSE(find_invalid_utf8("caf\xC3\xA9 \xF0\x9F\x98\x80").has_value());
  EXPECT_EQ(find_invalid_utf8("ab\xC3"), 2u);              // truncated
  EXPECT_EQ(find_invalid_utf8("a\xC0\xAF"), 1u);           // overlong
  EXPECT_EQ(find_invalid_utf8("\xE0\x80\xAF"), 0u);        // overlong 3-byte
  EXPECT_EQ(find_invalid_utf8("x\xED\xA0\x80"), 1u);       // surrogate
  EXPECT_EQ(find_invalid_utf8("\xF4\x90\x80\x80"), 0u);    // above U+10FFFF
  EXPECT_EQ(find_invalid_utf8("ok\xFF"), 2u);
  EXPECT_EQ(find_invalid_utf8("\x80"), 0u);                // lone continuation
  EXPECT_EQ(find_invalid_utf8("\xE2\x82"), 0u);
  EXPECT_THROW(check_utf8("\xFF", "input"), Error);
}

}  // namespace
}  // namespace tensorgraph
