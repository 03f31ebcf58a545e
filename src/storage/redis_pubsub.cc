#include "storage/redis_pubsub.h"

#include <hiredis/hiredis.h>
#include <poll.h>

#include <cerrno>
#include <charconv>
#include <string_view>

namespace seghub::storage {
namespace {

using SteadyClock = std::chrono::steady_clock;
using std::chrono::milliseconds;

struct Endpoint {
  std::string host, user, password;
  int port = 6379;
};

// The same url syntax as RedisClient::Connect; the db is irrelevant to pub/sub.
Result<Endpoint> ParseUrl(const std::string& url) {
  constexpr std::string_view kScheme = "redis://";
  if (url.rfind(kScheme, 0) != 0) return InvalidArgument("not a redis:// url: " + url);
  std::string rest = url.substr(kScheme.size());
  if (size_t slash = rest.find('/'); slash != std::string::npos) rest.resize(slash);
  Endpoint ep;
  if (size_t at = rest.rfind('@'); at != std::string::npos) {
    const std::string auth = rest.substr(0, at);
    const size_t colon = auth.find(':');
    ep.user = colon == std::string::npos ? "" : auth.substr(0, colon);
    ep.password = colon == std::string::npos ? auth : auth.substr(colon + 1);
    rest = rest.substr(at + 1);
  }
  if (size_t colon = rest.rfind(':'); colon != std::string::npos) {
    const std::string_view port = std::string_view(rest).substr(colon + 1);
    auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), ep.port);
    if (ec != std::errc() || end != port.data() + port.size()) {
      return InvalidArgument("bad port in " + url);
    }
    rest.resize(colon);
  }
  if (rest.empty()) return InvalidArgument("no host in " + url);
  ep.host = rest;
  return ep;
}

timeval ToTimeval(milliseconds d) {
  timeval tv{};
  tv.tv_sec = static_cast<time_t>(d.count() / 1000);
  tv.tv_usec = static_cast<suseconds_t>((d.count() % 1000) * 1000);
  return tv;
}

// Runs one command on a fresh context; the first reply (for SUBSCRIBE: the first confirmation).
Status RunSetup(redisContext* c, const std::vector<std::string>& argv, const std::string& where) {
  std::vector<const char*> args;
  std::vector<size_t> lens;
  for (const std::string& a : argv) {
    args.push_back(a.data());
    lens.push_back(a.size());
  }
  auto* r = static_cast<redisReply*>(
      redisCommandArgv(c, static_cast<int>(args.size()), args.data(), lens.data()));
  if (r == nullptr)
    return Unavailable("redis: " + argv[0] + " failed on " + where + ": " + c->errstr);
  const bool error = r->type == REDIS_REPLY_ERROR;
  const std::string message = error ? std::string(r->str, r->len) : "";
  freeReplyObject(r);
  return error ? FailedPrecondition("redis: " + argv[0] + ": " + message) : Status::Ok();
}

// A "message" push (["message", channel, payload]) as a value; nullopt for anything else.
std::optional<RedisMessage> AsMessage(const redisReply* r) {
  if (r->type != REDIS_REPLY_ARRAY || r->elements != 3) return std::nullopt;
  const redisReply* kind = r->element[0];
  if (kind->type != REDIS_REPLY_STRING || std::string_view(kind->str, kind->len) != "message") {
    return std::nullopt;
  }
  if (r->element[1]->type != REDIS_REPLY_STRING || r->element[2]->type != REDIS_REPLY_STRING) {
    return std::nullopt;
  }
  return RedisMessage{std::string(r->element[1]->str, r->element[1]->len),
                      std::string(r->element[2]->str, r->element[2]->len)};
}

}  // namespace

Result<std::unique_ptr<RedisSubscriber>> RedisSubscriber::Connect(
    const std::string& url, const std::vector<std::string>& channels, milliseconds timeout) {
  if (channels.empty()) return InvalidArgument("redis: subscribe to at least one channel");
  SEGHUB_ASSIGN_OR_RETURN(Endpoint ep, ParseUrl(url));
  const std::string where = ep.host + ":" + std::to_string(ep.port);
  redisContext* c = redisConnectWithTimeout(ep.host.c_str(), ep.port, ToTimeval(timeout));
  if (c == nullptr || c->err) {
    const std::string why = c ? c->errstr : "out of memory";
    if (c) redisFree(c);
    return Unavailable("redis: cannot connect to " + where + ": " + why);
  }
  std::unique_ptr<RedisSubscriber> sub(new RedisSubscriber(c));
  redisSetTimeout(c, ToTimeval(timeout));
  redisEnableKeepAlive(c);  // a silently vanished server is noticed eventually
  if (!ep.password.empty()) {
    SEGHUB_RETURN_IF_ERROR(ep.user.empty() ? RunSetup(c, {"AUTH", ep.password}, where)
                                           : RunSetup(c, {"AUTH", ep.user, ep.password}, where));
  }
  std::vector<std::string> argv = {"SUBSCRIBE"};
  argv.insert(argv.end(), channels.begin(), channels.end());
  SEGHUB_RETURN_IF_ERROR(RunSetup(c, argv, where));
  return sub;
}

RedisSubscriber::~RedisSubscriber() { redisFree(ctx_); }

Status RedisSubscriber::Broken() const {
  return Unavailable(std::string("redis: subscription lost: ") +
                     (ctx_->err ? ctx_->errstr : "protocol error"));
}

Result<std::optional<RedisMessage>> RedisSubscriber::Next(milliseconds timeout) {
  const SteadyClock::time_point deadline = SteadyClock::now() + timeout;
  for (;;) {
    // Replies already buffered first: one read can bring several messages.
    void* raw = nullptr;
    if (redisGetReplyFromReader(ctx_, &raw) != REDIS_OK) return Broken();
    if (raw != nullptr) {
      auto* reply = static_cast<redisReply*>(raw);
      std::optional<RedisMessage> message = AsMessage(reply);
      freeReplyObject(reply);
      if (message) return message;
      continue;  // a subscribe confirmation: keep waiting
    }
    const auto left =
        std::chrono::duration_cast<milliseconds>(deadline - SteadyClock::now()).count();
    if (left <= 0) return std::optional<RedisMessage>();
    pollfd p{ctx_->fd, POLLIN, 0};
    const int n = ::poll(&p, 1, static_cast<int>(left));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Unavailable("redis: poll failed");
    if (n == 0) return std::optional<RedisMessage>();
    // Readable (or hung up): the read does not block; EOF turns into an error here.
    if (redisBufferRead(ctx_) != REDIS_OK) return Broken();
  }
}

}  // namespace seghub::storage
