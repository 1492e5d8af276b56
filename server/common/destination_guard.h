#ifndef ATS_SERVER_COMMON_DESTINATION_GUARD_H_
#define ATS_SERVER_COMMON_DESTINATION_GUARD_H_

// Which addresses the service may send webhooks to. Partner and webhook URLs
// are written by tenants, and the service runs inside someone's network, so
// a URL must not reach what only the service can reach: its own host, the
// private network behind it, a cloud metadata endpoint (169.254.169.254).
// Only public unicast addresses are allowed, plus the networks an operator
// opens (--allowed_destination_networks). The same policy is applied twice:
// on save to a URL whose host is an address (validation.h), and on connect
// to every address a host name resolves to (http_connector.cc).
//
// "Public" is the IANA special-purpose address registries read strictly:
// every block whose "Globally Reachable" is False is refused, and so are
// multicast, 240.0.0.0/4 and, for IPv6, everything outside global unicast
// 2000::/3. An IPv6 address that embeds an IPv4 one is judged by the IPv4
// address it leads to: IPv4-mapped ::ffff:0:0/96 (connecting to it is
// connecting to the IPv4 address), NAT64 64:ff9b::/96 and 6to4 2002::/16
// (a translator or relay forwards to it). A few blocks are refused whole
// although a handful of anycast services inside are global (192.0.0.0/24,
// 2001::/23: PCP, TURN, AMT, ORCHID); no webhook lives there.

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

struct sockaddr;

namespace ats::server {

// An IPv4 or IPv6 address.
class IpAddress {
 public:
  // 0.0.0.0.
  IpAddress() = default;

  // Returns the IPv4 address whose 32 bits are `bits` (127.0.0.1 is
  // 0x7f000001).
  static IpAddress V4(uint32_t bits);

  // Returns the IPv6 address with these 16 bytes, in network order.
  static IpAddress V6(const std::array<uint8_t, 16>& bytes);

  // Returns the address of an AF_INET or AF_INET6 socket address of
  // `length` bytes; nullopt for another family or a short length.
  static std::optional<IpAddress> FromSockaddr(const sockaddr* address,
                                               size_t length);

  bool is_v4() const { return v4_; }

  // The 32 bits of an IPv4 address (0 for IPv6).
  uint32_t v4_bits() const;

  // The 16 bytes of an IPv6 address, or of an IPv4 one mapped to IPv6
  // (::ffff:a.b.c.d).
  const std::array<uint8_t, 16>& bytes() const { return bytes_; }

  // Returns the IPv4 address an IPv4-mapped IPv6 address (::ffff:a.b.c.d)
  // stands for; any other address as it is.
  IpAddress Unmapped() const;

  // Returns the address as dotted decimal, or in RFC 5952 text for IPv6.
  std::string ToString() const;

  friend bool operator==(const IpAddress& a, const IpAddress& b) {
    return a.v4_ == b.v4_ && a.bytes_ == b.bytes_;
  }

 private:
  bool v4_ = true;
  // IPv4 addresses are kept mapped to IPv6 (::ffff:a.b.c.d).
  std::array<uint8_t, 16> bytes_ = {0, 0, 0, 0, 0, 0, 0, 0,
                                    0, 0, 0xff, 0xff, 0, 0, 0, 0};
};

// Returns the address `host` (a URL's host, IPv6 without its brackets) is
// taken for without asking DNS, as libc's resolver and curl read it: IPv4
// in every inet_aton spelling, 1 to 4 parts in decimal, octal (leading 0)
// or hex (0x), the last part filling the remaining bytes (2130706433,
// 0x7f000001, 127.1, 0177.0.0.1), with one trailing dot allowed; IPv6 as
// inet_pton reads it (::ffff:127.0.0.1, ::ffff:7f00:1). nullopt for a host
// name.
std::optional<IpAddress> ParseIpLiteral(std::string_view host);

// A CIDR block, such as 10.0.0.0/8 or fc00::/7.
struct IpNetwork {
  IpAddress base;
  int prefix_length = 0;

  // Returns whether `address` is in the block; an IPv4 block never holds an
  // IPv6 address, nor the reverse.
  bool Contains(const IpAddress& address) const;

  // Returns the block as written in CIDR notation.
  std::string ToString() const;
};

// Parses a CIDR block strictly: a dotted-quad IPv4 or an inet_pton IPv6
// address, '/', a prefix length of 0 to 32 (IPv4) or 128 (IPv6), and no
// bits set past the prefix. INVALID_ARGUMENT otherwise, saying what is
// wrong (for 10.0.0.1/8, that 10.0.0.0/8 may be meant).
absl::StatusOr<IpNetwork> ParseIpNetwork(std::string_view text);

// Returns why `address` is no public unicast address: the special-purpose
// block it falls in (see the file comment), e.g. "loopback (127.0.0.0/8)",
// or for an IPv6 address embedding an IPv4 one "NAT64 of 10.0.0.1:
// private-use (10.0.0.0/8)"; nullopt for a public unicast address.
std::optional<std::string> SpecialPurpose(const IpAddress& address);

// Which outbound destinations are allowed: public unicast addresses, plus
// the networks the operator opened. Immutable, so one policy is shared by
// every thread without locking.
class DestinationPolicy {
 public:
  // Allows public unicast addresses only.
  DestinationPolicy() = default;

  // Parses --allowed_destination_networks: comma-separated CIDR blocks
  // (spaces around entries ignored), empty for none. INVALID_ARGUMENT naming
  // the first bad entry and why.
  static absl::StatusOr<DestinationPolicy> Parse(std::string_view networks);

  // Returns nullopt when `address` may be connected to: it is public
  // unicast, or it is (IPv4-mapped addresses unmapped first) in an allowed
  // network. Otherwise why not, as SpecialPurpose says it.
  std::optional<std::string> WhyRefused(const IpAddress& address) const;

  // The networks opened, as parsed.
  const std::vector<IpNetwork>& allowed() const { return allowed_; }

 private:
  std::vector<IpNetwork> allowed_;
};

}  // namespace ats::server

#endif  // ATS_SERVER_COMMON_DESTINATION_GUARD_H_
