// Precedence of `seghub serve` options: flags > SEGHUB_* environment > config file > defaults.
#include "tools/serve_options.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>

namespace seghub::tools {
namespace {

namespace fs = std::filesystem;

const char* const kOptionNames[] = {"host",          "port",      "data",       "models",
                                    "memory-budget", "threads",   "io-threads", "max-body",
                                    "log-level",     "no-warmup", "config"};

class ServeOptionsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // The developer's own SEGHUB_* settings must not leak into the test.
    for (const char* name : kOptionNames) unsetenv(EnvNameFor(name).c_str());
    config_ = fs::temp_directory_path() / ("seghub_serve_options_" + std::to_string(getpid()));
    serve_ = app_.add_subcommand("serve");
    AddServeOptions(serve_, &options_);
  }
  void TearDown() override {
    for (const char* name : kOptionNames) unsetenv(EnvNameFor(name).c_str());
    fs::remove(config_);
  }

  void WriteConfig(const std::string& text) { std::ofstream(config_) << text; }

  // Parses `seghub serve <args>` and finalizes; returns the Finalize status.
  Status Parse(std::vector<std::string> args) {
    args.insert(args.begin(), "serve");
    std::reverse(args.begin(), args.end());  // CLI11 takes the vector form reversed
    app_.parse(args);
    return FinalizeServeOptions(serve_, &options_);
  }

  CLI::App app_;
  CLI::App* serve_ = nullptr;
  ServeOptions options_;
  fs::path config_;
};

TEST_F(ServeOptionsTest, Defaults) {
  ASSERT_TRUE(Parse({}).ok());
  EXPECT_EQ(options_.host, "127.0.0.1");
  EXPECT_EQ(options_.port, 8080);
  EXPECT_EQ(options_.data_dir, "./data");
  EXPECT_EQ(options_.models_dir, "./models");
  EXPECT_EQ(options_.memory_budget_bytes, int64_t{8} << 30);
  EXPECT_EQ(options_.max_body_bytes, int64_t{256} << 20);
  EXPECT_EQ(options_.threads, 0);
  EXPECT_EQ(options_.log_level, "info");
  EXPECT_FALSE(options_.no_warmup);
}

TEST_F(ServeOptionsTest, ConfigFileOverridesDefaults) {
  WriteConfig(
      "port = 9001\nmodels = \"/cfg/models\"\nmemory-budget = \"2GiB\"\nno-warmup = true\n");
  ASSERT_TRUE(Parse({"--config", config_.string()}).ok());
  EXPECT_EQ(options_.port, 9001);
  EXPECT_EQ(options_.models_dir, "/cfg/models");
  EXPECT_EQ(options_.memory_budget_bytes, int64_t{2} << 30);
  EXPECT_TRUE(options_.no_warmup);
  EXPECT_EQ(options_.host, "127.0.0.1");  // not in the file: default
}

TEST_F(ServeOptionsTest, EnvironmentOverridesConfigFile) {
  WriteConfig("port = 9001\nmodels = \"/cfg/models\"\n");
  setenv("SEGHUB_PORT", "9002", 1);
  setenv("SEGHUB_CONFIG", config_.string().c_str(), 1);
  ASSERT_TRUE(Parse({}).ok());
  EXPECT_EQ(options_.port, 9002);
  EXPECT_EQ(options_.models_dir, "/cfg/models");  // only in the file
}

TEST_F(ServeOptionsTest, FlagsOverrideEnvironmentAndConfigFile) {
  WriteConfig("port = 9001\nhost = \"0.0.0.0\"\n");
  setenv("SEGHUB_PORT", "9002", 1);
  setenv("SEGHUB_MODELS", "/env/models", 1);
  ASSERT_TRUE(Parse({"--config", config_.string(), "--port", "9003"}).ok());
  EXPECT_EQ(options_.port, 9003);
  EXPECT_EQ(options_.models_dir, "/env/models");
  EXPECT_EQ(options_.host, "0.0.0.0");
}

TEST_F(ServeOptionsTest, FlagEqualToDefaultStillBeatsConfigFile) {
  WriteConfig("port = 9001\n");
  ASSERT_TRUE(Parse({"--config", config_.string(), "--port", "8080"}).ok());
  EXPECT_EQ(options_.port, 8080);
}

TEST_F(ServeOptionsTest, ServeSectionAndUnderscoreKeysAreAccepted) {
  WriteConfig("[serve]\nmax_body = \"1MiB\"\nio-threads = 3\n");
  ASSERT_TRUE(Parse({"--config", config_.string()}).ok());
  EXPECT_EQ(options_.max_body_bytes, 1 << 20);
  EXPECT_EQ(options_.io_threads, 3);
}

TEST_F(ServeOptionsTest, BadConfigFilesAreErrorsNotCrashes) {
  WriteConfig("prot = 9001\n");
  EXPECT_EQ(Parse({"--config", config_.string()}).code(), StatusCode::kInvalidArgument);
}

TEST_F(ServeOptionsTest, OutOfRangeValueInConfigIsRejected) {
  WriteConfig("port = 70000\n");
  EXPECT_EQ(Parse({"--config", config_.string()}).code(), StatusCode::kInvalidArgument);
}

TEST_F(ServeOptionsTest, MissingConfigFileIsAnError) {
  EXPECT_EQ(Parse({"--config", (config_ / "missing.toml").string()}).code(),
            StatusCode::kInvalidArgument);
}

TEST_F(ServeOptionsTest, BadSizesAreRejected) {
  EXPECT_FALSE(Parse({"--memory-budget", "lots"}).ok());
}

TEST_F(ServeOptionsTest, BadFlagValueIsAParseError) {
  EXPECT_THROW(Parse({"--port", "99999"}), CLI::ValidationError);
}

TEST_F(ServeOptionsTest, HelpListsEveryOptionWithDefaultAndEnvName) {
  std::string help = serve_->help();
  for (const char* name : kOptionNames) {
    EXPECT_NE(help.find(std::string("--") + name), std::string::npos) << name << "\n" << help;
    EXPECT_NE(help.find(EnvNameFor(name)), std::string::npos) << name << "\n" << help;
  }
  for (const char* dflt : {"127.0.0.1", "8080", "./models", "8GiB", "256MiB", "info"}) {
    EXPECT_NE(help.find(dflt), std::string::npos) << dflt << "\n" << help;
  }
}

}  // namespace
}  // namespace seghub::tools
