#include "srs/srs.hpp"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "base/strings.hpp"
#include "message/codec.hpp"

namespace mk::srs {
namespace {

constexpr char kBase32[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
constexpr std::int64_t kDay = 86400;
constexpr int kTimestampModulus = 1024;  // two base32 digits
constexpr std::size_t kHashLength = 4;

int day(std::int64_t now) { return int((now / kDay) % kTimestampModulus); }

std::string encode_tt(int d) { return std::string{kBase32[(d >> 5) & 31], kBase32[d & 31]}; }

std::optional<int> decode_tt(std::string_view tt) {
  if (tt.size() != 2) return std::nullopt;
  int v = 0;
  for (char c : tt) {
    const char* p = std::char_traits<char>::find(kBase32, 32, ascii_upper(c));
    if (!p) return std::nullopt;
    v = v * 32 + int(p - kBase32);
  }
  return v;
}

}  // namespace

std::string Srs::hash(std::string_view tt, std::string_view domain, std::string_view local) const {
  const std::string data = to_lower(tt) + to_lower(domain) + to_lower(local);
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), secret_.data(), int(secret_.size()), reinterpret_cast<const unsigned char*>(data.data()),
       data.size(), mac, &len);
  return message::base64_encode(std::string_view(reinterpret_cast<char*>(mac), len)).substr(0, kHashLength);
}

bool Srs::looks_like_srs(std::string_view local) { return istarts_with(local, "SRS0=") || istarts_with(local, "SRS1="); }

std::optional<std::string> Srs::forward(std::string_view sender, std::string_view forwarder_domain, std::int64_t now) const {
  const auto at = sender.rfind('@');
  if (at == std::string_view::npos || at == 0) return std::nullopt;
  const std::string_view local = sender.substr(0, at), domain = sender.substr(at + 1);
  if (iequals(domain, forwarder_domain)) return std::string(sender);  // our own sender: SPF passes as is
  const std::string tt = encode_tt(day(now));
  std::string out = "SRS0=" + hash(tt, domain, local) + "=" + tt + "=" + std::string(domain) + "=" + std::string(local);
  // The whole address must fit a path too (RFC 5321 §4.5.3.1.3: 256 octets with its brackets),
  // or the bounce to it would be refused, by us first.
  if (out.size() > kMaxLocalPart || out.size() + 1 + forwarder_domain.size() + 2 > message::kMaxPath)
    return std::nullopt;
  return out + "@" + std::string(forwarder_domain);
}

std::optional<std::string> Srs::reverse(std::string_view address, std::int64_t now) const {
  const auto at = address.rfind('@');
  if (at == std::string_view::npos) return std::nullopt;
  const std::string_view local = address.substr(0, at);
  if (!istarts_with(local, "SRS0=")) return std::nullopt;
  // SRS0=HHHH=TT=domain=local: the original local part may itself contain '='.
  const std::string_view rest = local.substr(5);
  const auto p1 = rest.find('='), p2 = p1 == std::string_view::npos ? p1 : rest.find('=', p1 + 1),
             p3 = p2 == std::string_view::npos ? p2 : rest.find('=', p2 + 1);
  if (p3 == std::string_view::npos) return std::nullopt;
  const std::string_view h = rest.substr(0, p1), tt = rest.substr(p1 + 1, p2 - p1 - 1),
                         domain = rest.substr(p2 + 1, p3 - p2 - 1), orig = rest.substr(p3 + 1);
  if (domain.empty() || orig.empty()) return std::nullopt;
  const auto t = decode_tt(tt);
  if (!t) return std::nullopt;
  // Base64 is case-sensitive, but mail systems lower-case addresses: compare without case.
  if (!iequals(h, hash(tt, domain, orig))) return std::nullopt;
  const int age = (day(now) - *t + kTimestampModulus) % kTimestampModulus;
  if (age > kMaxAgeDays) return std::nullopt;
  return std::string(orig) + "@" + std::string(domain);
}

}  // namespace mk::srs
