#include "server/common/validation.h"

#include <string>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/time/time.h"
#include "ats/v1/job_service.pb.h"
#include "gtest/gtest.h"
#include "server/contract/errors.h"

namespace ats::server {
namespace {

using Ids = std::vector<std::string>;

// The one description `check` recorded, or "" when it recorded none.
template <typename Check>
std::string Violation(Check check) {
  Validator v;
  check(v);
  if (v.violations().empty()) return "";
  EXPECT_EQ(v.violations().size(), 1u);
  EXPECT_EQ(v.violations()[0].field, "f");
  return v.violations()[0].description;
}

TEST(ValidatorTest, CollectsEveryViolationInOrder) {
  Validator v;
  EXPECT_TRUE(v.ok());
  EXPECT_TRUE(v.status().ok());
  EXPECT_FALSE(v.Length("job.title", "", 1, 200));
  EXPECT_TRUE(v.Length("job.description", "fine", 0, 10000));
  EXPECT_FALSE(v.PageSize("page_size", -1));
  EXPECT_FALSE(v.ok());
  absl::Status status = v.status();
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(status.message(),
            "invalid request: job.title: must be 1 to 200 characters; "
            "page_size: must not be negative");
  EXPECT_EQ(FieldViolationsOf(status).size(), 2u);
}

TEST(ValidatorTest, Require) {
  Validator v;
  EXPECT_TRUE(v.Require(true, "a", "never"));
  EXPECT_FALSE(v.Require(false, "b", "must be set with c"));
  ASSERT_EQ(v.violations().size(), 1u);
  EXPECT_EQ(v.violations()[0].field, "b");
  EXPECT_EQ(v.violations()[0].description, "must be set with c");
}

TEST(LengthTest, CountsCodePointsNotBytes) {
  const std::string five_accented = "\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9";
  EXPECT_EQ(five_accented.size(), 10u);
  EXPECT_EQ(
      Violation([&](Validator& v) { v.Length("f", five_accented, 1, 5); }), "");
  EXPECT_EQ(
      Violation([&](Validator& v) { v.Length("f", five_accented, 1, 4); }),
      "must be 1 to 4 characters");
  // One emoji (4 bytes), one CJK character (3 bytes).
  EXPECT_EQ(Violation([](Validator& v) {
              v.Length("f", "\xF0\x9F\x98\x80\xE6\x97\xA5", 2, 2);
            }),
            "");
}

TEST(LengthTest, RangeMessages) {
  EXPECT_EQ(Violation([](Validator& v) { v.Length("f", "abc", 0, 2); }),
            "must be at most 2 characters");
  EXPECT_EQ(Violation([](Validator& v) { v.Length("f", "abc", 4, 4); }),
            "must be exactly 4 characters");
  EXPECT_EQ(Violation([](Validator& v) { v.Length("f", "", 0, 2); }), "");
}

TEST(LengthTest, RejectsInvalidUtf8) {
  for (std::string bad : {
           std::string("\xC3"),              // truncated
           std::string("\xC3\x28"),          // bad continuation
           std::string("\x80"),              // lone continuation
           std::string("\xC0\xAF"),          // overlong '/'
           std::string("\xE0\x80\xAF"),      // overlong
           std::string("\xED\xA0\x80"),      // surrogate U+D800
           std::string("\xF4\x90\x80\x80"),  // past U+10FFFF
           std::string("\xFF"),
           std::string("ok\xF0\x9F\x98"),  // truncated at the end
       }) {
    EXPECT_EQ(Violation([&](Validator& v) { v.Length("f", bad, 0, 100); }),
              "must be valid UTF-8")
        << absl::CEscape(bad);
  }
}

TEST(LengthTest, ControlCharacters) {
  const std::string nul("a\0b", 3);
  for (std::string text :
       {std::string("a\nb"), std::string("a\tb"), std::string("a\rb"), nul,
        std::string("\x7f"), std::string("\xC2\x85")}) {  // U+0085 NEL
    EXPECT_NE(Violation([&](Validator& v) { v.Length("f", text, 0, 100); }), "")
        << absl::CEscape(text);
  }
  EXPECT_EQ(Violation([](Validator& v) {
              v.MultilineLength("f", "line one\n\tline two", 0, 100);
            }),
            "");
  EXPECT_EQ(
      Violation([](Validator& v) { v.MultilineLength("f", "bell\a", 0, 100); }),
      "must not contain control characters other than newline and tab");
  EXPECT_EQ(Violation([&](Validator& v) { v.MultilineLength("f", nul, 0, 9); }),
            "must not contain control characters other than newline and tab");
}

TEST(PageSizeTest, NegativeRejectedLargeClamped) {
  EXPECT_EQ(Violation([](Validator& v) { v.PageSize("f", -5); }),
            "must not be negative");
  EXPECT_EQ(Violation([](Validator& v) { v.PageSize("f", 0); }), "");
  EXPECT_EQ(Violation([](Validator& v) { v.PageSize("f", 5000); }), "");
  EXPECT_EQ(ClampPageSize(0), 50);
  EXPECT_EQ(ClampPageSize(-3), 50);
  EXPECT_EQ(ClampPageSize(1), 1);
  EXPECT_EQ(ClampPageSize(1000), 1000);
  EXPECT_EQ(ClampPageSize(1001), 1000);
  EXPECT_EQ(ClampPageSize(INT32_MAX), 1000);
}

TEST(UriTest, Accepted) {
  for (const char* uri :
       {"https://partner.example.com/hooks", "http://localhost:8080",
        "HTTPS://Example.COM/a?b=c&d=%20#frag", "http://127.0.0.1:1/x",
        "https://[::1]:8443/hook", "http://a", "https://host/path/(x)"}) {
    EXPECT_EQ(Violation([&](Validator& v) { v.Uri("f", uri, true); }), "")
        << uri;
  }
  EXPECT_EQ(Violation([](Validator& v) { v.Uri("f", "", false); }), "");
}

TEST(UriTest, Rejected) {
  for (const char* uri : {"partner.example.com/hooks",
                          "ftp://example.com",
                          "https://",
                          "https:///path",
                          "http://:80/",
                          "https://host:/x",
                          "https://host:0",
                          "https://host:65536",
                          "https://host:http",
                          "https://[::1/x",
                          "https://[]/",
                          "https://[zz]/",
                          "mailto:a@b.c",
                          "//example.com/x",
                          "https://exa mple.com",
                          "https://example.com/a b",
                          "https://example.com/\n",
                          "https://ex\xC3\xA9.com",
                          "https://example.com/<script>",
                          "https://user:pw@example.com/"}) {
    EXPECT_NE(Violation([&](Validator& v) { v.Uri("f", uri, true); }), "")
        << uri;
  }
  EXPECT_EQ(Violation([](Validator& v) { v.Uri("f", "", true); }),
            "is required: an absolute http:// or https:// URL with a host, "
            "e.g. https://partner.example.com/hooks");
  EXPECT_EQ(
      Violation([](Validator& v) { v.Uri("f", "https://a@b.com", true); }),
      "must not contain user:password@ credentials; calls are authenticated "
      "by their webhook signature");
}

TEST(UriTest, LengthLimit) {
  const std::string base = "https://example.com/";
  const std::string at_limit = base + std::string(2048 - base.size(), 'a');
  EXPECT_EQ(Violation([&](Validator& v) { v.Uri("f", at_limit, true); }), "");
  EXPECT_EQ(Violation([&](Validator& v) { v.Uri("f", at_limit + "a", true); }),
            "must be at most 2048 characters");
}

class DestinationRefusedTest : public ::testing::TestWithParam<const char*> {
};

// Every spelling a resolver or curl reads as a loopback, private, link-local
// or unspecified address is refused on save, naming the address it is.
TEST_P(DestinationRefusedTest, RefusedNamingTheAddress) {
  const char* const uri = GetParam();
  const std::string description = Violation([uri](Validator& v) {
    EXPECT_FALSE(v.Destination("f", uri, DestinationPolicy()));
  });
  EXPECT_NE(description.find("must not point at "), std::string::npos)
      << description;
  EXPECT_NE(description.find("--allowed_destination_networks"),
            std::string::npos)
      << description;
}

INSTANTIATE_TEST_SUITE_P(
    Spellings, DestinationRefusedTest,
    ::testing::Values(
        "http://127.0.0.1/hook", "https://127.0.0.1:8443/hook",
        "http://127.1/", "http://2130706433/", "http://0x7f000001/",
        "http://0X7F000001:80/x", "http://0177.0.0.1/", "http://0x7f.1/",
        "http://017700000001/", "http://127.0.0.1./", "http://0/",
        "http://0.0.0.0/", "http://[::1]/", "http://[::]/",
        "http://[::ffff:127.0.0.1]/", "http://[::ffff:7f00:1]/",
        "http://[0:0:0:0:0:ffff:7f00:1]/", "http://%31%32%37.0.0.1/",
        "http://10.0.0.1/", "http://172.16.5.4/", "http://192.168.0.1/",
        "http://169.254.169.254/latest/meta-data/", "http://100.64.0.1/",
        "http://224.0.0.1/", "http://255.255.255.255/", "http://240.0.0.1/",
        "http://192.0.2.1/", "http://198.18.0.1/", "http://[fc00::1]/",
        "http://[fe80::1]/", "http://[ff02::1]/", "http://[2001:db8::1]/",
        "http://[64:ff9b::a9fe:a9fe]/", "http://[2002:7f00:1::]/"));

TEST(DestinationTest, MessageShowsTheSpellingAndTheAddress) {
  EXPECT_EQ(
      Violation([](Validator& v) {
        v.Destination("f", "http://2130706433/hook", DestinationPolicy());
      }),
      "must not point at 127.0.0.1 (written \"2130706433\"), which is "
      "loopback (127.0.0.0/8): webhooks go to public addresses only, unless "
      "the server's --allowed_destination_networks opens the range");
  EXPECT_EQ(
      Violation([](Validator& v) {
        v.Destination("f", "http://10.0.0.1/", DestinationPolicy());
      }),
      "must not point at 10.0.0.1, which is private-use (10.0.0.0/8): "
      "webhooks go to public addresses only, unless the server's "
      "--allowed_destination_networks opens the range");
}

TEST(DestinationTest, PublicAddressesAndHostNamesPass) {
  // Names are not resolved on save: they are checked on connect.
  for (const char* uri :
       {"https://partner.example.com/hooks", "http://localhost:8080/",
        "https://8.8.8.8/", "https://134744072/", "https://[2606:4700::1]/",
        "https://[::ffff:8.8.8.8]/", "https://%70artner.example/x"}) {
    EXPECT_EQ(Violation([&](Validator& v) {
                EXPECT_TRUE(v.Destination("f", uri, DestinationPolicy()));
              }),
              "")
        << uri;
  }
}

TEST(DestinationTest, AllowedNetworksOpenLiterals) {
  const DestinationPolicy loopback =
      *DestinationPolicy::Parse("127.0.0.0/8,::1/128");
  for (const char* uri : {"http://127.0.0.1:8090/webhooks", "http://127.1/",
                          "http://2130706433/", "http://[::1]:80/",
                          "http://[::ffff:127.0.0.1]/"}) {
    EXPECT_EQ(Violation([&](Validator& v) {
                EXPECT_TRUE(v.Destination("f", uri, loopback));
              }),
              "")
        << uri;
  }
  EXPECT_NE(Violation([&](Validator& v) {
              v.Destination("f", "http://10.0.0.1/", loopback);
            }),
            "");
}

TEST(DestinationTest, IsAUriFirst) {
  EXPECT_EQ(Violation([](Validator& v) {
              v.Destination("f", "", DestinationPolicy());
            }),
            "is required: an absolute http:// or https:// URL with a host, "
            "e.g. https://partner.example.com/hooks");
  EXPECT_EQ(Violation([](Validator& v) {
              v.Destination("f", "http://%7/", DestinationPolicy());
            }),
            "must have a host without malformed %-escapes");
  EXPECT_EQ(Violation([](Validator& v) {
              v.Destination("f", "http://%2F%2F/", DestinationPolicy());
            }),
            "must have a host without malformed %-escapes");
}

TEST(RequestIdTest, Forms) {
  for (const char* ok : {"", "123e4567-e89b-12d3-a456-426614174000",
                         "01ARZ3NDEKTSV4RRFFQ69G5FAV", "job:create.1_x"}) {
    EXPECT_EQ(Violation([&](Validator& v) { v.RequestId("f", ok); }), "") << ok;
  }
  for (std::string bad : {std::string("has space"), std::string("a/b"),
                          std::string(65, 'a'), std::string("\xC3\xA9")}) {
    EXPECT_NE(Violation([&](Validator& v) { v.RequestId("f", bad); }), "");
  }
  EXPECT_EQ(
      Violation([](Validator& v) { v.RequestId("f", std::string(64, 'a')); }),
      "");
}

TEST(TagTest, Forms) {
  for (std::string ok :
       {std::string("vip"), std::string("source:linkedin"),
        std::string("a.b_c-d"), std::string(64, 'z'), std::string("9")}) {
    EXPECT_EQ(Violation([&](Validator& v) { v.Tag("f", ok); }), "") << ok;
  }
  for (std::string bad :
       {std::string(""), std::string("VIP"), std::string("a b"),
        std::string(65, 'z'), std::string("a/b")}) {
    EXPECT_EQ(Violation([&](Validator& v) { v.Tag("f", bad); }),
              "must be 1 to 64 characters of lower-case letters, digits, "
              "'-', '_', ':' and '.'")
        << bad;
  }
}

TEST(KeyTest, Forms) {
  for (std::string ok : {std::string("test_id"), std::string("a"),
                         std::string("a1_b2"), std::string(64, 'k')}) {
    EXPECT_EQ(Violation([&](Validator& v) { v.Key("f", ok); }), "") << ok;
  }
  for (std::string bad :
       {std::string(""), std::string("1abc"), std::string("_abc"),
        std::string("Abc"), std::string("a-b"), std::string(65, 'k')}) {
    EXPECT_NE(Violation([&](Validator& v) { v.Key("f", bad); }), "") << bad;
  }
}

TEST(EmailTest, Forms) {
  for (const char* ok :
       {"jane@example.com", "j.doe+ats@mail.example.co.uk", "x@a.b",
        "\xC3\xA9l\xC3\xA8ve@\xC3\xA9"
        "cole.fr"}) {
    EXPECT_EQ(Violation([&](Validator& v) { v.Email("f", ok, true); }), "")
        << ok;
  }
  for (const char* bad :
       {"jane", "@example.com", "jane@", "jane@localhost", "jane@@example.com",
        "jane@ex@ample.com", "jane doe@example.com", "jane@.example.com",
        "jane@example.com.", "jane@example.com\n", "\xC3@example.com"}) {
    EXPECT_NE(Violation([&](Validator& v) { v.Email("f", bad, true); }), "")
        << bad;
  }
  EXPECT_EQ(Violation([](Validator& v) { v.Email("f", "", false); }), "");
  EXPECT_EQ(Violation([](Validator& v) { v.Email("f", "", true); }),
            "is required: an email address like name@example.com");
  const std::string long_email = std::string(250, 'a') + "@b.co";
  EXPECT_EQ(Violation([&](Validator& v) { v.Email("f", long_email, true); }),
            "must be at most 254 characters");
}

TEST(PhoneTest, Forms) {
  for (const char* ok : {"", "+1 (555) 010-9999", "555.0100", "0"}) {
    EXPECT_EQ(Violation([&](Validator& v) { v.Phone("f", ok); }), "") << ok;
  }
  for (std::string bad : {std::string("call me"), std::string("+()"),
                          std::string(33, '1'), std::string("555#1")}) {
    EXPECT_NE(Violation([&](Validator& v) { v.Phone("f", bad); }), "") << bad;
  }
}

TEST(EnumValueTest, KnownUnknownAndUnspecified) {
  auto check = [](int value, bool allow_unspecified) {
    return Violation([&](Validator& v) {
      v.EnumValue<ats::v1::JobState>("f", value, ats::v1::JobState_IsValid,
                                     allow_unspecified);
    });
  };
  EXPECT_EQ(check(ats::v1::JOB_STATE_OPEN, false), "");
  EXPECT_EQ(check(0, true), "");
  EXPECT_EQ(check(0, false),
            "is required: one of JOB_STATE_DRAFT, JOB_STATE_OPEN, "
            "JOB_STATE_CLOSED, JOB_STATE_ARCHIVED");
  EXPECT_EQ(check(99, false),
            "has unknown value 99; must be one of JOB_STATE_DRAFT, "
            "JOB_STATE_OPEN, JOB_STATE_CLOSED, JOB_STATE_ARCHIVED");
  EXPECT_EQ(check(-1, true),
            "has unknown value -1; must be one of JOB_STATE_UNSPECIFIED, "
            "JOB_STATE_DRAFT, JOB_STATE_OPEN, JOB_STATE_CLOSED, "
            "JOB_STATE_ARCHIVED");
}

google::protobuf::Duration MakeDuration(int64_t seconds, int32_t nanos) {
  google::protobuf::Duration d;
  d.set_seconds(seconds);
  d.set_nanos(nanos);
  return d;
}

TEST(DurationTest, Forms) {
  const absl::Duration max = absl::Hours(24 * 30);
  auto check = [&](int64_t seconds, int32_t nanos) {
    return Violation([&](Validator& v) {
      v.Duration("f", MakeDuration(seconds, nanos), max);
    });
  };
  EXPECT_EQ(check(0, 0), "");
  EXPECT_EQ(check(3600, 500), "");
  EXPECT_EQ(check(30 * 86400, 0), "");
  EXPECT_EQ(check(30 * 86400, 1), "must be at most 720h");
  EXPECT_EQ(check(-1, 0), "must not be negative");
  EXPECT_EQ(check(0, -1), "must not be negative");
  const std::string not_normalized =
      "must be a normalized duration: seconds and nanos of the same sign, "
      "nanos below one second";
  EXPECT_EQ(check(1, -1), not_normalized);
  EXPECT_EQ(check(-1, 1), not_normalized);
  EXPECT_EQ(check(0, 1'000'000'000), not_normalized);
  EXPECT_EQ(check(INT64_MAX, 0), not_normalized);
}

TEST(UpdateMaskTest, Forms) {
  google::protobuf::FieldMask mask;
  EXPECT_EQ(Violation([&](Validator& v) {
              v.UpdateMask("f", mask, {"title", "description", "state"});
            }),
            "is required: list the fields to change, among: title, "
            "description, state");
  mask.add_paths("title");
  mask.add_paths("state");
  EXPECT_EQ(Violation([&](Validator& v) {
              v.UpdateMask("f", mask, {"title", "description", "state"});
            }),
            "");
  mask.add_paths("etag");
  EXPECT_EQ(Violation([&](Validator& v) {
              v.UpdateMask("f", mask, {"title", "description", "state"});
            }),
            "has unknown or read-only path \"etag\"; allowed paths: title, "
            "description, state");
}

TEST(UpdateMaskTest, EveryUnknownPathReported) {
  google::protobuf::FieldMask mask;
  mask.add_paths("name");
  mask.add_paths("title");
  mask.add_paths("create_time");
  Validator v;
  EXPECT_FALSE(v.UpdateMask("update_mask", mask, {"title"}));
  EXPECT_EQ(v.violations().size(), 2u);
}

TEST(ResourceNameTest, Parse) {
  Ids ids;
  EXPECT_TRUE(ParseResourceName("jobs/abc/stages/x-1",
                                "jobs/{job}/stages/{stage}", &ids));
  EXPECT_EQ(ids, (Ids{"abc", "x-1"}));
  EXPECT_TRUE(ParseResourceName("jobs/abc", "jobs/{}", &ids));
  EXPECT_EQ(ids, (Ids{"abc"}));
  EXPECT_TRUE(ParseResourceName("jobs/abc", "jobs/{}", nullptr));
  EXPECT_TRUE(
      ParseResourceName("jobs/" + std::string(64, 'a'), "jobs/{}", &ids));
}

TEST(ResourceNameTest, Mismatches) {
  const char* pattern = "jobs/{job}/stages/{stage}";
  for (std::string bad :
       {std::string(""), std::string("jobs/abc"),       // too short
        std::string("jobs/abc/stages/def/triggers/x"),  // extra segments
        std::string("jobs/abc/stages/def/"),            // trailing slash
        std::string("/jobs/abc/stages/def"),            // leading slash
        std::string("jobs//stages/def"),                // empty id
        std::string("jobs/abc/stages/"),                // empty id at end
        std::string("candidates/abc/stages/def"),       // wrong collection
        std::string("jobs/abc/stage/def"),              // wrong collection
        std::string("jobs/ABC/stages/def"),             // upper case id
        std::string("jobs/a_c/stages/def"),             // bad id character
        std::string("jobs/abc/stages/") + std::string(65, 'a')}) {
    Ids ids = {"stale"};
    EXPECT_FALSE(ParseResourceName(bad, pattern, &ids)) << bad;
    EXPECT_TRUE(ids.empty()) << bad;
  }
}

TEST(ResourceNameTest, ValidatorMessages) {
  Ids ids;
  EXPECT_EQ(Violation([&](Validator& v) {
              v.Name("f", "jobs/a/stages/b", "jobs/{job}/stages/{stage}", &ids);
            }),
            "");
  EXPECT_EQ(ids, (Ids{"a", "b"}));
  EXPECT_EQ(Violation([&](Validator& v) {
              v.Name("f", "jobs/a", "jobs/{job}/stages/{stage}", &ids);
            }),
            "must be a resource name of the form jobs/{job}/stages/{stage}, "
            "each id 1 to 64 characters of [a-z0-9-]");
  EXPECT_EQ(
      Violation([&](Validator& v) { v.Name("f", "x", "apiKeys/{}", &ids); }),
      "must be a resource name of the form apiKeys/{api_key}, each id 1 "
      "to 64 characters of [a-z0-9-]");
  EXPECT_EQ(Violation([&](Validator& v) {
              v.Name("f", "", "jobTemplates/{}/stages/{}", &ids);
            }),
            "is required: a resource name of the form "
            "jobTemplates/{job_template}/stages/{stage}");
  ids = {"stale"};
  EXPECT_EQ(Violation([&](Validator& v) {
              v.Name("f", "", "jobs/{job}", &ids, /*required=*/false);
            }),
            "");
  EXPECT_TRUE(ids.empty());
}

TEST(ResourceNameTest, Format) {
  EXPECT_EQ(FormatName("jobs/{job}/stages/{stage}", {"a", "b"}),
            "jobs/a/stages/b");
  EXPECT_EQ(FormatName("jobs/{}", {"x"}), "jobs/x");
  // Missing ids format as empty, extra ones are ignored.
  EXPECT_EQ(FormatName("jobs/{job}/stages/{stage}", {"a"}), "jobs/a/stages/");
  EXPECT_EQ(FormatName("jobs/{job}", {"a", "b"}), "jobs/a");
  EXPECT_EQ(FormatName("partners", {}), "partners");
  EXPECT_EQ(FormatName("{x}", {"only"}), "only");
  Ids ids;
  const std::string name = FormatName("jobs/{}/stages/{}", {"a1", "b2"});
  EXPECT_TRUE(ParseResourceName(name, "jobs/{}/stages/{}", &ids));
  EXPECT_EQ(ids, (Ids{"a1", "b2"}));
}

}  // namespace
}  // namespace ats::server
