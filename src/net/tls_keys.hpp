// net/tls_keys.hpp: the server's TLS keys in the data directory, and the DANE digest of a key.
//
// DATA_DIR/tls/key.pem is the key of the certificate in use (DATA_DIR/tls/cert.pem: self-signed
// until a CA-issued certificate for the same key replaces it); DATA_DIR/tls/next-key.pem is the
// key the next certificate will use. Both exist before the first certificate does, so their
// TLSA records are in the DNS before either is used (RFC 7671's rollover: the new key's record
// is published before the key is). Keys are ECDSA P-256, PEM PKCS#8.
//
// STANDARDS: RFC 6698 §2.1 (TLSA selector 1 = SubjectPublicKeyInfo, matching type 1 =
// SHA-256), RFC 7672 §3.1.1 (DANE-EE for SMTP), RFC 5208/5958 (PKCS#8).
// SECURITY: key files are created mode 0600 in a 0700 directory, written to a temporary file,
// fsynced, and linked into place only if no file has that name, so an existing key is never
// overwritten, even by two runs at once, and a crash never leaves a half-written key.
#pragma once

#include <string>

#include "base/result.hpp"

namespace mk::net {

std::string tls_key_path(const std::string& data_dir);       // DATA_DIR/tls/key.pem
std::string tls_next_key_path(const std::string& data_dir);  // DATA_DIR/tls/next-key.pem
std::string tls_cert_path(const std::string& data_dir);      // DATA_DIR/tls/cert.pem

// Creates DATA_DIR/tls (0700) and the two keys that are missing; keeps those that exist.
Status ensure_tls_keys(const std::string& data_dir);

// The names in DATA_DIR/tls that `ensure_tls_keys` and `tls rollover` create or move.
inline constexpr const char* kTlsFileNames[] = {"key.pem", "next-key.pem", "cert.pem",
                                                 "retired-key.pem", "retired-cert.pem"};
// Gives each of kTlsFileNames that exists the owner and group of DATA_DIR/tls itself, through
// descriptors opened without following links; modes are kept (keys stay 0600). A command
// run by root (sudo mailkeep tls rollover) must leave files the server, running as the
// directory's owner, can read.
Status give_tls_files_to_dir_owner(const std::string& data_dir);

// SHA-256 of the DER SubjectPublicKeyInfo of the key in a PEM file (a private key, or a
// public key), lower-case hex: the data of a "3 1 1" TLSA record.
Result<std::string> tlsa_spki_sha256_hex(const std::string& key_file);

}  // namespace mk::net
