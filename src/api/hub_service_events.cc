// GET /api/ws: the Hub's live events over a WebSocket (docs/hub-service.md, "Live updates").
//
// A session receives the events addressed to its user, and project events of the projects it
// subscribed to (access checked when subscribing). On connect it gets "hello" and the current
// queueStats of the user's busy projects, so a client that reconnects has missed nothing it
// cannot re-read.
#include <mutex>
#include <set>

#include "api/hub_service_context.h"
#include "api/websocket.h"

namespace seghub::api::hubsvc {
namespace {

class EventSession : public std::enable_shared_from_this<EventSession> {
 public:
  EventSession(const CtxPtr& ctx, hub::User user, std::shared_ptr<WebSocketConnection> conn)
      : ctx_(ctx), user_(std::move(user)), conn_(std::move(conn)) {}

  void Start() {
    // "hello" goes first (frames queue until the handshake completes), then live events.
    Send("hello", {{"user", UserJson(user_)}});
    std::weak_ptr<EventSession> weak = weak_from_this();
    subscription_ = ctx_->hub().events().Subscribe([weak](const hub::HubEvent& e) {
      if (auto self = weak.lock()) self->Deliver(e);
    });
    auto self = shared_from_this();
    Status posted = ctx_->options.pool->Post([self] { self->SendSnapshot(); });
    if (!posted.ok()) conn_->Close();
  }

  // io thread.
  void OnMessage(const std::string& text) {
    nlohmann::json msg = nlohmann::json::parse(text, nullptr, false);
    if (!msg.is_object()) return Send("error", {{"message", "messages must be JSON objects"}});
    if (msg.contains("unsubscribe") && msg["unsubscribe"].is_string()) {
      std::lock_guard<std::mutex> lock(mu_);
      projects_.erase(msg["unsubscribe"].get<std::string>());
      return;
    }
    if (!msg.contains("subscribe") || !msg["subscribe"].is_string()) {
      return Send("error", {{"message", "expected {\"subscribe\": projectId}"}});
    }
    std::string project = msg["subscribe"].get<std::string>();
    auto self = shared_from_this();
    // The access check reads the database: not on the io thread.
    Status posted = ctx_->options.pool->Post([self, project] { self->Subscribe(project); });
    if (!posted.ok()) Send("error", {{"message", "server busy; subscribe again"}});
  }

  void OnClose() { ctx_->hub().events().Unsubscribe(subscription_); }

 private:
  void Subscribe(const std::string& project) {
    if (!ctx_->hub().projects().RoleOf(user_.id, project).ok()) {
      return Send("error", {{"message", "project not found"}, {"projectId", project}});
    }
    {
      std::lock_guard<std::mutex> lock(mu_);
      projects_.insert(project);
    }
    Send("subscribed", {{"projectId", project}});
    Result<hub::QueueCounts> q = ctx_->hub().queue().ProjectCounts(project);
    if (q.ok()) SendStats(project, *q);
  }

  void SendSnapshot() {
    Result<hub::ProjectPage> page = ctx_->hub().projects().List(user_.id, 1, 200);
    if (!page.ok()) return;
    for (const hub::Project& p : page->projects) {
      Result<hub::QueueCounts> q = ctx_->hub().queue().ProjectCounts(p.id);
      if (q.ok() && q->queued + q->processing > 0) SendStats(p.id, *q);
    }
  }

  void SendStats(const std::string& project, const hub::QueueCounts& q) {
    Send("queueStats", {{"projectId", project},
                        {"queued", q.queued},
                        {"processing", q.processing},
                        {"total", q.total()}});
  }

  void Deliver(const hub::HubEvent& e) {
    bool wanted = !e.user_id.empty() && e.user_id == user_.id;
    if (!wanted && !e.project_id.empty()) {
      std::lock_guard<std::mutex> lock(mu_);
      wanted = projects_.count(e.project_id) > 0;
    }
    if (wanted) Send(e.name, e.data);
  }

  void Send(const std::string& event, const nlohmann::json& data) {
    conn_->Send(nlohmann::json{{"event", event}, {"data", data}}.dump());
  }

  CtxPtr ctx_;
  const hub::User user_;
  std::shared_ptr<WebSocketConnection> conn_;
  int subscription_ = -1;
  std::mutex mu_;
  std::set<std::string> projects_;  // guarded by mu_
};

}  // namespace

Status RegisterEventSocket(const CtxPtr& ctx) {
  ctx->docs->Add("GET", "/api/ws",
                 {"WebSocket of live events (segmentation-update, queueStats, notification, "
                  "uploadProgress, export:*)",
                  "events",
                  "",
                  {"token"}});
  return ctx->router->AddWebSocket(
      "/api/ws",
      [ctx](const HttpRequest& request,
            std::shared_ptr<WebSocketConnection> conn) -> Result<WebSocketCallbacks> {
        Result<hub::User> user = Authenticate(ctx->hub(), request);
        if (!user.ok()) {
          std::optional<std::string> token = request.Query("token");
          if (!token) return user.status();
          user = ctx->hub().users().Authenticate(*token);
          if (!user.ok()) return user.status();
        }
        auto session = std::make_shared<EventSession>(ctx, std::move(user).value(), conn);
        session->Start();
        WebSocketCallbacks callbacks;
        callbacks.on_message = [session](std::string text) { session->OnMessage(text); };
        callbacks.on_close = [session] { session->OnClose(); };
        return callbacks;
      });
}

}  // namespace seghub::api::hubsvc
