// Accuracy of the vectorised approximations against double-precision libm, over dense sweeps
// of their ranges. The bounds asserted are the measured maxima rounded up (see the header).
#include "tensorgraph/runtime/vec_math.hpp"

#include <cmath>
#include <functional>
#include <limits>
#include <random>

#include <gtest/gtest.h>

namespace tensorgraph {
namespace {

struct ErrorStats {
  double max_rel = 0;
  float worst_x = 0;
};

// Max relative error over `count` points spread over [lo, hi] plus random ones, evaluated a
// whole vector at a time.
ErrorStats sweep(const std::function<vec::VecF(vec::VecF)>& f,
                 const std::function<double(double)>& exact, float lo, float hi,
                 int count = 200000) {
  std::mt19937 rng(42);
  std::uniform_real_distribution<float> uni(lo, hi);
  ErrorStats stats;
  float xs[vec::kWidth];
  for (int i = 0; i < count; i += vec::kWidth) {
    for (int j = 0; j < vec::kWidth; ++j)
      xs[j] = (i + j) % 2 ? uni(rng)
                          : lo + (hi - lo) * static_cast<float>(i + j) / static_cast<float>(count);
    const vec::VecF y = f(vec::load(xs));
    for (int j = 0; j < vec::kWidth; ++j) {
      const double want = exact(xs[j]);
      if (!std::isfinite(want) || std::fabs(want) < std::numeric_limits<float>::min()) continue;
      const double rel = std::fabs(y[j] - want) / std::fabs(want);
      if (rel > stats.max_rel) {
        stats.max_rel = rel;
        stats.worst_x = xs[j];
      }
    }
  }
  return stats;
}

double exact_gelu(double x) {
  return 0.5 * x * std::erfc(-x / std::sqrt(2.0));
}

#define EXPECT_ACCURATE(name, stats, bound)                                                   \
  do {                                                                                        \
    const ErrorStats s_ = (stats);                                                            \
    RecordProperty(name, std::to_string(s_.max_rel));                                         \
    std::printf("%-22s max relative error %.3g at x = %.9g\n", name, s_.max_rel, s_.worst_x); \
    EXPECT_LT(s_.max_rel, bound) << name << " worst at x = " << s_.worst_x;                   \
  } while (false)

TEST(VecMath, ExpAccuracy) {
  auto f = [](vec::VecF x) { return vec::exp(x); };
  auto e = [](double x) { return std::exp(x); };
  EXPECT_ACCURATE("exp [-87, 88.7]", sweep(f, e, -87.f, 88.7f), 2e-7);
  EXPECT_ACCURATE("exp [-1, 1]", sweep(f, e, -1.f, 1.f), 2e-7);
}

TEST(VecMath, ExpEdges) {
  EXPECT_EQ(vec::exp_scalar(0.f), 1.f);
  EXPECT_EQ(vec::exp_scalar(100.f), std::numeric_limits<float>::infinity());
  EXPECT_EQ(vec::exp_scalar(-200.f), 0.f);
  EXPECT_EQ(vec::exp_scalar(-std::numeric_limits<float>::infinity()), 0.f);
  EXPECT_TRUE(std::isnan(vec::exp_scalar(std::nanf(""))));
  // Gradual underflow below the normal range (e^-100 is a float subnormal).
  EXPECT_NEAR(vec::exp_scalar(-100.f), std::exp(-100.0), 1e-45);
}

TEST(VecMath, LogAccuracy) {
  auto f = [](vec::VecF x) { return vec::log(x); };
  auto e = [](double x) { return std::log(x); };
  EXPECT_ACCURATE("log (0, 10]", sweep(f, e, 1e-30f, 10.f), 3e-7);
  EXPECT_ACCURATE("log [0.5, 2]", sweep(f, e, 0.5f, 2.f), 3e-7);
  EXPECT_ACCURATE("log [1, 3e38]", sweep(f, e, 1.f, 3e38f), 2e-7);
  EXPECT_NEAR(vec::log_scalar(1e-40f), std::log(1e-40), 1e-5);  // subnormal input
  EXPECT_EQ(vec::log_scalar(0.f), -std::numeric_limits<float>::infinity());
  EXPECT_TRUE(std::isnan(vec::log_scalar(-1.f)));
  EXPECT_EQ(vec::log_scalar(std::numeric_limits<float>::infinity()),
            std::numeric_limits<float>::infinity());
  EXPECT_EQ(vec::log_scalar(1.f), 0.f);
}

TEST(VecMath, TanhAccuracy) {
  auto f = [](vec::VecF x) { return vec::tanh(x); };
  auto e = [](double x) { return std::tanh(x); };
  EXPECT_ACCURATE("tanh [-10, 10]", sweep(f, e, -10.f, 10.f), 5e-7);
  EXPECT_ACCURATE("tanh [-1, 1]", sweep(f, e, -1.f, 1.f), 5e-7);
  EXPECT_EQ(vec::tanh_scalar(50.f), 1.f);
  EXPECT_EQ(vec::tanh_scalar(-50.f), -1.f);
  EXPECT_EQ(vec::tanh_scalar(0.f), 0.f);
}

TEST(VecMath, SigmoidAccuracy) {
  auto f = [](vec::VecF x) { return vec::sigmoid(x); };
  auto e = [](double x) { return 1.0 / (1.0 + std::exp(-x)); };
  EXPECT_ACCURATE("sigmoid [-80, 80]", sweep(f, e, -80.f, 80.f), 5e-7);
}

TEST(VecMath, ErfAccuracy) {
  auto f = [](vec::VecF x) { return vec::erf(x); };
  auto e = [](double x) { return std::erf(x); };
  EXPECT_ACCURATE("erf [-6, 6]", sweep(f, e, -6.f, 6.f), 5e-7);
  EXPECT_ACCURATE("erf [-1e-3, 1e-3]", sweep(f, e, -1e-3f, 1e-3f), 5e-7);
}

TEST(VecMath, GeluAccuracy) {
  auto f = [](vec::VecF x) { return vec::gelu(x); };
  EXPECT_ACCURATE("gelu [-5, 5]", sweep(f, exact_gelu, -5.f, 5.f), 1e-6);
  // The far negative tail is where 1 + erf(x) cancels; the erfc form keeps it accurate.
  EXPECT_ACCURATE("gelu [-13, -5]", sweep(f, exact_gelu, -13.f, -5.f), 2e-6);
  EXPECT_ACCURATE("gelu [5, 20]", sweep(f, exact_gelu, 5.f, 20.f), 1e-6);
  EXPECT_EQ(vec::gelu_scalar(0.f), 0.f);
  EXPECT_EQ(vec::gelu_scalar(-30.f), -0.f);
}

TEST(VecMath, PowMatchesLibm) {
  float a[vec::kWidth], b[vec::kWidth];
  std::mt19937 rng(7);
  std::uniform_real_distribution<float> base(0.01f, 10.f), expo(-4.f, 4.f);
  double worst = 0;
  for (int it = 0; it < 2000; ++it) {
    for (int j = 0; j < vec::kWidth; ++j) {
      a[j] = base(rng);
      b[j] = expo(rng);
    }
    const vec::VecF y = vec::pow(vec::load(a), vec::load(b));
    for (int j = 0; j < vec::kWidth; ++j) {
      const double want = std::pow(static_cast<double>(a[j]), static_cast<double>(b[j]));
      worst = std::max(worst, std::fabs(y[j] - want) / want);
    }
  }
  std::printf("pow max relative error %.3g\n", worst);
  EXPECT_LT(worst, 5e-6);
  auto p = [](float x, float y) { return vec::pow(vec::splat(x), vec::splat(y))[0]; };
  EXPECT_NEAR(p(-2.f, 3.f), -8.f, 1e-5);
  EXPECT_NEAR(p(-2.f, 2.f), 4.f, 1e-5);
  EXPECT_TRUE(std::isnan(p(-2.f, 0.5f)));
  EXPECT_EQ(p(0.f, 2.f), 0.f);
  EXPECT_EQ(p(5.f, 0.f), 1.f);
  EXPECT_EQ(p(0.f, -1.f), std::numeric_limits<float>::infinity());
}

}  // namespace
}  // namespace tensorgraph
