#include "tensorgraph/hub/paths.hpp"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>

#include <gtest/gtest.h>

#include "support/shared_data.hpp"

namespace tensorgraph::hub {
namespace {

namespace fs = std::filesystem;
using testing::TempDir;

// Sets an environment variable for one scope, restoring the old value afterwards.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const char* value) : name_(name) {
    if (const char* old = std::getenv(name)) old_ = old;
    if (value)
      ::setenv(name, value, 1);
    else
      ::unsetenv(name);
  }
  ~ScopedEnv() {
    if (old_)
      ::setenv(name_, old_->c_str(), 1);
    else
      ::unsetenv(name_);
  }
  ScopedEnv(const ScopedEnv&) = delete;
  ScopedEnv& operator=(const ScopedEnv&) = delete;

 private:
  const char* name_;
  std::optional<std::string> old_;
};

fs::path real_path(const fs::path& p) {
  return fs::weakly_canonical(p);
}

TEST(Paths, ModelFolderNames) {
  EXPECT_EQ(model_folder_name("distilbert-base-uncased-finetuned-sst-2-english"),
            "distilbert-sentiment");
  EXPECT_EQ(model_folder_name("distilbert/distilbert-base-uncased-finetuned-sst-2-english"),
            "distilbert-sentiment");
  EXPECT_EQ(model_folder_name("acme/tiny"), "acme--tiny");
  EXPECT_EQ(model_folder_name("bert-base-uncased"), "bert-base-uncased");
}

TEST(Paths, FindsTheProjectFromAnyFolderBelowIt) {
  TempDir dir;
  fs::create_directories(dir / "proj" / "models");
  fs::create_directories(dir / "proj" / "build" / "tests");
  std::ofstream(dir / "proj" / "models" / "README.md") << "models\n";
  EXPECT_EQ(find_project_dir(dir / "proj" / "build" / "tests"), real_path(dir / "proj"));
  EXPECT_EQ(find_project_dir(dir / "proj"), real_path(dir / "proj"));
  EXPECT_EQ(find_project_dir(dir.path()), std::nullopt);
}

TEST(Paths, ProjectOfThisTestBinaryIsTheCheckout) {
  // The test executable lives in build/tests/ (or build/asan/tests/) of this checkout, whose
  // models/README.md is tracked: /proc/self/exe leads back to the checkout.
  EXPECT_EQ(real_path(project_dir()), real_path(testing::source_dir()));
}

TEST(Paths, ModelsDirPrecedence) {
  {
    ScopedEnv env("TG_MODELS_DIR", nullptr);
    EXPECT_EQ(real_path(models_dir()), real_path(testing::source_dir() / "models"));
    EXPECT_EQ(models_dir(fs::path("/opt/m")), fs::path("/opt/m"));
  }
  {
    ScopedEnv env("TG_MODELS_DIR", "/srv/models");
    EXPECT_EQ(models_dir(), fs::path("/srv/models"));
    EXPECT_EQ(models_dir(fs::path("/opt/m")), fs::path("/opt/m"));  // the option wins
    EXPECT_EQ(default_model_dir("acme/tiny"), fs::path("/srv/models/acme--tiny"));
    EXPECT_EQ(default_model_dir(kDefaultModelRepo, fs::path("/x")),
              fs::path("/x/distilbert-sentiment"));
  }
  {
    ScopedEnv env("TG_MODELS_DIR", "");  // empty: ignored
    EXPECT_EQ(real_path(models_dir()), real_path(testing::source_dir() / "models"));
  }
}

TEST(Paths, DataDirIsDatasetsNeverData) {
  {
    ScopedEnv env("TG_DATA_DIR", nullptr);
    EXPECT_EQ(real_path(data_dir()), real_path(testing::source_dir() / "datasets"));
    EXPECT_EQ(data_dir(fs::path("/d")), fs::path("/d"));
  }
  {
    ScopedEnv env("TG_DATA_DIR", "/srv/data");
    EXPECT_EQ(data_dir(), fs::path("/srv/data"));
  }
}

}  // namespace
}  // namespace tensorgraph::hub
