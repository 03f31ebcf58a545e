#include "hub/schema.h"

namespace seghub::hub {
namespace {

// Times are unix milliseconds; ids are random hex strings made by the caller (hub/ids.h).
constexpr const char* kV1Users = R"sql(
CREATE TABLE users (
  id TEXT PRIMARY KEY,
  email TEXT NOT NULL UNIQUE,
  name TEXT NOT NULL,
  password_hash TEXT NOT NULL,
  created_at BIGINT NOT NULL
);
CREATE TABLE refresh_tokens (
  id TEXT PRIMARY KEY,
  user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  token_hash TEXT NOT NULL UNIQUE,
  expires_at BIGINT NOT NULL,
  revoked BIGINT NOT NULL DEFAULT 0,
  created_at BIGINT NOT NULL
);
CREATE TABLE api_tokens (
  id TEXT PRIMARY KEY,
  user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  name TEXT NOT NULL,
  token_hash TEXT NOT NULL UNIQUE,
  created_at BIGINT NOT NULL,
  last_used_at BIGINT
);
)sql";

constexpr const char* kV2Projects = R"sql(
CREATE TABLE projects (
  id TEXT PRIMARY KEY,
  owner_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  name TEXT NOT NULL,
  description TEXT NOT NULL DEFAULT '',
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL
);
CREATE INDEX projects_owner ON projects(owner_id);
CREATE TABLE project_shares (
  id TEXT PRIMARY KEY,
  project_id TEXT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
  user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  role TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  UNIQUE (project_id, user_id)
);
CREATE INDEX project_shares_user ON project_shares(user_id);
CREATE TABLE share_links (
  token_hash TEXT PRIMARY KEY,
  project_id TEXT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
  role TEXT NOT NULL,
  created_by TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  expires_at BIGINT
);
CREATE TABLE images (
  id TEXT PRIMARY KEY,
  project_id TEXT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
  name TEXT NOT NULL,
  blob_key TEXT NOT NULL,
  size_bytes BIGINT NOT NULL,
  width BIGINT NOT NULL,
  height BIGINT NOT NULL,
  status TEXT NOT NULL DEFAULT 'new',
  error TEXT,
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL
);
CREATE INDEX images_project ON images(project_id, created_at);
CREATE TABLE segmentations (
  image_id TEXT NOT NULL REFERENCES images(id) ON DELETE CASCADE,
  version BIGINT NOT NULL,
  source TEXT NOT NULL,
  model TEXT,
  threshold DOUBLE PRECISION,
  polygon_count BIGINT NOT NULL,
  result_json TEXT NOT NULL,
  created_by TEXT,
  created_at BIGINT NOT NULL,
  PRIMARY KEY (image_id, version)
);
CREATE TABLE result_cache (
  cache_key TEXT PRIMARY KEY,
  result_json TEXT NOT NULL,
  created_at BIGINT NOT NULL
);
)sql";

constexpr const char* kV3Jobs = R"sql(
CREATE TABLE jobs (
  id TEXT PRIMARY KEY,
  batch_id TEXT NOT NULL,
  image_id TEXT NOT NULL REFERENCES images(id) ON DELETE CASCADE,
  project_id TEXT NOT NULL,
  user_id TEXT NOT NULL,
  model TEXT NOT NULL,
  params_json TEXT NOT NULL,
  priority BIGINT NOT NULL DEFAULT 0,
  status TEXT NOT NULL,
  attempts BIGINT NOT NULL DEFAULT 0,
  error TEXT,
  claim_token TEXT,
  worker TEXT,
  lease_until BIGINT,
  available_at BIGINT NOT NULL,
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL,
  finished_at BIGINT
);
CREATE INDEX jobs_status ON jobs(status, priority, created_at);
CREATE INDEX jobs_user ON jobs(user_id, status);
CREATE INDEX jobs_project ON jobs(project_id, status);
CREATE INDEX jobs_image ON jobs(image_id);
CREATE TABLE queue_users (
  user_id TEXT PRIMARY KEY,
  served_seq BIGINT NOT NULL
);
CREATE TABLE exports (
  id TEXT PRIMARY KEY,
  user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  project_id TEXT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
  status TEXT NOT NULL,
  progress DOUBLE PRECISION NOT NULL DEFAULT 0,
  stage TEXT NOT NULL DEFAULT '',
  options_json TEXT NOT NULL,
  blob_key TEXT,
  error TEXT,
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL
);
CREATE INDEX exports_user ON exports(user_id, status);
)sql";

}  // namespace

const std::vector<storage::Migration>& HubMigrations() {
  static const std::vector<storage::Migration> kMigrations = {
      {1, "users and tokens", kV1Users, ""},
      {2, "projects, images, segmentations", kV2Projects, ""},
      {3, "jobs and exports", kV3Jobs, ""},
  };
  return kMigrations;
}

}  // namespace seghub::hub
