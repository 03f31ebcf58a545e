#include "storage/redis_client.h"

#include <hiredis/hiredis.h>

#include <algorithm>
#include <charconv>

namespace seghub::storage {
namespace {

timeval ToTimeval(std::chrono::milliseconds d) {
  timeval tv{};
  tv.tv_sec = static_cast<time_t>(d.count() / 1000);
  tv.tv_usec = static_cast<suseconds_t>((d.count() % 1000) * 1000);
  return tv;
}

RedisReply Convert(const redisReply* r) {
  RedisReply out;
  switch (r->type) {
    case REDIS_REPLY_INTEGER:
      out.type = RedisReply::Type::kInteger;
      out.integer = r->integer;
      break;
    case REDIS_REPLY_STRING:
      out.type = RedisReply::Type::kString;
      out.str.assign(r->str, r->len);
      break;
    case REDIS_REPLY_STATUS:
      out.type = RedisReply::Type::kStatus;
      out.str.assign(r->str, r->len);
      break;
    case REDIS_REPLY_ERROR:
      out.type = RedisReply::Type::kError;
      out.str.assign(r->str, r->len);
      break;
    case REDIS_REPLY_ARRAY:
      out.type = RedisReply::Type::kArray;
      out.elements.reserve(r->elements);
      for (size_t i = 0; i < r->elements; ++i) out.elements.push_back(Convert(r->element[i]));
      break;
    default:  // REDIS_REPLY_NIL
      break;
  }
  return out;
}

bool ParseInt(std::string_view s, int* out) {
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), *out);
  return ec == std::errc() && end == s.data() + s.size();
}

}  // namespace

RedisClient::RedisClient(Endpoint endpoint, RedisClientOptions options)
    : endpoint_(std::move(endpoint)),
      options_(options),
      clock_(options.clock ? options.clock : SystemClock::Get()) {}

RedisClient::~RedisClient() {
  std::lock_guard<std::mutex> lock(mu_);
  if (ctx_) redisFree(ctx_);
}

Result<std::unique_ptr<RedisClient>> RedisClient::Connect(const std::string& url,
                                                          RedisClientOptions options) {
  constexpr std::string_view kScheme = "redis://";
  if (url.rfind(kScheme, 0) != 0) return InvalidArgument("not a redis:// url: " + url);
  std::string rest = url.substr(kScheme.size());
  Endpoint ep;
  if (size_t slash = rest.find('/'); slash != std::string::npos) {
    const std::string db = rest.substr(slash + 1);
    if (!db.empty() && !ParseInt(db, &ep.db)) return InvalidArgument("bad redis db in " + url);
    rest.resize(slash);
  }
  if (size_t at = rest.rfind('@'); at != std::string::npos) {
    const std::string auth = rest.substr(0, at);
    const size_t colon = auth.find(':');
    ep.user = colon == std::string::npos ? "" : auth.substr(0, colon);
    ep.password = colon == std::string::npos ? auth : auth.substr(colon + 1);
    rest = rest.substr(at + 1);
  }
  if (size_t colon = rest.rfind(':'); colon != std::string::npos) {
    if (!ParseInt(rest.substr(colon + 1), &ep.port)) return InvalidArgument("bad port in " + url);
    rest.resize(colon);
  }
  if (rest.empty()) return InvalidArgument("no host in " + url);
  ep.host = rest;
  std::unique_ptr<RedisClient> client(new RedisClient(std::move(ep), options));
  std::lock_guard<std::mutex> lock(client->mu_);
  SEGHUB_RETURN_IF_ERROR(client->ConnectLocked());
  return client;
}

Status RedisClient::ConnectLocked() {
  const timeval connect_tv = ToTimeval(options_.connect_timeout);
  redisContext* c = redisConnectWithTimeout(endpoint_.host.c_str(), endpoint_.port, connect_tv);
  const std::string where = endpoint_.host + ":" + std::to_string(endpoint_.port);
  if (!c || c->err) {
    const std::string why = c ? c->errstr : "out of memory";
    if (c) redisFree(c);
    DisconnectLocked();
    return Unavailable("redis: cannot connect to " + where + ": " + why);
  }
  redisSetTimeout(c, ToTimeval(options_.command_timeout));
  redisEnableKeepAlive(c);
  auto setup = [&](std::vector<std::string> argv) -> Status {
    std::vector<const char*> args;
    std::vector<size_t> lens;
    for (const std::string& a : argv) {
      args.push_back(a.data());
      lens.push_back(a.size());
    }
    auto* r = static_cast<redisReply*>(
        redisCommandArgv(c, static_cast<int>(args.size()), args.data(), lens.data()));
    if (!r) return Unavailable("redis: " + argv[0] + " failed on " + where + ": " + c->errstr);
    const bool error = r->type == REDIS_REPLY_ERROR;
    const std::string message = error ? std::string(r->str, r->len) : "";
    freeReplyObject(r);
    // A wrong password or db is a configuration error, not an outage.
    return error ? FailedPrecondition("redis: " + argv[0] + ": " + message) : Status::Ok();
  };
  Status s;
  if (!endpoint_.password.empty()) {
    s = endpoint_.user.empty() ? setup({"AUTH", endpoint_.password})
                               : setup({"AUTH", endpoint_.user, endpoint_.password});
  }
  if (s.ok() && endpoint_.db != 0) s = setup({"SELECT", std::to_string(endpoint_.db)});
  if (!s.ok()) {
    redisFree(c);
    DisconnectLocked();
    return s;
  }
  ctx_ = c;
  backoff_ = std::chrono::milliseconds(0);
  return Status::Ok();
}

void RedisClient::DisconnectLocked() {
  if (ctx_) {
    redisFree(ctx_);
    ctx_ = nullptr;
  }
  backoff_ = backoff_.count() == 0 ? options_.reconnect_min
                                   : std::min(backoff_ * 2, options_.reconnect_max);
  next_attempt_ = clock_->Now() + backoff_;
}

Result<RedisReply> RedisClient::Command(const std::vector<std::string>& argv) {
  if (argv.empty()) return InvalidArgument("redis: empty command");
  std::vector<const char*> args;
  std::vector<size_t> lens;
  args.reserve(argv.size());
  lens.reserve(argv.size());
  for (const std::string& a : argv) {
    args.push_back(a.data());
    lens.push_back(a.size());
  }
  std::lock_guard<std::mutex> lock(mu_);
  if (!ctx_) {
    if (clock_->Now() < next_attempt_) {
      return Unavailable("redis: disconnected from " + endpoint_.host + ":" +
                         std::to_string(endpoint_.port) + ", waiting to reconnect");
    }
    SEGHUB_RETURN_IF_ERROR(ConnectLocked());
  }
  auto* r = static_cast<redisReply*>(
      redisCommandArgv(ctx_, static_cast<int>(args.size()), args.data(), lens.data()));
  if (!r || ctx_->err) {
    const std::string why = ctx_->errstr;
    if (r) freeReplyObject(r);
    backoff_ = std::chrono::milliseconds(0);  // a fresh outage starts at the shortest backoff
    DisconnectLocked();
    return Unavailable("redis: " + argv[0] + " failed: " + why);
  }
  RedisReply out = Convert(r);
  freeReplyObject(r);
  return out;
}

Result<RedisReply> RedisClient::CommandOk(const std::vector<std::string>& argv) {
  SEGHUB_ASSIGN_OR_RETURN(RedisReply r, Command(argv));
  if (r.is_error()) return Internal("redis: " + argv[0] + ": " + r.str);
  return r;
}

Status RedisClient::Ping() {
  SEGHUB_ASSIGN_OR_RETURN(RedisReply r, CommandOk({"PING"}));
  if (r.str != "PONG") return Internal("redis: PING answered '" + r.str + "'");
  return Status::Ok();
}

}  // namespace seghub::storage
