// net/tls_keys.cpp: creating the server's key pair files once, and their TLSA digests.
// STANDARDS and SECURITY: see net/tls_keys.hpp.
#include "net/tls_keys.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <memory>

#include "base/read_file.hpp"
#include "base/strings.hpp"

namespace mk::net {
namespace {

// A PEM key is a few hundred bytes; anything far larger is not a key.
constexpr std::size_t kMaxKeyFile = 64 * 1024;

struct Free {
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
  void operator()(BIO* p) const { BIO_free(p); }
};

std::string errno_text(const std::string& what) {
  return fmt::format("{}: {}", what, std::strerror(errno));
}

bool exists(const std::string& path) {
  struct stat st {};
  return ::lstat(path.c_str(), &st) == 0;
}

Result<std::string> new_key_pem() {
  std::unique_ptr<EVP_PKEY, Free> key(EVP_EC_gen("P-256"));
  if (!key) return err("cannot generate an ECDSA P-256 key");
  std::unique_ptr<BIO, Free> bio(BIO_new(BIO_s_mem()));
  // PEM_write_bio_PrivateKey writes PKCS#8 ("BEGIN PRIVATE KEY"), unencrypted.
  if (!bio ||
      PEM_write_bio_PrivateKey(bio.get(), key.get(), nullptr, nullptr, 0, nullptr, nullptr) != 1)
    return err("cannot encode the new TLS key");
  char* data = nullptr;
  const long n = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, std::size_t(n));
}

bool write_all(int fd, const std::string& s) {
  std::size_t off = 0;
  while (off < s.size()) {
    const ssize_t n = ::write(fd, s.data() + off, s.size() - off);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    off += std::size_t(n);
  }
  return true;
}

// Writes a new key to a temporary file in the same directory, fsyncs it, and links it to
// `path` unless something is there already (link(2) never replaces; rename(2) would).
Status create_key_file(const std::string& dir, const std::string& path) {
  auto pem = new_key_pem();
  if (!pem) return pem.error();
  const std::string tmp = fmt::format("{}/.tmp-key-{}", dir, random_id(8));
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) return err(errno_text("cannot create " + tmp));
  const bool ok = write_all(fd, *pem) && ::fsync(fd) == 0;
  const int saved = errno;
  ::close(fd);
  if (!ok) {
    ::unlink(tmp.c_str());
    errno = saved;
    return err(errno_text("cannot write " + tmp));
  }
  const bool linked = ::link(tmp.c_str(), path.c_str()) == 0;
  const int link_errno = errno;
  ::unlink(tmp.c_str());
  // Another run made it meanwhile: theirs is the key, ours is discarded.
  if (!linked && link_errno != EEXIST) {
    errno = link_errno;
    return err(errno_text("cannot create " + path));
  }
  return {};
}

}  // namespace

std::string tls_key_path(const std::string& data_dir) {
  return data_dir + "/tls/key.pem";
}
std::string tls_next_key_path(const std::string& data_dir) {
  return data_dir + "/tls/next-key.pem";
}
std::string tls_cert_path(const std::string& data_dir) {
  return data_dir + "/tls/cert.pem";
}

Status ensure_tls_keys(const std::string& data_dir) {
  const std::string dir = data_dir + "/tls";
  if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST)
    return err(errno_text("cannot create " + dir));
  for (const auto& path : {tls_key_path(data_dir), tls_next_key_path(data_dir)}) {
    if (exists(path)) continue;
    if (auto s = create_key_file(dir, path); !s) return s;
  }
  // The new names are durable only once the directory is.
  const int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd < 0) return err(errno_text("cannot open " + dir));
  const bool synced = ::fsync(dfd) == 0;
  ::close(dfd);
  if (!synced) return err(errno_text("cannot sync " + dir));
  return {};
}

Status give_tls_files_to_dir_owner(const std::string& data_dir) {
  const std::string dir = data_dir + "/tls";
  const int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd < 0) return err(errno_text("cannot open " + dir));
  struct stat owner {};
  Status out;
  if (::fstat(dfd, &owner) != 0) out = err(errno_text("cannot read the owner of " + dir));
  for (const char* name : kTlsFileNames) {
    if (!out) break;
    // O_PATH | O_NOFOLLOW: a link put in place of a key changes owner itself, never its target.
    const int fd = ::openat(dfd, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) {
      if (errno != ENOENT) out = err(errno_text(fmt::format("cannot open {}/{}", dir, name)));
      continue;
    }
    struct stat st {};
    if (::fstat(fd, &st) != 0 ||
        ((st.st_uid != owner.st_uid || st.st_gid != owner.st_gid) &&
         ::fchownat(fd, "", owner.st_uid, owner.st_gid, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW) != 0))
      out = err(errno_text(fmt::format("cannot give {}/{} to the owner of {}", dir, name, dir)));
    ::close(fd);
  }
  ::close(dfd);
  return out;
}

Result<std::string> tlsa_spki_sha256_hex(const std::string& key_file) {
  auto pem = read_file(key_file, kMaxKeyFile);
  if (!pem) return pem.error();
  std::unique_ptr<BIO, Free> bio(BIO_new_mem_buf(pem->data(), int(pem->size())));
  std::unique_ptr<EVP_PKEY, Free> key(
      PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr));
  if (!key) {
    ERR_clear_error();  // not a private key; a failed read must not linger for the next TLS call
    bio.reset(BIO_new_mem_buf(pem->data(), int(pem->size())));
    key.reset(PEM_read_bio_PUBKEY(bio.get(), nullptr, nullptr, nullptr));
  }
  if (!key) {
    ERR_clear_error();
    return err(fmt::format("{}: not a PEM private or public key", key_file));
  }
  // RFC 6698 §2.1.2: selector 1 is the DER SubjectPublicKeyInfo.
  unsigned char* der = nullptr;
  const int len = i2d_PUBKEY(key.get(), &der);
  if (len <= 0) return err(fmt::format("{}: cannot encode the public key", key_file));
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int md_len = 0;
  const bool ok = EVP_Digest(der, std::size_t(len), md, &md_len, EVP_sha256(), nullptr) == 1;
  OPENSSL_free(der);
  if (!ok) return err("SHA-256 failed");
  return hex(std::string_view(reinterpret_cast<const char*>(md), md_len));
}

}  // namespace mk::net
