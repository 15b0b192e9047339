// Tests for net/tls_keys.hpp: the server's TLS keys are made once, never overwritten, private
// to their owner, and their TLSA digest is what the OpenSSL command line computes (a real
// peer: `openssl pkey -pubout -outform DER | sha256sum`).
#include "net/tls_keys.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace mk::net {
namespace {

struct TempDir {
  std::string path;
  TempDir() {
    char tmpl[] = "/tmp/mk-tls-keys-XXXXXX";
    path = ::mkdtemp(tmpl);
  }
  ~TempDir() { std::filesystem::remove_all(path); }
};

std::string slurp(const std::string& path) {
  std::ifstream f(path);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

// Standard output of a shell command (its arguments are our own temporary paths).
std::string run(const std::string& cmd) {
  std::string out;
  if (FILE* p = ::popen(cmd.c_str(), "r")) {
    char buf[512];
    for (std::size_t n; (n = std::fread(buf, 1, sizeof buf, p)) > 0;) out.append(buf, n);
    ::pclose(p);
  }
  return out;
}

mode_t mode_of(const std::string& path) {
  struct stat st {};
  EXPECT_EQ(::stat(path.c_str(), &st), 0) << path;
  return st.st_mode & 07777;
}

ino_t inode_of(const std::string& path) {
  struct stat st {};
  EXPECT_EQ(::stat(path.c_str(), &st), 0) << path;
  return st.st_ino;
}

TEST(TlsKeys, BothKeysAreMadeOncePrivatePkcs8P256) {
  TempDir d;
  ASSERT_TRUE(ensure_tls_keys(d.path).ok());
  const std::string key = tls_key_path(d.path), next = tls_next_key_path(d.path);
  EXPECT_EQ(key, d.path + "/tls/key.pem");
  EXPECT_EQ(next, d.path + "/tls/next-key.pem");
  EXPECT_EQ(mode_of(d.path + "/tls"), 0700u);
  for (const auto& f : {key, next}) {
    EXPECT_EQ(mode_of(f), 0600u) << f;
    const std::string pem = slurp(f);
    EXPECT_TRUE(pem.starts_with("-----BEGIN PRIVATE KEY-----\n")) << pem;  // PKCS#8
    EXPECT_NE(run("openssl pkey -in " + f + " -noout -text").find("ASN1 OID: prime256v1"),
              std::string::npos)
        << f;
  }
  EXPECT_NE(slurp(key), slurp(next));
  // No temporary files are left beside them.
  EXPECT_EQ(std::distance(std::filesystem::directory_iterator(d.path + "/tls"), {}), 2);
}

TEST(TlsKeys, ExistingKeysAreNeverOverwritten) {
  TempDir d;
  ASSERT_TRUE(ensure_tls_keys(d.path).ok());
  const std::string key = tls_key_path(d.path), next = tls_next_key_path(d.path);
  const std::string key_pem = slurp(key), next_pem = slurp(next);
  const ino_t key_inode = inode_of(key);
  ASSERT_TRUE(ensure_tls_keys(d.path).ok());
  EXPECT_EQ(slurp(key), key_pem);
  EXPECT_EQ(slurp(next), next_pem);
  EXPECT_EQ(inode_of(key), key_inode);
  // Even a file that is not a key is kept; only the missing one is made.
  std::filesystem::remove(next);
  { std::ofstream(key, std::ios::trunc) << "the admin's own file\n"; }
  ASSERT_TRUE(ensure_tls_keys(d.path).ok());
  EXPECT_EQ(slurp(key), "the admin's own file\n");
  EXPECT_TRUE(slurp(next).starts_with("-----BEGIN PRIVATE KEY-----\n"));
  EXPECT_NE(slurp(next), next_pem);
}

TEST(TlsKeys, TheDigestIsTheOpensslClis) {
  TempDir d;
  ASSERT_TRUE(ensure_tls_keys(d.path).ok());
  for (const auto& f : {tls_key_path(d.path), tls_next_key_path(d.path)}) {
    auto ours = tlsa_spki_sha256_hex(f);
    ASSERT_TRUE(ours.ok()) << ours.error().message;
    const std::string theirs =
        run("openssl pkey -in " + f + " -pubout -outform DER | sha256sum").substr(0, 64);
    EXPECT_EQ(*ours, theirs) << f;
    // The public key alone gives the same digest.
    const std::string pub = d.path + "/pub.pem";
    run("openssl pkey -in " + f + " -pubout -out " + pub);
    auto from_pub = tlsa_spki_sha256_hex(pub);
    ASSERT_TRUE(from_pub.ok()) << from_pub.error().message;
    EXPECT_EQ(*from_pub, theirs);
  }
  EXPECT_NE(*tlsa_spki_sha256_hex(tls_key_path(d.path)),
            *tlsa_spki_sha256_hex(tls_next_key_path(d.path)));
}

TEST(TlsKeys, WhatIsNotAKeyIsAnErrorNamingTheFile) {
  TempDir d;
  const std::string f = d.path + "/junk.pem";
  { std::ofstream(f) << "-----BEGIN PRIVATE KEY-----\nnot base64\n-----END PRIVATE KEY-----\n"; }
  auto r = tlsa_spki_sha256_hex(f);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find(f), std::string::npos) << r.error().message;
  EXPECT_FALSE(tlsa_spki_sha256_hex(d.path + "/missing.pem").ok());
}

TEST(TlsKeys, AnUnwritableDataDirectoryIsAnError) {
  auto r = ensure_tls_keys("/proc/mk-no-such-dir");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("/proc/mk-no-such-dir/tls"), std::string::npos)
      << r.error().message;
}

}  // namespace
}  // namespace mk::net
