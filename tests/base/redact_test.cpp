#include "harness/base/redact.h"

#include <gtest/gtest.h>

namespace hb {
namespace {

TEST(RedactCredentials, PasswordsAndTokensInUrlsAreMasked) {
  EXPECT_EQ(redact_credentials("openai:http://user:secret@host:8000/v1"), "openai:http://user:***@host:8000/v1");
  EXPECT_EQ(redact_credentials("https://tok3n@api.example.com/v1"), "https://***@api.example.com/v1");
  EXPECT_EQ(redact_credentials("a http://u:p@h/v1,http://v:q%40r@k/v1 b"), "a http://u:***@h/v1,http://v:***@k/v1 b");
  EXPECT_EQ(redact_credentials(R"({"model":"openai:http://u:p4ss@h/v1"})"), R"({"model":"openai:http://u:***@h/v1"})");
  EXPECT_EQ(redact_credentials("http://u:@h/"), "http://u:***@h/");
}

TEST(RedactCredentials, TextWithoutCredentialsIsUnchanged) {
  for (const char* s : {"", "plain", "http://127.0.0.1:8000/v1", "mail me at a@b.c", "http://h/path@x", "://@", "http://",
                        "x://y", "http://h?q=a@b", "ftp://h:21/a:b@c"})
    EXPECT_EQ(redact_credentials(s), s) << s;
}

}  // namespace
}  // namespace hb
