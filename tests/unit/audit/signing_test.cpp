// The log signing key (audit/signing.hpp): made once with mode 0600 and loaded again, RFC 8032
// test vectors, signatures that must not verify, damaged key files, and public key syntax.
#include "audit/signing.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "audit/syslog.hpp"

namespace mk::audit {
namespace {

// RFC 8032 §7.1 TEST 1 and TEST 2, in base64: the key file holds SECRET KEY || PUBLIC KEY.
const std::string kKey1 =
    "nWGxne/9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2DXWpgBgrEKt9VL/tPJZAc6DuFy89qmIyWvAhpo9wdRGg==";
const std::string kPub1 = "ed25519:11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=";
const std::string kSig1 =  // of the empty message
    "5VZDAMNgrHKQhuLMgG6CioSHfx645dl02HPgZSJJAVVfuIIVkKM7rMYeOXAc+bRr0lv18FlbviRlUUFDjnoQCw==";
const std::string kKey2 =
    "TM0Imyj/ltqdtsNG7BFOD1uKMZ81q6Yk2oz27U+4pvs9QBfD6EOJWpK3CqdNG368nJgszy7ElozAzVXxKvRmDA==";
const std::string kPub2 = "ed25519:PUAXw+hDiVqStwqnTRt+vJyYLM8uxJaMwM1V8Sr0Zgw=";
const std::string kSig2 =  // of the one-byte message 0x72
    "kqAJqfDUyrhyDoILX2QlQKKye1QWUD+Ps3YiI+vbadoIWsHkPhWZbkWPNhPQ8R2MOHsurrQwKu6wDSkWErsMAA==";
// TEST 1's secret key with TEST 2's public key: well-formed base64 of 64 bytes, but not a key.
const std::string kMismatched =
    "nWGxne/9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A9QBfD6EOJWpK3CqdNG368nJgszy7ElozAzVXxKvRmDA==";

struct TempDir {
  std::string dir;
  TempDir() {
    char tmpl[] = "/tmp/mk-signing-XXXXXX";
    dir = ::mkdtemp(tmpl);
  }
  ~TempDir() { std::system(("rm -rf " + dir).c_str()); }
  std::string file(const std::string& name) const { return dir + "/" + name; }
  void write(const std::string& name, const std::string& text) const {
    std::ofstream out(file(name), std::ios::binary | std::ios::trunc);
    out << text;
  }
  std::string read(const std::string& name) const {
    std::ifstream in(file(name), std::ios::binary);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
  }
};

TEST(SigningKey, CreatedOnceWithMode0600ThenLoaded) {
  TempDir t;
  const std::string path = t.file("log-signing.key");
  struct stat st {};
  ASSERT_NE(::stat(path.c_str(), &st), 0);
  auto made = SigningKey::load_or_create(path);
  ASSERT_TRUE(made.ok()) << made.error().message;
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0600u);
  EXPECT_TRUE(S_ISREG(st.st_mode));
  const std::string text = t.read("log-signing.key");
  EXPECT_EQ(text.size(), 88u + 1u) << text;  // base64 of 64 bytes, and a newline
  EXPECT_EQ(text.back(), '\n');
  EXPECT_EQ(made->public_key().size(), 8u + 44u) << made->public_key();
  EXPECT_EQ(made->public_key().substr(0, 8), "ed25519:");
  EXPECT_TRUE(valid_public_key(made->public_key()));

  auto loaded = SigningKey::load_or_create(path);
  ASSERT_TRUE(loaded.ok()) << loaded.error().message;
  EXPECT_EQ(loaded->public_key(), made->public_key());
  EXPECT_EQ(t.read("log-signing.key"), text);  // loading does not rewrite it
  // Ed25519 signatures are deterministic: the same key signs the same bytes the same way.
  EXPECT_EQ(loaded->sign("heartbeat"), made->sign("heartbeat"));
  EXPECT_TRUE(verify_signature(made->public_key(), "heartbeat", loaded->sign("heartbeat")));

  // Another file, another key.
  auto other = SigningKey::load_or_create(t.file("other.key"));
  ASSERT_TRUE(other.ok());
  EXPECT_NE(other->public_key(), made->public_key());
}

TEST(SigningKey, Rfc8032Vectors) {
  TempDir t;
  t.write("k1", kKey1);
  t.write("k2", kKey2);
  auto k1 = SigningKey::load_or_create(t.file("k1"));
  auto k2 = SigningKey::load_or_create(t.file("k2"));
  ASSERT_TRUE(k1.ok()) << k1.error().message;
  ASSERT_TRUE(k2.ok()) << k2.error().message;
  EXPECT_EQ(k1->public_key(), kPub1);
  EXPECT_EQ(k2->public_key(), kPub2);
  EXPECT_EQ(k1->sign(""), kSig1);
  EXPECT_EQ(k2->sign("\x72"), kSig2);
  EXPECT_TRUE(verify_signature(kPub1, "", kSig1));
  EXPECT_TRUE(verify_signature(kPub2, "\x72", kSig2));
}

// The file as load_or_create writes it: base64 and a newline.
TEST(SigningKey, KeyFileWithNewlineLoads) {
  TempDir t;
  t.write("k1", kKey1 + "\n");
  auto k = SigningKey::load_or_create(t.file("k1"));
  ASSERT_TRUE(k.ok()) << k.error().message;
  EXPECT_EQ(k->public_key(), kPub1);
  EXPECT_EQ(k->sign(""), kSig1);
}

TEST(SigningKey, SignVerifyRoundTrip) {
  TempDir t;
  auto k = SigningKey::load_or_create(t.file("log-signing.key"));
  ASSERT_TRUE(k.ok());
  const std::string data = syslog::heartbeat_signed_text(
      "mx.example.org", "2025-01-02T03:04:05.678Z", 42, std::string(64, 'a'), "n0nce");
  const std::string sig = k->sign(data);
  EXPECT_EQ(sig.size(), 88u);  // base64 of 64 bytes
  EXPECT_TRUE(verify_signature(k->public_key(), data, sig));
  EXPECT_TRUE(verify_signature(k->public_key(), "", k->sign("")));
  const std::string binary("\0\xff\n", 3);
  EXPECT_TRUE(verify_signature(k->public_key(), binary, k->sign(binary)));
}

TEST(SigningKey, VerifyFails) {
  TempDir t;
  t.write("k1", kKey1);
  auto k = SigningKey::load_or_create(t.file("k1"));
  ASSERT_TRUE(k.ok());
  const std::string data =
      "mailkeep heartbeat 1\nmx.example.org\n2025-01-02T03:04:05.678Z\n42\nabc\n";
  const std::string sig = k->sign(data);
  ASSERT_TRUE(verify_signature(kPub1, data, sig));

  std::string flipped = sig;
  flipped[10] = flipped[10] == 'A' ? 'B' : 'A';
  const std::string pub_raw = kPub1.substr(8);
  struct Case {
    const char* name;
    std::string pub, data, sig;
  };
  const std::vector<Case> cases = {
      {"ChangedData", kPub1,
       "mailkeep heartbeat 1\nmx.example.org\n2025-01-02T03:04:05.678Z\n43\nabc\n", sig},
      {"ExtraByte", kPub1, data + " ", sig},
      {"AnotherKey", kPub2, data, sig},
      {"AnotherKeysSignature", kPub1, "", kSig2},
      {"ChangedSignature", kPub1, data, flipped},
      {"TruncatedSignature", kPub1, data, sig.substr(0, 84)},
      {"SignatureMissingPadding", kPub1, data, sig.substr(0, 86)},
      {"SignatureWithNewline", kPub1, data, sig + "\n"},
      {"GarbageSignature", kPub1, data, "!!!! not base64 !!!!"},
      {"EmptySignature", kPub1, data, ""},
      {"LongerSignature", kPub1, data, sig.substr(0, 84) + "AAAAAAAA"},  // 69 bytes
      {"NoPrefix", pub_raw, data, sig},
      {"OtherPrefix", "ed448:" + pub_raw, data, sig},
      {"UpperCasePrefix", "ED25519:" + pub_raw, data, sig},
      {"ShortPublicKey", "ed25519:" + pub_raw.substr(0, 40) + "AA==", data, sig},  // 31 bytes
      {"LongPublicKey", "ed25519:" + pub_raw.substr(0, 43) + "A", data, sig},      // 33 bytes
      {"EmptyPublicKey", "ed25519:", data, sig},
  };
  for (const auto& c : cases) EXPECT_FALSE(verify_signature(c.pub, c.data, c.sig)) << c.name;
}

TEST(SigningKey, DamagedKeyFileIsAnErrorNamingIt) {
  TempDir t;
  struct Case {
    const char* name;
    std::string text;
    std::string error;  // after the path
  };
  const std::vector<Case> cases = {
      {"Garbage", "this is not a key\n", ": not a log signing key"},
      {"Empty", "", ": not a log signing key"},
      {"Truncated", kKey1.substr(0, 60), ": not a log signing key"},
      {"PublicKeyOnly", kPub1.substr(8), ": not a log signing key"},  // 32 bytes, not 64
      {"TooLong", kKey1 + kKey1, ": not a log signing key"},
      {"OneByteMore", kKey1.substr(0, 84) + "AAA=", ": not a log signing key"},  // 65 bytes
      {"Huge", std::string(5000, 'A'), ": larger than 4096 bytes"},
  };
  for (const auto& c : cases) {
    t.write(c.name, c.text);
    const std::string path = t.file(c.name);
    auto k = SigningKey::load_or_create(path);
    ASSERT_FALSE(k.ok()) << c.name;
    EXPECT_EQ(k.error().message.substr(0, path.size() + c.error.size()), path + c.error)
        << k.error().message;
    EXPECT_EQ(t.read(c.name), c.text)
        << c.name;  // a damaged key is never replaced behind the admin's back
  }
}

// A key file whose two halves do not belong together decodes fine; loading it must still fail,
// or the server would publish a public key that none of its signatures verify under.
TEST(SigningKey, MismatchedHalvesAreAnError) {
  TempDir t;
  t.write("mixed", kMismatched);  // no newline: see KeyFileWithNewlineLoads
  auto k = SigningKey::load_or_create(t.file("mixed"));
  EXPECT_FALSE(k.ok()) << "loaded with public key " << k->public_key()
                       << "; its signature verifies: "
                       << verify_signature(k->public_key(), "x", k->sign("x"));
}

TEST(SigningKey, ValidPublicKey) {
  const std::string raw = kPub1.substr(8);
  struct Case {
    std::string key;
    bool valid;
  };
  const std::vector<Case> cases = {
      {kPub1, true},
      {kPub2, true},
      {"ed25519:" + std::string(43, 'A') + "=", true},  // syntax only: 32 zero bytes
      {"", false},
      {"ed25519:", false},
      {raw, false},
      {"ED25519:" + raw, false},
      {"ed25519 " + raw, false},
      {"ed25519:" + raw.substr(0, 43), false},  // no padding
      {"ed25519:" + raw + "\n", false},
      {" " + kPub1, false},
      {"ed25519:" + raw.substr(0, 40) + "AA==", false},  // 31 bytes
      {"ed25519:" + raw.substr(0, 43) + "A", false},     // 33 bytes
      {"ed25519:" + raw.substr(0, 42) + "_=", false},    // URL-safe alphabet
      {"ed25519:" + kKey1, false},                       // a whole secret key
  };
  for (const auto& c : cases) EXPECT_EQ(valid_public_key(c.key), c.valid) << c.key;
}

}  // namespace
}  // namespace mk::audit
