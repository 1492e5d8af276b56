// The destination policy (server/common/destination_guard.h): how hosts are read
// as addresses, which addresses are special-purpose, and how the operator's
// allowed networks open them. Pure functions: nothing here connects.

#include "server/common/destination_guard.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <optional>
#include <string>

#include "gtest/gtest.h"

namespace ats::server {
namespace {

// A host as written, and the address a resolver takes it for.
struct Spelling {
  std::string host;
  std::string address;
};

void PrintTo(const Spelling& s, std::ostream* os) { *os << s.host; }

class LiteralSpellingTest : public ::testing::TestWithParam<Spelling> {};

TEST_P(LiteralSpellingTest, ReadAsTheResolverReadsIt) {
  const std::optional<IpAddress> address = ParseIpLiteral(GetParam().host);
  ASSERT_TRUE(address.has_value());
  EXPECT_EQ(address->ToString(), GetParam().address);
}

INSTANTIATE_TEST_SUITE_P(
    Ipv4AndIpv6, LiteralSpellingTest,
    ::testing::Values(
        Spelling{"127.0.0.1", "127.0.0.1"}, Spelling{"127.1", "127.0.0.1"},
        Spelling{"127.0.1", "127.0.0.1"}, Spelling{"2130706433", "127.0.0.1"},
        Spelling{"0x7f000001", "127.0.0.1"},
        Spelling{"0X7F000001", "127.0.0.1"}, Spelling{"0x7f.1", "127.0.0.1"},
        Spelling{"0177.0.0.1", "127.0.0.1"},
        Spelling{"017700000001", "127.0.0.1"},
        Spelling{"0x7f.0.0.0x1", "127.0.0.1"},
        Spelling{"127.0.0.1.", "127.0.0.1"}, Spelling{"0", "0.0.0.0"},
        Spelling{"0.0.0.0", "0.0.0.0"},
        Spelling{"00000000000000127.0.0.1", "87.0.0.1"},
        Spelling{"10.1", "10.0.0.1"}, Spelling{"167772161", "10.0.0.1"},
        Spelling{"169.254.43518", "169.254.169.254"},
        Spelling{"::1", "::1"}, Spelling{"0:0:0:0:0:0:0:1", "::1"},
        Spelling{"::ffff:127.0.0.1", "::ffff:127.0.0.1"},
        Spelling{"::ffff:7f00:1", "::ffff:127.0.0.1"},
        Spelling{"0:0:0:0:0:FFFF:7F00:0001", "::ffff:127.0.0.1"},
        Spelling{"2001:DB8::1", "2001:db8::1"}));

TEST(ParseIpLiteralTest, HostNamesAndInvalidAddressesAreNoLiterals) {
  for (const char* host :
       {"localhost", "partner.example.com", "0x", "08", "1.0x", "1.2.3.4.5",
        "256.0.0.1", "1.256.0.1", "1.2.65536", "0x100000000", "4294967296",
        "127..1", ".1", "", "1e3", "a::z", "deadbeef", "[::1]"}) {
    EXPECT_FALSE(ParseIpLiteral(host).has_value()) << host;
  }
}

// An address and the purpose its refusal names.
struct Special {
  std::string address;
  std::string purpose;
};

void PrintTo(const Special& s, std::ostream* os) { *os << s.address; }

class SpecialPurposeTest : public ::testing::TestWithParam<Special> {};

TEST_P(SpecialPurposeTest, IsRefusedNamingItsBlock) {
  const std::optional<IpAddress> address = ParseIpLiteral(GetParam().address);
  ASSERT_TRUE(address.has_value());
  const std::optional<std::string> why = SpecialPurpose(*address);
  ASSERT_TRUE(why.has_value());
  EXPECT_NE(why->find(GetParam().purpose), std::string::npos) << *why;
  EXPECT_EQ(DestinationPolicy().WhyRefused(*address), why);
}

INSTANTIATE_TEST_SUITE_P(
    Ipv4, SpecialPurposeTest,
    ::testing::Values(
        Special{"0.0.0.0", "unspecified (0.0.0.0/8)"},
        Special{"0.1.2.3", "0.0.0.0/8"},
        Special{"10.0.0.1", "private-use (10.0.0.0/8)"},
        Special{"10.255.255.255", "10.0.0.0/8"},
        Special{"100.64.0.1", "carrier-grade NAT"},
        Special{"100.127.255.255", "100.64.0.0/10"},
        Special{"127.0.0.1", "loopback (127.0.0.0/8)"},
        Special{"127.255.255.254", "loopback"},
        Special{"169.254.169.254", "link-local (169.254.0.0/16)"},
        Special{"172.16.0.1", "private-use (172.16.0.0/12)"},
        Special{"172.31.255.255", "172.16.0.0/12"},
        Special{"192.0.0.8", "192.0.0.0/24"},
        Special{"192.0.2.1", "TEST-NET-1"},
        Special{"192.88.99.1", "6to4 relay"},
        Special{"192.168.1.1", "private-use (192.168.0.0/16)"},
        Special{"198.18.0.1", "benchmarking"},
        Special{"198.19.255.255", "198.18.0.0/15"},
        Special{"198.51.100.7", "TEST-NET-2"},
        Special{"203.0.113.9", "TEST-NET-3"},
        Special{"224.0.0.1", "multicast"},
        Special{"239.255.255.250", "multicast (224.0.0.0/4)"},
        Special{"240.0.0.1", "reserved (240.0.0.0/4)"},
        Special{"255.255.255.255", "limited broadcast"}));

INSTANTIATE_TEST_SUITE_P(
    Ipv6, SpecialPurposeTest,
    ::testing::Values(
        Special{"::", "unspecified (::/128)"},
        Special{"::1", "loopback (::1/128)"},
        Special{"::ffff:127.0.0.1", "loopback (127.0.0.0/8)"},
        Special{"::ffff:7f00:1", "loopback (127.0.0.0/8)"},
        Special{"::ffff:10.0.0.1", "private-use"},
        Special{"::ffff:169.254.169.254", "link-local"},
        Special{"::ffff:0.0.0.0", "unspecified"},
        Special{"64:ff9b::7f00:1", "NAT64 of 127.0.0.1: loopback"},
        Special{"64:ff9b::a9fe:a9fe", "NAT64 of 169.254.169.254: link-local"},
        Special{"2002:7f00:1::1", "6to4 of 127.0.0.1: loopback"},
        Special{"2002:a00:1::", "6to4 of 10.0.0.1: private-use"},
        Special{"64:ff9b:1::1", "local-use NAT64"},
        Special{"100::1", "discard-only"},
        Special{"2001::1", "2001::/23"},
        Special{"2001:2::1", "2001::/23"},
        Special{"2001:db8::1", "documentation (2001:db8::/32)"},
        Special{"3fff::1", "documentation (3fff::/20)"},
        Special{"fc00::1", "unique local"},
        Special{"fd12:3456::1", "fc00::/7"},
        Special{"fe80::1", "link-local (fe80::/10)"},
        Special{"febf::1", "fe80::/10"},
        Special{"fec0::1", "site-local"},
        Special{"ff02::1", "multicast (ff00::/8)"},
        Special{"::127.0.0.1", "outside global unicast"},
        Special{"::2", "outside global unicast"},
        Special{"4000::1", "outside global unicast"},
        Special{"5f00::1", "outside global unicast"}));

TEST(SpecialPurposeTest, PublicUnicastAddressesPass) {
  for (const char* host :
       {"8.8.8.8", "1.1.1.1", "93.184.216.34", "9.255.255.255", "11.0.0.1",
        "100.63.255.255", "100.128.0.1", "172.15.255.255", "172.32.0.1",
        "192.0.1.1", "192.0.3.1", "192.31.196.1", "192.167.255.255",
        "192.169.0.1", "198.17.255.255", "198.20.0.1", "223.255.255.255",
        "134744072", "0x08080808", "2606:4700:4700::1111", "2a00:1450::1",
        "2001:200::1", "2003::1", "3ffe::1", "::ffff:8.8.8.8",
        "64:ff9b::808:808", "2002:808:808::1"}) {
    const std::optional<IpAddress> address = ParseIpLiteral(host);
    ASSERT_TRUE(address.has_value()) << host;
    EXPECT_EQ(SpecialPurpose(*address), std::nullopt) << host;
  }
}

TEST(IpAddressTest, FromSockaddr) {
  sockaddr_in in = {};
  in.sin_family = AF_INET;
  in.sin_addr.s_addr = htonl(0x0a000001);
  std::optional<IpAddress> v4 = IpAddress::FromSockaddr(
      reinterpret_cast<const sockaddr*>(&in), sizeof(in));
  ASSERT_TRUE(v4.has_value());
  EXPECT_TRUE(v4->is_v4());
  EXPECT_EQ(v4->v4_bits(), 0x0a000001u);
  EXPECT_EQ(v4->ToString(), "10.0.0.1");

  sockaddr_in6 in6 = {};
  in6.sin6_family = AF_INET6;
  ASSERT_EQ(inet_pton(AF_INET6, "::ffff:127.0.0.1", &in6.sin6_addr), 1);
  std::optional<IpAddress> v6 = IpAddress::FromSockaddr(
      reinterpret_cast<const sockaddr*>(&in6), sizeof(in6));
  ASSERT_TRUE(v6.has_value());
  EXPECT_FALSE(v6->is_v4());
  EXPECT_EQ(v6->Unmapped(), IpAddress::V4(0x7f000001));

  EXPECT_FALSE(IpAddress::FromSockaddr(reinterpret_cast<const sockaddr*>(&in),
                                       sizeof(in) - 1)
                   .has_value());
  in.sin_family = AF_UNIX;
  EXPECT_FALSE(IpAddress::FromSockaddr(reinterpret_cast<const sockaddr*>(&in),
                                       sizeof(in))
                   .has_value());
  EXPECT_FALSE(IpAddress::FromSockaddr(nullptr, 0).has_value());
}

TEST(ParseIpNetworkTest, Valid) {
  for (const char* text :
       {"127.0.0.0/8", "::1/128", "10.0.0.0/8", "0.0.0.0/0", "::/0",
        "fc00::/7", "192.168.1.7/32", "2001:db8::/32"}) {
    absl::StatusOr<IpNetwork> network = ParseIpNetwork(text);
    ASSERT_TRUE(network.ok()) << text << ": " << network.status();
    EXPECT_EQ(network->ToString(), text);
  }
}

TEST(ParseIpNetworkTest, InvalidSaysWhy) {
  const std::pair<const char*, const char*> cases[] = {
      {"127.0.0.1", "is not a CIDR block"},
      {"", "is not a CIDR block"},
      {"127.1/8", "not a dotted-decimal IPv4 address"},
      {"0x7f000000/8", "not a dotted-decimal IPv4 address"},
      {"localhost/8", "not a dotted-decimal IPv4 address"},
      {"::g/64", "not an IPv6 address"},
      {"10.0.0.0/33", "prefix length must be 0 to 32"},
      {"::/129", "prefix length must be 0 to 128"},
      {"10.0.0.0/", "prefix length"},
      {"10.0.0.0/-1", "prefix length"},
      {"10.0.0.0/8/8", "prefix length"},
      {"10.0.0.0/+8", "prefix length"},
      {"10.0.0.1/8", "did you mean 10.0.0.0/8?"},
      {"fc00::1/7", "did you mean fc00::/7?"},
      {"127.0.0.1/31", "did you mean 127.0.0.0/31?"},
  };
  for (const auto& [text, message] : cases) {
    absl::StatusOr<IpNetwork> network = ParseIpNetwork(text);
    ASSERT_FALSE(network.ok()) << text;
    EXPECT_EQ(network.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_NE(network.status().message().find(message), std::string::npos)
        << text << ": " << network.status();
  }
}

TEST(IpNetworkTest, ContainsOnlyItsOwnFamily) {
  const IpNetwork loopback4 = *ParseIpNetwork("127.0.0.0/8");
  EXPECT_TRUE(loopback4.Contains(*ParseIpLiteral("127.255.0.1")));
  EXPECT_FALSE(loopback4.Contains(*ParseIpLiteral("128.0.0.1")));
  // The mapped form is unmapped by the policy, not by the block.
  EXPECT_FALSE(loopback4.Contains(*ParseIpLiteral("::ffff:127.0.0.1")));
  const IpNetwork everything6 = *ParseIpNetwork("::/0");
  EXPECT_FALSE(everything6.Contains(*ParseIpLiteral("8.8.8.8")));
  EXPECT_TRUE(everything6.Contains(*ParseIpLiteral("::1")));
}

TEST(DestinationPolicyTest, AllowedNetworksOpenExactlyTheirAddresses) {
  absl::StatusOr<DestinationPolicy> policy =
      DestinationPolicy::Parse(" 127.0.0.0/8 , ::1/128,10.1.0.0/16 ");
  ASSERT_TRUE(policy.ok()) << policy.status();
  EXPECT_EQ(policy->allowed().size(), 3u);
  for (const char* open : {"127.0.0.1", "127.1", "2130706433", "127.9.9.9",
                           "::1", "::ffff:127.0.0.1", "::ffff:7f00:1",
                           "10.1.2.3", "8.8.8.8"}) {
    EXPECT_EQ(policy->WhyRefused(*ParseIpLiteral(open)), std::nullopt)
        << open;
  }
  for (const char* closed : {"10.0.0.1", "10.2.0.1", "0.0.0.0", "::",
                             "169.254.169.254", "192.168.0.1", "fe80::1",
                             "64:ff9b::7f00:1", "2002:7f00:1::1"}) {
    EXPECT_NE(policy->WhyRefused(*ParseIpLiteral(closed)), std::nullopt)
        << closed;
  }
}

TEST(DestinationPolicyTest, EmptyOpensNothing) {
  for (const char* text : {"", " ", ",", " , "}) {
    absl::StatusOr<DestinationPolicy> policy = DestinationPolicy::Parse(text);
    ASSERT_TRUE(policy.ok()) << text;
    EXPECT_TRUE(policy->allowed().empty());
    EXPECT_NE(policy->WhyRefused(*ParseIpLiteral("127.0.0.1")), std::nullopt);
  }
}

TEST(DestinationPolicyTest, ParseNamesTheBadEntry) {
  absl::StatusOr<DestinationPolicy> policy =
      DestinationPolicy::Parse("127.0.0.0/8,10.0.0.1/8,::1/128");
  ASSERT_FALSE(policy.ok());
  EXPECT_EQ(policy.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(policy.status().message().find("\"10.0.0.1/8\""),
            std::string::npos)
      << policy.status();
  EXPECT_FALSE(DestinationPolicy::Parse("127.0.0.0/8;::1/128").ok());
  EXPECT_FALSE(DestinationPolicy::Parse("loopback").ok());
}

}  // namespace
}  // namespace ats::server
