#include "api/cookies.h"

#include <gtest/gtest.h>

#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include "api/http_server.h"
#include "api/router.h"

namespace seghub::api {
namespace {

using Cookies = std::map<std::string, std::string>;

TEST(ParseCookiesTest, ParsesTrimsAndUnquotes) {
  EXPECT_EQ(ParseCookies("a=1; b=\"x y\";c=  3 ; d="),
            (Cookies{{"a", "1"}, {"b", "x y"}, {"c", "3"}, {"d", ""}}));
}

TEST(ParseCookiesTest, SkipsMalformedPairsAndKeepsTheFirstDuplicate) {
  EXPECT_EQ(ParseCookies("novalue; =x; bad name=1; ok=2; ok=3;;; @x=y"), (Cookies{{"ok", "2"}}));
  EXPECT_TRUE(ParseCookies("").empty());
  EXPECT_TRUE(ParseCookies(";;  ;").empty());
  EXPECT_EQ(ParseCookies("sid=abc=def"), (Cookies{{"sid", "abc=def"}}));  // '=' in the value
}

TEST(SetCookieValueTest, DefaultsAreSafe) {
  EXPECT_EQ(SetCookieValue("sid", "abc123"), "sid=abc123; Path=/; HttpOnly; SameSite=Lax");
}

TEST(SetCookieValueTest, AllOptions) {
  CookieOptions o;
  o.path = "/app";
  o.max_age_s = 3600;
  o.http_only = false;
  o.secure = true;
  o.same_site = "strict";
  EXPECT_EQ(SetCookieValue("t", "v", o), "t=v; Path=/app; Max-Age=3600; Secure; SameSite=Strict");
  o.same_site = "None";
  o.secure = false;
  o.max_age_s = -5;
  EXPECT_EQ(SetCookieValue("t", "v", o), "t=v; Path=/app; Max-Age=0; Secure; SameSite=None");
  o.same_site = "";
  EXPECT_EQ(SetCookieValue("t", "v", o), "t=v; Path=/app; Max-Age=0");
}

TEST(SetCookieValueTest, EscapesWhatCouldInjectAttributesOrLines) {
  std::string v = SetCookieValue("n a;", "x; Domain=evil\r\nSet-Cookie: y=\"1\",%");
  EXPECT_EQ(v.find_first_of("\r\n"), std::string::npos);
  EXPECT_EQ(v.substr(0, v.find("; Path")),
            "n%20a%3B=x%3B%20Domain=evil%0D%0ASet-Cookie:%20y=%221%22%2C%25");
  auto decoded = UrlDecode("x%3B%20Domain=evil%0D%0ASet-Cookie:%20y=%221%22%2C%25", false);
  ASSERT_TRUE(decoded.ok());
  EXPECT_EQ(*decoded, "x; Domain=evil\r\nSet-Cookie: y=\"1\",%");
  CookieOptions o;
  o.path = "/a;b\n";
  EXPECT_NE(SetCookieValue("a", "b", o).find("Path=/a%3Bb%0A"), std::string::npos);
}

TEST(ClearCookieValueTest, ExpiresAtOnce) {
  EXPECT_EQ(ClearCookieValue("sid"),
            "sid=; Path=/; Max-Age=0; Expires=Thu, 01 Jan 1970 00:00:00 GMT");
  EXPECT_EQ(ClearCookieValue("sid", "/x").substr(0, 15), "sid=; Path=/x; ");
}

TEST(SetCookieOnTheWireTest, EachCookieGetsItsOwnHeaderLine) {
  namespace beast = boost::beast;
  namespace http = beast::http;
  using tcp = boost::asio::ip::tcp;
  Router router;
  ASSERT_TRUE(router
                  .AddSync("GET", "/login",
                           [](const HttpRequest& req) {
                             HttpResponse res = HttpResponse::Json(
                                 200, {{"seen", ParseCookies(req.Header("Cookie"))}});
                             res.set_cookies.push_back(SetCookieValue("a", "1"));
                             res.set_cookies.push_back(SetCookieValue("b", "2, 3"));
                             res.set_cookies.push_back("bad=1\r\nX-Evil: 1");  // dropped
                             return res;
                           })
                  .ok());
  HttpServerOptions options;
  options.port = 0;
  auto server = HttpServer::Start(options, &router);
  ASSERT_TRUE(server.ok()) << server.status().ToString();

  boost::asio::io_context ioc;
  beast::tcp_stream stream(ioc);
  stream.connect(tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"), (*server)->port()));
  http::request<http::empty_body> req(http::verb::get, "/login", 11);
  req.set(http::field::host, "127.0.0.1");
  req.set(http::field::cookie, "x=1; y=\"two\"");
  http::write(stream, req);
  beast::flat_buffer buffer;
  http::response<http::string_body> res;
  http::read(stream, buffer, res);
  EXPECT_EQ(res.result_int(), 200);
  std::vector<std::string> cookies;
  for (auto [it, end] = res.equal_range(http::field::set_cookie); it != end; ++it) {
    cookies.emplace_back(it->value());
  }
  EXPECT_EQ(cookies, (std::vector<std::string>{"a=1; Path=/; HttpOnly; SameSite=Lax",
                                               "b=2%2C%203; Path=/; HttpOnly; SameSite=Lax"}));
  EXPECT_EQ(res.count("X-Evil"), 0u);
  auto body = nlohmann::json::parse(res.body());
  EXPECT_EQ(body["seen"]["y"], "two");
}

}  // namespace
}  // namespace seghub::api
