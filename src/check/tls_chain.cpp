// check/tls_chain.cpp: the served chain as a sender judges it (see tls_chain.hpp).
#include "check/tls_chain.hpp"

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/x509v3.h>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "base/strings.hpp"

namespace mk::check {
namespace {

struct X509Free {
  void operator()(X509* x) const { X509_free(x); }
};
using Cert = std::unique_ptr<X509, X509Free>;

Cert parse_der(const std::string& der) {
  const auto* p = reinterpret_cast<const unsigned char*>(der.data());
  return Cert(d2i_X509(nullptr, &p, long(der.size())));
}

std::string common_name(X509* x) {
  X509_NAME* n = X509_get_subject_name(x);
  char buf[256] = {};
  if (n && X509_NAME_get_text_by_NID(n, NID_commonName, buf, sizeof buf) > 0) return buf;
  return "(no common name)";
}

std::string issuer_name(X509* x) {
  X509_NAME* n = X509_get_issuer_name(x);
  char buf[256] = {};
  if (n && X509_NAME_get_text_by_NID(n, NID_commonName, buf, sizeof buf) > 0) return buf;
  return "(no common name)";
}

std::vector<std::string> dns_names(X509* x) {
  std::vector<std::string> out;
  auto* names = static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(x, NID_subject_alt_name, nullptr, nullptr));
  if (!names) return out;
  for (int i = 0; i < sk_GENERAL_NAME_num(names); ++i) {
    const GENERAL_NAME* g = sk_GENERAL_NAME_value(names, i);
    if (g->type != GEN_DNS) continue;
    const auto* s = reinterpret_cast<const char*>(ASN1_STRING_get0_data(g->d.dNSName));
    out.emplace_back(s, std::size_t(ASN1_STRING_length(g->d.dNSName)));
  }
  GENERAL_NAMES_free(names);
  return out;
}

std::optional<std::time_t> to_time(const ASN1_TIME* t) {
  std::tm tm{};
  if (!t || ASN1_TIME_to_tm(t, &tm) != 1) return std::nullopt;
  return ::timegm(&tm);
}

std::string date(std::time_t t) {
  std::tm tm{};
  ::gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M UTC", &tm);
  return buf;
}

std::string der_of(X509* x, int selector) {
  unsigned char* buf = nullptr;
  const int n = selector == 0 ? i2d_X509(x, &buf) : i2d_X509_PUBKEY(X509_get_X509_PUBKEY(x), &buf);
  if (n <= 0) return {};
  std::string out(reinterpret_cast<char*>(buf), std::size_t(n));
  OPENSSL_free(buf);
  return out;
}

std::optional<std::string> digest(std::string_view data, int matching) {
  if (matching == 0) return std::string(data);
  const EVP_MD* md = matching == 1 ? EVP_sha256() : matching == 2 ? EVP_sha512() : nullptr;
  if (!md) return std::nullopt;
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  if (EVP_Digest(data.data(), data.size(), out, &n, md, nullptr) != 1) return std::nullopt;
  return std::string(reinterpret_cast<char*>(out), n);
}

// Whether a DANE record matches a certificate (RFC 6698 §2.1).
bool tlsa_matches(const dns::Tlsa& t, X509* x) {
  if (t.selector > 1) return false;
  auto d = digest(der_of(x, t.selector), t.matching);
  return d && *d == t.data;
}

std::string tlsa_text(const dns::Tlsa& t) {
  return fmt::format("{} {} {} {}", t.usage, t.selector, t.matching, hex(t.data));
}

// What a failed verification means to the admin, and its fix.
std::pair<std::string, std::string> explain_verify_error(int error, X509* at, const std::vector<Cert>& served) {
  const std::string who = at ? fmt::format("\"{}\"", common_name(at)) : std::string("the certificate");
  switch (error) {
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT:
      if (at && served.size() <= 1)
        return {fmt::format("incomplete chain: only {} is served, without the intermediate certificate \"{}\" that "
                            "issued it (senders do not fetch it)",
                            who, issuer_name(at)),
                "serve the full chain: point [tls] cert at the file with the certificate followed by its "
                "intermediates (fullchain.pem), not the certificate alone"};
      return {fmt::format("incomplete chain: the certificate \"{}\" that issued {} is not served, and it is not a "
                          "trusted root (senders do not fetch it)",
                          at ? issuer_name(at) : "?", who),
              "serve the full chain: the certificate followed by all its intermediates, in order (fullchain.pem)"};
    case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
      return {"the certificate is self-signed: clients and senders that check certificates refuse it",
              "get a certificate from a CA: set [acme] directory (Let's Encrypt by default), or [tls] cert and key "
              "to one you obtained"};
    case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:
      return {fmt::format("the chain ends in {}, a CA that is not trusted here", who),
              "get a certificate from a publicly trusted CA (for a private CA in tests: [outbound] ca_file)"};
    case X509_V_ERR_INVALID_PURPOSE:
      return {"the certificate is not for TLS servers (extended key usage lacks serverAuth)",
              "get a certificate issued for TLS servers"};
    default:
      return {fmt::format("the chain does not verify: {} (at {})", X509_verify_cert_error_string(error), who),
              "serve a valid certificate chain for this name in [tls] cert (certificate first, then intermediates)"};
  }
}

}  // namespace

Result<TrustStore> load_trust_store(const std::string& extra_ca) {
  TrustStore s(X509_STORE_new());
  if (!s) return err("out of memory");
  if (X509_STORE_set_default_paths(s.get()) != 1) return err("cannot load the system's CA certificates");
  if (!extra_ca.empty() && X509_STORE_load_file(s.get(), extra_ca.c_str()) != 1) {
    ERR_clear_error();
    return err(fmt::format("cannot load CA certificates from {}", extra_ca));
  }
  ERR_clear_error();
  return s;
}

int days_until(std::time_t t, std::time_t now) {
  constexpr std::time_t kDay = 86400;
  const std::time_t d = t - now;
  return d <= 0 ? 0 : int((d + kDay - 1) / kDay);
}

std::string tlsa_311(const std::string& der) {
  Cert c = parse_der(der);
  if (!c) return {};
  auto d = digest(der_of(c.get(), 1), 1);
  return d ? "3 1 1 " + hex(*d) : std::string();
}

std::vector<Finding> judge_chain(const ChainInput& in, X509_STORE* trust) {
  std::vector<Finding> out;
  const std::string subject = in.subject + ": certificate";
  std::vector<Cert> served;
  for (const auto& der : in.chain) {
    Cert c = parse_der(der);
    if (!c) {
      out.push_back(Finding::failed("tls", subject, "a certificate in the served chain does not parse",
                                    "serve PEM certificates in [tls] cert: the certificate, then its intermediates"));
      return out;
    }
    served.push_back(std::move(c));
  }
  if (served.empty()) {
    out.push_back(Finding::failed("tls", subject, "no certificate was served", "set [tls] cert and key"));
    return out;
  }
  X509* leaf = served.front().get();

  // Path validation from the served certificates only; times are judged below, with dates.
  STACK_OF(X509)* untrusted = sk_X509_new_null();
  for (std::size_t i = 1; i < served.size(); ++i) sk_X509_push(untrusted, served[i].get());
  X509_STORE_CTX* ctx = X509_STORE_CTX_new();
  bool verified = false;
  if (ctx && X509_STORE_CTX_init(ctx, trust, leaf, untrusted) == 1) {
    X509_STORE_CTX_set_purpose(ctx, X509_PURPOSE_SSL_SERVER);
    X509_VERIFY_PARAM_set_flags(X509_STORE_CTX_get0_param(ctx), X509_V_FLAG_NO_CHECK_TIME);
    verified = X509_verify_cert(ctx) == 1;
    if (!verified) {
      auto [problem, fix] = explain_verify_error(X509_STORE_CTX_get_error(ctx), X509_STORE_CTX_get_current_cert(ctx), served);
      out.push_back(Finding::failed("tls", subject, problem, fix));
    }
  }
  X509_STORE_CTX_free(ctx);
  sk_X509_free(untrusted);
  ERR_clear_error();

  if (X509_check_host(leaf, in.hostname.data(), in.hostname.size(), 0, nullptr) != 1) {
    auto names = dns_names(leaf);
    out.push_back(Finding::failed(
        "tls", subject,
        fmt::format("the certificate is for {}, not {}", names.empty() ? common_name(leaf) : fmt::format("{}", fmt::join(names, ", ")),
                    in.hostname),
        fmt::format("get a certificate that names {} (mailkeep's ACME manager asks for it when [acme] directory is set)",
                    in.hostname)));
  }

  // The earliest expiry among what is served: the leaf's, or an intermediate's before it.
  std::optional<std::time_t> first_end;
  X509* ending = nullptr;
  for (const auto& c : served) {
    auto end = to_time(X509_get0_notAfter(c.get()));
    if (end && (!first_end || *end < *first_end)) first_end = end, ending = c.get();
  }
  if (auto begin = to_time(X509_get0_notBefore(leaf)); begin && *begin > in.now) {
    out.push_back(Finding::failed("tls", subject, fmt::format("the certificate is not valid before {}", date(*begin)),
                                  "check the server's clock, or serve a certificate valid now"));
  }
  const std::string whose = ending == leaf ? "the certificate" : fmt::format("the intermediate \"{}\"", ending ? common_name(ending) : "");
  const std::string renew = "renew it now and restart mailkeep (with [acme], the log says why renewal has not happened)";
  int days = 0;
  if (first_end) {
    days = days_until(*first_end, in.now);
    if (*first_end <= in.now)
      out.push_back(Finding::failed("tls", subject, fmt::format("{} expired on {}", whose, date(*first_end)), renew));
    else if (days <= kMinDaysLeft)
      out.push_back(Finding::failed("tls", subject,
                                    fmt::format("{} expires in {} day{} ({}); clients and senders refuse it after that",
                                                whose, days, days == 1 ? "" : "s", date(*first_end)),
                                    renew));
  }
  if (out.empty()) out.push_back(Finding::pass("tls", fmt::format("{} (valid for {}, {} days left)", subject, in.hostname, days)));

  if (in.tlsa && !in.tlsa->empty()) {
    const std::string tsubject = fmt::format("{}: TLSA {}", in.subject, in.tlsa_owner);
    std::size_t usable = 0;
    bool match = false;
    for (const auto& t : *in.tlsa) {
      if (t.usage != 2 && t.usage != 3) continue;  // RFC 7672 §3.1.3: PKIX-TA/EE are unusable for SMTP
      ++usable;
      if (t.usage == 3) match |= tlsa_matches(t, leaf);
      else
        for (std::size_t i = 1; i < served.size(); ++i) match |= tlsa_matches(t, served[i].get());
    }
    const std::string want = tlsa_311(in.chain.front());
    if (match) {
      out.push_back(Finding::pass("tls", tsubject + " matches the served key"));
    } else {
      std::vector<std::string> published;
      for (const auto& t : *in.tlsa) published.push_back(tlsa_text(t));
      out.push_back(Finding::failed(
          "tls", tsubject,
          usable == 0 ? fmt::format("none of the TLSA records is usable for SMTP (only DANE-TA(2) and DANE-EE(3) are, RFC "
                                    "7672 §3.1.3): {}", fmt::join(published, "; "))
                      : fmt::format("no TLSA record matches the certificate served ({}): senders that use DANE will not "
                                    "deliver", fmt::join(published, "; ")),
          fmt::format("publish {}. 3600 IN TLSA {} (the key served now), keep the record of the next key, and remove "
                      "the others",
                      in.tlsa_owner, want)));
    }
  }
  return out;
}

}  // namespace mk::check
