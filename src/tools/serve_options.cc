#include "tools/serve_options.h"

#include <algorithm>
#include <cctype>
#include <filesystem>

#include "common/units.h"

namespace seghub::tools {
namespace {

Status ApplyConfigItem(CLI::App* app, const CLI::ConfigItem& item) {
  std::string key = item.name;
  std::replace(key.begin(), key.end(), '_', '-');
  if (key == "config") return InvalidArgument("a config file cannot name another config file");
  CLI::Option* opt = app->get_option_no_throw("--" + key);
  if (opt == nullptr) return InvalidArgument("unknown key '" + item.name + "' in config file");
  if (opt->count() > 0) return Status::Ok();  // set by a flag or an environment variable
  try {
    opt->add_result(item.inputs);
    opt->run_callback();
  } catch (const CLI::Error& e) {
    return InvalidArgument("config file key '" + item.name + "': " + e.what());
  }
  return Status::Ok();
}

Status ApplyConfigFile(CLI::App* app, const std::string& path) {
  std::vector<CLI::ConfigItem> items;
  try {
    items = CLI::ConfigTOML().from_file(path);
  } catch (const CLI::Error& e) {
    return InvalidArgument("cannot read config file '" + path + "': " + e.what());
  }
  for (const CLI::ConfigItem& item : items) {
    // CLI11 emits "++"/"--" markers around sections; only top level and [serve] apply here.
    if (item.name == "++" || item.name == "--") continue;
    bool ours = item.parents.empty() || (item.parents.size() == 1 && item.parents[0] == "serve");
    if (!ours) continue;
    SEGHUB_RETURN_IF_ERROR(ApplyConfigItem(app, item));
  }
  return Status::Ok();
}

}  // namespace

Status ParsePositiveBytes(const std::string& flag, const std::string& text, int64_t* out) {
  Result<int64_t> bytes = ParseBytes(text);
  if (!bytes.ok()) return InvalidArgument("--" + flag + ": " + bytes.status().message());
  if (*bytes <= 0) return InvalidArgument("--" + flag + " must be positive");
  *out = *bytes;
  return Status::Ok();
}

std::string EnvNameFor(const std::string& long_name) {
  std::string env = "SEGHUB_";
  for (char c : long_name) {
    env.push_back(c == '-' ? '_' : static_cast<char>(std::toupper(static_cast<unsigned char>(c))));
  }
  return env;
}

void AddServeOptions(CLI::App* app, ServeOptions* o) {
  AddOption(app, "host", &o->host, "Address to listen on");
  AddOption(app, "port", &o->port, "TCP port; 0 picks a free one")->check(CLI::Range(0, 65535));
  AddOption(app, "data", &o->data_dir, "Directory for uploads, results and the database");
  AddOption(app, "models", &o->models_dir, "Model repository (one folder per model)");
  AddOption(app, "db", &o->db_url,
            "Database URL: postgres://user:pass@host:port/db; empty = SQLite in --data");
  AddOption(app, "queue", &o->queue_url,
            "Job queue: empty = in the database, run here; redis://host:port = Redis Streams, "
            "run by `seghub worker` processes");
  AddOption(app, "db-pool", &o->db_pool, "Database connections in the pool")
      ->check(CLI::Range(1, 1000));
  AddOption(app, "web", &o->web_dir, "Folder of the web UI served at / (skipped when absent)");
  AddOption(app, "api-threads", &o->api_threads, "Threads serving Hub service requests")
      ->check(CLI::Range(1, 256));
  AddOption(app, "max-in-flight", &o->max_in_flight,
            "Queued images the job runner keeps in the segmenter at once")
      ->check(CLI::Range(1, 4096));
  app->add_flag("--no-rate-limit", o->no_rate_limit, "Disable per-client rate limits (benchmarks)")
      ->envname(EnvNameFor("no-rate-limit"))
      ->capture_default_str();
  AddOption(app, "memory-budget", &o->memory_budget,
            "Memory the engine may use for weights and activations (e.g. 8GiB)");
  AddOption(app, "threads", &o->threads, "Compute threads for inference; 0 = all cores")
      ->check(CLI::NonNegativeNumber);
  AddOption(app, "io-threads", &o->io_threads, "HTTP io threads")->check(CLI::Range(1, 256));
  AddOption(app, "max-body", &o->max_body, "Largest request body accepted (e.g. 256MiB)");
  AddOption(app, "max-image", &o->max_image, "Largest encoded image accepted (e.g. 20MiB)");
  AddOption(app, "log-level", &o->log_level, "trace, debug, info, warn, error or off")
      ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error", "off"}));
  app->add_flag("--no-warmup", o->no_warmup, "Skip the warm-up inference after loading a model")
      ->envname(EnvNameFor("no-warmup"))
      ->capture_default_str();
  AddOption(app, "blob-secret-file", &o->blob_secret_file,
            "Secret shared by API servers and workers for internal blob URLs; empty = "
            "<data>/blob.secret (created when missing)");
  AddOption(app, "config", &o->config_file,
            "TOML file of `key = value` lines (keys as the flag names); flags and SEGHUB_* "
            "variables override it");
}

Status FinalizeServeOptions(CLI::App* app, ServeOptions* o) {
  if (!o->config_file.empty()) SEGHUB_RETURN_IF_ERROR(ApplyConfigFile(app, o->config_file));
  SEGHUB_RETURN_IF_ERROR(
      ParsePositiveBytes("memory-budget", o->memory_budget, &o->memory_budget_bytes));
  SEGHUB_RETURN_IF_ERROR(ParsePositiveBytes("max-body", o->max_body, &o->max_body_bytes));
  SEGHUB_RETURN_IF_ERROR(ParsePositiveBytes("max-image", o->max_image, &o->max_image_bytes));
  if (o->blob_secret_file.empty()) {
    o->blob_secret_file = (std::filesystem::path(o->data_dir) / "blob.secret").string();
  }
  return Status::Ok();
}

}  // namespace seghub::tools
