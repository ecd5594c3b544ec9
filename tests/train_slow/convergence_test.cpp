// Convergence of the example models on small slices of the real data (../shared/data), in
// seconds: the MLP on 2,000 California housing rows, the CNN on 2,000 MNIST images. A separate
// test layer (train_slow) so that the sanitizer subset leaves these numeric loops out; one thread,
// so that the numbers are the same on every run.
#include <gtest/gtest.h>

#include "support/shared_data.hpp"
#include "tensorgraph/io/california_housing.hpp"
#include "tensorgraph/io/mnist.hpp"
#include "tensorgraph/train/cnn_training.hpp"
#include "tensorgraph/train/mlp_training.hpp"

namespace tensorgraph::train {
namespace {

TEST(Convergence, MlpOn2000RowsReachesR2AbovePoint6) {
  TG_REQUIRE_SHARED_FILE(testing::shared_path("data/california_housing/cal_housing.data"));
  const io::CaliforniaHousing data = io::load_california_housing(testing::shared_path("data"));
  MlpTrainingOptions o;
  o.limit = 2000;  // 1,440 rows trained on, 160 for validation, 400 for the test
  o.epochs = 60;
  o.patience = 0;
  o.threads = 1;
  const MlpTrainingResult r = train_mlp_regressor(data, o);
  EXPECT_EQ(r.test.count, 400);
  EXPECT_EQ(r.train.count, 1440);
  EXPECT_GE(r.test.r2, 0.6);
  EXPECT_GE(r.train.r2, r.test.r2 - 0.1);
  EXPECT_EQ(r.fit.epochs_completed, 60);
  // Deterministic: the same options give the same weights.
  const MlpTrainingResult again = train_mlp_regressor(data, o);
  EXPECT_EQ(again.params["fc3.weight"].to_vector<float>(), r.params["fc3.weight"].to_vector<float>());
  EXPECT_EQ(again.test.r2, r.test.r2);
}

TEST(Convergence, CnnOn2000ImagesReaches90Percent) {
  TG_REQUIRE_SHARED_FILE(testing::shared_path("data/mnist/train-images-idx3-ubyte.gz"));
  const io::Mnist train_set = io::load_mnist(testing::shared_path("data"), io::MnistSplit::Train);
  const io::Mnist test_set = io::load_mnist(testing::shared_path("data"), io::MnistSplit::Test);
  CnnTrainingOptions o;
  o.limit = 2000;
  o.validation = 200;
  o.test_limit = 1000;
  o.epochs = 4;
  o.learning_rate = 2e-3;
  o.threads = 1;
  const CnnTrainingResult r = train_mnist_cnn(train_set, test_set, o);
  EXPECT_EQ(r.test.count, 1000);
  EXPECT_GE(r.test.accuracy, 0.90);
  EXPECT_EQ(r.fit.history.size(), 4u);
  EXPECT_LT(r.fit.history.back().train_loss, r.fit.history.front().train_loss);
}

}  // namespace
}  // namespace tensorgraph::train
