// The options of `seghub serve` and their precedence: flags > SEGHUB_* environment variables >
// config file (--config) > defaults.
//
// CLI11 2.1 applies a config file before environment variables, which would let a file override
// the environment; so the config file is not given to CLI11 and FinalizeServeOptions() applies it
// afterwards, only to options that neither a flag nor a variable set.
//
// Separate from serve_command.cc so the precedence can be tested without an engine.
#ifndef SEGHUB_TOOLS_SERVE_OPTIONS_H_
#define SEGHUB_TOOLS_SERVE_OPTIONS_H_

#include <CLI/CLI.hpp>
#include <cstdint>
#include <string>

#include "common/status.h"

namespace seghub::tools {

struct ServeOptions {
  std::string host = "127.0.0.1";
  int port = 8080;  // 0: any free port
  std::string data_dir = "./data";
  std::string models_dir = "./models";
  std::string db_url;             // empty: SQLite in the data directory
  int db_pool = 25;               // database connections
  std::string queue_url;          // redis://…: jobs go to `seghub worker` processes
  std::string web_dir = "./web";  // the browser UI; served at / when the folder exists
  int api_threads = 8;            // Hub service request threads (they may block on the database)
  int max_in_flight = 16;         // images the job runner keeps in the segmenter at once
  bool no_rate_limit = false;
  std::string memory_budget = "8GiB";
  int threads = 0;  // 0: all cores
  int io_threads = 2;
  std::string max_body = "256MiB";
  std::string max_image = "20MiB";  // per image (the Hub's upload limit)
  std::string log_level = "info";
  bool no_warmup = false;
  std::string config_file;
  // The secret API servers and workers share to sign internal blob URLs (hub/blob_urls.h).
  // Empty: <data>/blob.secret, filled in by FinalizeServeOptions; created on first use by
  // hub::LoadOrCreateSecret. On machines without a shared filesystem copy the file (or point
  // this at a mounted secret): every API server and worker must read the same bytes.
  std::string blob_secret_file;

  // Filled by FinalizeServeOptions() from the strings above.
  int64_t memory_budget_bytes = 0;
  int64_t max_body_bytes = 0;
  int64_t max_image_bytes = 0;
};

// Declares every serve option on `app` (the `serve` subcommand), bound to `options`, with its
// default and environment variable shown in --help. `options` must outlive `app`.
void AddServeOptions(CLI::App* app, ServeOptions* options);

// Call after `app` parsed. Applies options->config_file (TOML/INI `key = value`, keys as the long
// flag names, optionally under [serve]) to options no flag or variable set, then validates and
// converts the sizes. kInvalidArgument on an unreadable file, an unknown key or a bad value.
Status FinalizeServeOptions(CLI::App* app, ServeOptions* options);

// "memory-budget" -> "SEGHUB_MEMORY_BUDGET".
std::string EnvNameFor(const std::string& long_name);

// Adds --name bound to *value, with its SEGHUB_* variable and default shown in --help.
template <typename T>
CLI::Option* AddOption(CLI::App* app, const std::string& name, T* value, const std::string& help) {
  return app->add_option("--" + name, *value, help)
      ->envname(EnvNameFor(name))
      ->capture_default_str();
}

// "8GiB" -> bytes; kInvalidArgument naming --flag when malformed or not positive.
Status ParsePositiveBytes(const std::string& flag, const std::string& text, int64_t* out);

}  // namespace seghub::tools

#endif  // SEGHUB_TOOLS_SERVE_OPTIONS_H_
