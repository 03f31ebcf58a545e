#include "api/multipart.h"

#include <gtest/gtest.h>

#include <string>

namespace seghub::api {
namespace {

const char kType[] = "multipart/form-data; boundary=XyZ";

std::string Body() {
  std::string binary("\x89PNG\r\n\x1a\n\0\r\n--Xy", 16);  // contains CRLF and a near-boundary
  return "--XyZ\r\n"
         "Content-Disposition: form-data; name=\"model\"\r\n\r\n"
         "hrnet\r\n"
         "--XyZ\r\n"
         "Content-Disposition: form-data; name=\"file\"; filename=\"a;b.png\"\r\n"
         "Content-Type: image/png\r\n\r\n" +
         binary + "\r\n--XyZ--\r\n";
}

TEST(MultipartTest, ParsesFieldsAndBinaryFiles) {
  auto parts = ParseMultipart(kType, Body());
  ASSERT_TRUE(parts.ok()) << parts.status().ToString();
  ASSERT_EQ(parts->size(), 2u);
  EXPECT_EQ((*parts)[0].name, "model");
  EXPECT_EQ((*parts)[0].data, "hrnet");
  EXPECT_TRUE((*parts)[0].filename.empty());
  EXPECT_EQ((*parts)[1].name, "file");
  EXPECT_EQ((*parts)[1].filename, "a;b.png");
  EXPECT_EQ((*parts)[1].content_type, "image/png");
  EXPECT_EQ((*parts)[1].data.size(), 16u);
  EXPECT_EQ((*parts)[1].data[8], '\0');
  auto fields = FormFields(*parts);
  EXPECT_EQ(fields.size(), 1u);
  EXPECT_EQ(fields["model"], "hrnet");
}

TEST(MultipartTest, QuotedBoundaryAndCaseInsensitiveType) {
  auto parts = ParseMultipart("Multipart/Form-Data; charset=utf-8; boundary=\"XyZ\"", Body());
  ASSERT_TRUE(parts.ok()) << parts.status().ToString();
  EXPECT_EQ(parts->size(), 2u);
}

TEST(MultipartTest, RejectsMalformedBodiesWithMessages) {
  EXPECT_EQ(ParseMultipart("application/json", Body()).status().code(),
            StatusCode::kInvalidArgument);
  auto no_boundary = ParseMultipart("multipart/form-data", Body());
  EXPECT_NE(no_boundary.status().message().find("boundary"), std::string::npos);
  std::string truncated = Body().substr(0, Body().size() - 12);
  auto t = ParseMultipart(kType, truncated);
  EXPECT_EQ(t.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(t.status().message().find("truncated"), std::string::npos);
  EXPECT_FALSE(ParseMultipart(kType, "").ok());
  EXPECT_FALSE(ParseMultipart(kType, "--XyZ\r\nX-Other: 1\r\n\r\ndata\r\n--XyZ--").ok());
}

TEST(MultipartTest, EmptyFormIsEmpty) {
  auto parts = ParseMultipart(kType, "--XyZ--\r\n");
  ASSERT_TRUE(parts.ok());
  EXPECT_TRUE(parts->empty());
}

}  // namespace
}  // namespace seghub::api
