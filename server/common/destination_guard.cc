#include "server/common/destination_guard.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <algorithm>
#include <cstring>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "server/common/string_view.h"

namespace ats::server {
namespace {

// Parses one part of an inet_aton address: decimal, octal after a leading
// 0, hex after 0x or 0X (with at least one digit).
std::optional<uint64_t> ParseAtonPart(std::string_view part) {
  if (part.empty()) return std::nullopt;
  int base = 10;
  if (part.size() >= 2 && part[0] == '0' && (part[1] == 'x' || part[1] == 'X')) {
    base = 16;
    part.remove_prefix(2);
    if (part.empty()) return std::nullopt;
  } else if (part.size() >= 2 && part[0] == '0') {
    base = 8;
    part.remove_prefix(1);
  }
  uint64_t value = 0;
  for (const char c : part) {
    int digit;
    if (absl::ascii_isdigit(c)) {
      digit = c - '0';
    } else if (base == 16 && absl::ascii_isxdigit(c)) {
      digit = absl::ascii_tolower(c) - 'a' + 10;
    } else {
      return std::nullopt;
    }
    if (digit >= base) return std::nullopt;
    value = value * base + digit;
    if (value > 0xffffffffu) return std::nullopt;
  }
  return value;
}

// Parses `host` as inet_aton does: 1 to 4 parts, each but the last one byte,
// the last filling the bytes left (so 127.1 is 127.0.0.1). A trailing dot is
// allowed too, as URL parsers that follow the WHATWG standard read it.
std::optional<uint32_t> ParseAton(std::string_view host) {
  if (!host.empty() && host.back() == '.') host.remove_suffix(1);
  const std::vector<absl::string_view> parts =
      absl::StrSplit(AbslView(host), '.');
  if (parts.empty() || parts.size() > 4) return std::nullopt;
  uint32_t bits = 0;
  for (size_t i = 0; i < parts.size(); ++i) {
    const std::optional<uint64_t> value =
        ParseAtonPart(std::string_view(parts[i].data(), parts[i].size()));
    if (!value.has_value()) return std::nullopt;
    const bool last = i + 1 == parts.size();
    const int bytes_left = 4 - static_cast<int>(i);
    const uint64_t limit = last ? (uint64_t{1} << (8 * bytes_left)) : 256;
    if (*value >= limit) return std::nullopt;
    bits |= static_cast<uint32_t>(*value) << (last ? 0 : 8 * (3 - i));
  }
  return bits;
}

std::optional<IpAddress> ParseIpv6(std::string_view text) {
  std::array<uint8_t, 16> bytes;
  if (inet_pton(AF_INET6, std::string(text).c_str(), bytes.data()) != 1) {
    return std::nullopt;
  }
  return IpAddress::V6(bytes);
}

// Whether the first `bits` bits of `a` and `b` agree.
bool SamePrefix(const std::array<uint8_t, 16>& a,
                const std::array<uint8_t, 16>& b, int bits) {
  for (int i = 0; bits > 0; ++i, bits -= 8) {
    const uint8_t mask =
        bits >= 8 ? 0xff : static_cast<uint8_t>(0xff << (8 - bits));
    if ((a[i] & mask) != (b[i] & mask)) return false;
  }
  return true;
}

// The IPv4 address in bytes [at, at + 4) of an IPv6 address.
IpAddress EmbeddedV4(const IpAddress& address, int at) {
  const std::array<uint8_t, 16>& b = address.bytes();
  return IpAddress::V4(uint32_t{b[at]} << 24 | uint32_t{b[at + 1]} << 16 |
                       uint32_t{b[at + 2]} << 8 | b[at + 3]);
}

struct Block {
  IpNetwork network;
  std::string text;
  std::string_view purpose;
};

// The blocks refused by name, most specific first where they overlap.
// Sources: the IANA IPv4 and IPv6 Special-Purpose Address Registries
// (entries whose "Globally Reachable" is False), multicast, and the
// deprecated blocks still routed somewhere.
const std::vector<Block>& SpecialBlocks() {
  static const std::vector<Block>* const blocks = [] {
    const std::pair<std::string_view, std::string_view> table[] = {
        {"0.0.0.0/8", "unspecified"},
        {"10.0.0.0/8", "private-use"},
        {"100.64.0.0/10", "shared address space for carrier-grade NAT"},
        {"127.0.0.0/8", "loopback"},
        {"169.254.0.0/16", "link-local"},
        {"172.16.0.0/12", "private-use"},
        {"192.0.0.0/24", "IETF protocol assignments"},
        {"192.0.2.0/24", "TEST-NET-1 documentation"},
        {"192.88.99.0/24", "deprecated 6to4 relay anycast"},
        {"192.168.0.0/16", "private-use"},
        {"198.18.0.0/15", "benchmarking"},
        {"198.51.100.0/24", "TEST-NET-2 documentation"},
        {"203.0.113.0/24", "TEST-NET-3 documentation"},
        {"224.0.0.0/4", "multicast"},
        {"255.255.255.255/32", "limited broadcast"},
        {"240.0.0.0/4", "reserved"},
        {"::/128", "unspecified"},
        {"::1/128", "loopback"},
        {"64:ff9b:1::/48", "local-use NAT64"},
        {"100::/64", "discard-only"},
        {"2001::/23", "IETF protocol assignments, Teredo among them"},
        {"2001:db8::/32", "documentation"},
        {"3fff::/20", "documentation"},
        {"fc00::/7", "unique local (private-use)"},
        {"fe80::/10", "link-local"},
        {"fec0::/10", "deprecated site-local"},
        {"ff00::/8", "multicast"},
    };
    auto* built = new std::vector<Block>;
    for (const auto& [text, purpose] : table) {
      built->push_back({*ParseIpNetwork(text), std::string(text), purpose});
    }
    return built;
  }();
  return *blocks;
}

// An IPv6 block whose addresses embed an IPv4 address, at byte `at`.
struct Embedding {
  IpNetwork network;
  std::string_view name;
  int at;
};

const std::vector<Embedding>& Embeddings() {
  static const std::vector<Embedding>* const embeddings =
      new std::vector<Embedding>{
          {*ParseIpNetwork("64:ff9b::/96"), "NAT64", 12},
          {*ParseIpNetwork("2002::/16"), "6to4", 2},
      };
  return *embeddings;
}

}  // namespace

IpAddress IpAddress::V4(uint32_t bits) {
  IpAddress address;
  address.bytes_[12] = static_cast<uint8_t>(bits >> 24);
  address.bytes_[13] = static_cast<uint8_t>(bits >> 16);
  address.bytes_[14] = static_cast<uint8_t>(bits >> 8);
  address.bytes_[15] = static_cast<uint8_t>(bits);
  return address;
}

IpAddress IpAddress::V6(const std::array<uint8_t, 16>& bytes) {
  IpAddress address;
  address.v4_ = false;
  address.bytes_ = bytes;
  return address;
}

std::optional<IpAddress> IpAddress::FromSockaddr(const sockaddr* address,
                                                 size_t length) {
  if (address == nullptr || length < sizeof(sa_family_t)) return std::nullopt;
  if (address->sa_family == AF_INET && length >= sizeof(sockaddr_in)) {
    sockaddr_in in;
    std::memcpy(&in, address, sizeof(in));
    return V4(ntohl(in.sin_addr.s_addr));
  }
  if (address->sa_family == AF_INET6 && length >= sizeof(sockaddr_in6)) {
    sockaddr_in6 in6;
    std::memcpy(&in6, address, sizeof(in6));
    std::array<uint8_t, 16> bytes;
    std::memcpy(bytes.data(), &in6.sin6_addr, bytes.size());
    return V6(bytes);
  }
  return std::nullopt;
}

uint32_t IpAddress::v4_bits() const {
  if (!v4_) return 0;
  return uint32_t{bytes_[12]} << 24 | uint32_t{bytes_[13]} << 16 |
         uint32_t{bytes_[14]} << 8 | bytes_[15];
}

IpAddress IpAddress::Unmapped() const {
  if (v4_) return *this;
  static const IpNetwork kMapped = *ParseIpNetwork("::ffff:0:0/96");
  if (!kMapped.Contains(*this)) return *this;
  return EmbeddedV4(*this, 12);
}

std::string IpAddress::ToString() const {
  char text[INET6_ADDRSTRLEN] = {};
  if (v4_) {
    inet_ntop(AF_INET, bytes_.data() + 12, text, sizeof(text));
  } else {
    inet_ntop(AF_INET6, bytes_.data(), text, sizeof(text));
  }
  return text;
}

std::optional<IpAddress> ParseIpLiteral(std::string_view host) {
  if (host.find(':') != std::string_view::npos) return ParseIpv6(host);
  const std::optional<uint32_t> bits = ParseAton(host);
  if (!bits.has_value()) return std::nullopt;
  return IpAddress::V4(*bits);
}

bool IpNetwork::Contains(const IpAddress& address) const {
  if (base.is_v4() != address.is_v4()) return false;
  // IPv4 addresses are kept behind the 96 bits of the mapped prefix.
  return SamePrefix(base.bytes(), address.bytes(),
                    prefix_length + (base.is_v4() ? 96 : 0));
}

std::string IpNetwork::ToString() const {
  return absl::StrCat(base.ToString(), "/", prefix_length);
}

absl::StatusOr<IpNetwork> ParseIpNetwork(std::string_view text) {
  const size_t slash = text.find('/');
  if (slash == std::string_view::npos) {
    return absl::InvalidArgumentError(absl::StrCat(
        "\"", AbslView(text),
        "\" is not a CIDR block: write an address, '/' and a prefix length, "
        "e.g. 10.0.0.0/8 or fc00::/7"));
  }
  const std::string_view address_text = text.substr(0, slash);
  const std::string_view length_text = text.substr(slash + 1);
  IpNetwork network;
  if (address_text.find(':') != std::string_view::npos) {
    std::optional<IpAddress> v6 = ParseIpv6(address_text);
    if (!v6.has_value()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "\"", AbslView(text), "\": \"", AbslView(address_text),
          "\" is not an IPv6 address"));
    }
    network.base = *v6;
  } else {
    in_addr v4;
    if (inet_pton(AF_INET, std::string(address_text).c_str(), &v4) != 1) {
      return absl::InvalidArgumentError(absl::StrCat(
          "\"", AbslView(text), "\": \"", AbslView(address_text),
          "\" is not a dotted-decimal IPv4 address"));
    }
    network.base = IpAddress::V4(ntohl(v4.s_addr));
  }
  const int max_length = network.base.is_v4() ? 32 : 128;
  const bool digits =
      !length_text.empty() && length_text.size() <= 3 &&
      std::all_of(length_text.begin(), length_text.end(),
                  [](char c) { return absl::ascii_isdigit(c); });
  if (!digits ||
      !absl::SimpleAtoi(AbslView(length_text), &network.prefix_length) ||
      network.prefix_length > max_length) {
    return absl::InvalidArgumentError(
        absl::StrCat("\"", AbslView(text), "\": the prefix length must be 0 to ",
                     max_length));
  }
  // Bits past the prefix are most likely a typo for another block.
  std::array<uint8_t, 16> masked = network.base.bytes();
  const int first_host_bit =
      network.prefix_length + (network.base.is_v4() ? 96 : 0);
  for (int bit = first_host_bit; bit < 128; ++bit) {
    masked[bit / 8] &= static_cast<uint8_t>(~(0x80 >> (bit % 8)));
  }
  if (masked != network.base.bytes()) {
    IpNetwork meant = network;
    meant.base = network.base.is_v4()
                     ? EmbeddedV4(IpAddress::V6(masked), 12)
                     : IpAddress::V6(masked);
    return absl::InvalidArgumentError(absl::StrCat(
        "\"", AbslView(text), "\" has bits set past its prefix; did you mean ",
        meant.ToString(), "?"));
  }
  return network;
}

std::optional<std::string> SpecialPurpose(const IpAddress& address) {
  const IpAddress unmapped = address.Unmapped();
  if (!unmapped.is_v4()) {
    for (const Embedding& embedding : Embeddings()) {
      if (!embedding.network.Contains(unmapped)) continue;
      const IpAddress inner = EmbeddedV4(unmapped, embedding.at);
      std::optional<std::string> why = SpecialPurpose(inner);
      if (!why.has_value()) return std::nullopt;
      return absl::StrCat(AbslView(embedding.name), " of ", inner.ToString(),
                          ": ", *why);
    }
  }
  for (const Block& block : SpecialBlocks()) {
    if (block.network.Contains(unmapped)) {
      return absl::StrCat(AbslView(block.purpose), " (", block.text, ")");
    }
  }
  static const IpNetwork kGlobalUnicast = *ParseIpNetwork("2000::/3");
  if (!unmapped.is_v4() && !kGlobalUnicast.Contains(unmapped)) {
    return "reserved, outside global unicast (2000::/3)";
  }
  return std::nullopt;
}

absl::StatusOr<DestinationPolicy> DestinationPolicy::Parse(
    std::string_view networks) {
  DestinationPolicy policy;
  for (const absl::string_view entry :
       absl::StrSplit(AbslView(networks), ',', absl::SkipWhitespace())) {
    const absl::string_view stripped = absl::StripAsciiWhitespace(entry);
    absl::StatusOr<IpNetwork> network =
        ParseIpNetwork(std::string_view(stripped.data(), stripped.size()));
    if (!network.ok()) return network.status();
    policy.allowed_.push_back(*network);
  }
  return policy;
}

std::optional<std::string> DestinationPolicy::WhyRefused(
    const IpAddress& address) const {
  const IpAddress unmapped = address.Unmapped();
  for (const IpNetwork& network : allowed_) {
    if (network.Contains(unmapped)) return std::nullopt;
  }
  return SpecialPurpose(unmapped);
}

}  // namespace ats::server
