// auth/scram.hpp: SCRAM-SHA-256 (RFC 5802, RFC 7677) for SMTP AUTH and IMAP AUTHENTICATE:
// the stored secret and the server side of the exchange, without I/O.
//
// The account keeps "SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>" (base64
// parts, the format PostgreSQL uses), derived when the password is set. It is not the
// password and cannot log in by itself, but, like any verifier, allows an offline guessing
// attack if stolen, so it is costed with kScramIterations of PBKDF2-SHA-256.
// SECURITY: the challenge must not tell which accounts exist (RFC 5802 §9 leaves it to the
// server). An account that is known but may not log in now (locked, breached, app passwords
// only) gets its real salt and iteration count, as before it was refused, and then the same
// failure as a wrong password, after the same work; an unknown user gets a salt derived from
// the name with a key kept by the caller, so it is the same at every attempt and after a
// restart, like a real one. Channel binding
// (-PLUS) is not offered; a client that requires it ("p=") is refused. An authorization
// identity ("a=") is accepted only when it names the user itself (compared as PLAIN's is).
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace mk::auth {

inline constexpr int kScramIterations = 10000;

// A fresh random salt unless one is given (tests use the RFC 7677 example's).
std::string make_scram_secret(std::string_view password, int iterations = kScramIterations,
                              std::string_view salt = {});

class ScramServer {
 public:
  // A known account's stored secret, and whether it may log in now; one that may not still
  // shows its own salt and fails at the proof.
  struct Verifier {
    std::string secret;
    bool may_log_in = true;
    Verifier(std::string s, bool may = true) : secret(std::move(s)), may_log_in(may) {}  // NOLINT: implicit by design
  };
  // Looks up a user name as the client sent it (after =2C/=3D decoding); nothing: unknown.
  using Lookup = std::function<std::optional<Verifier>(const std::string& user)>;
  // fake_salt_key: the key unknown users' salts are derived from; it must persist for them to
  // stay stable across restarts (the server keeps one in its data directory). Empty: a key
  // random per process (tests). nonce_suffix: the server's part of the nonce; random unless
  // given (tests only).
  explicit ScramServer(Lookup lookup, std::string fake_salt_key = {}, std::string nonce_suffix = {})
      : lookup_(std::move(lookup)), fake_salt_key_(std::move(fake_salt_key)), nonce_suffix_(std::move(nonce_suffix)) {}

  struct Step {
    enum class Kind { challenge, success, failure } kind = Kind::failure;
    std::string data;  // server-first or server-final message; the reason on failure
  };
  // client-first-message -> server-first-message.
  Step client_first(std::string_view msg);
  // client-final-message -> server-final-message ("v=...") when the proof is right.
  Step client_final(std::string_view msg);
  const std::string& user() const { return user_; }

 private:
  Lookup lookup_;
  std::string fake_salt_key_;
  std::string nonce_suffix_;
  std::string user_;
  std::string gs2_header_;
  std::string client_first_bare_;
  std::string server_first_;
  std::string nonce_;
  std::string stored_key_, server_key_;
  bool may_log_in_ = false;
};

}  // namespace mk::auth
