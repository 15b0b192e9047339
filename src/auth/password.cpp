#include "auth/password.hpp"

#include <sodium.h>

#include <algorithm>
#include <condition_variable>
#include <mutex>
#include <thread>

#include <fmt/format.h>

namespace mk::auth {
namespace {

bool init_sodium() {
  static const bool ok = sodium_init() >= 0;
  return ok;
}

constexpr unsigned long long kOpsLimit = crypto_pwhash_OPSLIMIT_INTERACTIVE;
constexpr std::size_t kMemLimit = crypto_pwhash_MEMLIMIT_INTERACTIVE;

// Each argon2id computation holds kMemLimit (64 MiB) while it runs. At most one per core runs
// at once, whoever asks (the servers' login pool, the work pool, the CLI), so a burst of
// logins costs time, not memory.
class HashGate {
 public:
  HashGate() : free_(std::max(1u, std::thread::hardware_concurrency())) {}
  void enter() {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [this] { return free_ > 0; });
    --free_;
  }
  void leave() {
    {
      std::lock_guard lock(mu_);
      ++free_;
    }
    cv_.notify_one();
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  unsigned free_;
};

HashGate& gate() {
  static HashGate g;
  return g;
}

struct Gated {
  Gated() { gate().enter(); }
  ~Gated() { gate().leave(); }
  Gated(const Gated&) = delete;
  Gated& operator=(const Gated&) = delete;
};

}  // namespace

Status check_password_policy(std::string_view password) {
  if (password.size() < kMinPasswordLength)
    return err(fmt::format("password too short: use at least {} characters", kMinPasswordLength));
  if (password.size() > kMaxPasswordLength)
    return err(fmt::format("password too long: at most {} characters", kMaxPasswordLength));
  for (unsigned char c : password)
    if (c < 0x20 || c == 0x7f) return err("password contains control characters");
  return {};
}

Result<std::string> hash_password(std::string_view password) {
  if (!init_sodium()) return err("libsodium initialisation failed");
  char out[crypto_pwhash_STRBYTES];
  const Gated one_per_core;
  if (crypto_pwhash_str(out, password.data(), password.size(), kOpsLimit, kMemLimit) != 0)
    return err("out of memory while hashing password");
  return std::string(out);
}

bool verify_password(std::string_view encoded_hash, std::string_view password) {
  if (!init_sodium()) return false;
  std::string h(encoded_hash);  // needs NUL termination
  const Gated one_per_core;
  return crypto_pwhash_str_verify(h.c_str(), password.data(), password.size()) == 0;
}

bool needs_rehash(std::string_view encoded_hash) {
  std::string h(encoded_hash);
  return crypto_pwhash_str_needs_rehash(h.c_str(), kOpsLimit, kMemLimit) != 0;
}

std::string generate_password(std::size_t length) {
  init_sodium();
  static constexpr char kAlphabet[] = "abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
  std::string out;
  for (std::size_t i = 0; i < length; ++i)
    out += kAlphabet[randombytes_uniform(sizeof kAlphabet - 1)];
  return out;
}

}  // namespace mk::auth
