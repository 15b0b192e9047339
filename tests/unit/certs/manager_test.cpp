// Tests for certs/manager.hpp with a scripted CA (an Issuer that signs what it is asked
// for, or fails) and a mock DNS: what is ordered, when, what the listeners' store presents
// afterwards, what is kept on disk, and the reload of certificate files replaced on disk.
#include "certs/manager.hpp"

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <unistd.h>

#include <chrono>
#include <deque>
#include <functional>
#include <string>

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>

#include "base/read_file.hpp"
#include "base/write_file.hpp"
#include "dns/mock.hpp"
#include "log_capture.hpp"

namespace mk::certs {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;
constexpr long kDay = 24 * 3600;

std::string new_key_pem() {
  EVP_PKEY* k = EVP_EC_gen("P-256");
  BIO* b = BIO_new(BIO_s_mem());
  PEM_write_bio_PrivateKey(b, k, nullptr, nullptr, 0, nullptr, nullptr);
  char* p = nullptr;
  const long n = BIO_get_mem_data(b, &p);
  std::string out(p, std::size_t(n));
  BIO_free(b);
  EVP_PKEY_free(k);
  return out;
}

// A certificate for `names` on `key_pem`, valid from `from` for `days`, naming a CA as its
// issuer (the manager takes the CA's answer as it is; whether the chain verifies is the
// clients' concern), or self-signed.
std::string cert_pem(const std::vector<std::string>& names, const std::string& key_pem, long from, long days,
                     bool self_signed = false) {
  BIO* kb = BIO_new_mem_buf(key_pem.data(), int(key_pem.size()));
  EVP_PKEY* key = PEM_read_bio_PrivateKey(kb, nullptr, nullptr, nullptr);
  BIO_free(kb);
  X509* x = X509_new();
  X509_set_version(x, 2);
  ASN1_INTEGER_set(X509_get_serialNumber(x), 7);
  X509_time_adj_ex(X509_getm_notBefore(x), 0, from, nullptr);
  X509_time_adj_ex(X509_getm_notAfter(x), int(days), from, nullptr);
  X509_set_pubkey(x, key);
  X509_NAME_add_entry_by_txt(X509_get_subject_name(x), "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>(names[0].c_str()), -1, -1, 0);
  X509_NAME* issuer = X509_NAME_new();
  X509_NAME_add_entry_by_txt(issuer, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>("Test CA"), -1, -1, 0);
  X509_set_issuer_name(x, self_signed ? X509_get_subject_name(x) : issuer);
  X509_NAME_free(issuer);
  std::string san;
  for (const auto& n : names) san += (san.empty() ? "DNS:" : ",DNS:") + n;
  X509V3_CTX v3;
  X509V3_set_ctx_nodb(&v3);
  X509V3_set_ctx(&v3, x, x, nullptr, nullptr, 0);
  X509_EXTENSION* e = X509V3_EXT_conf_nid(nullptr, &v3, NID_subject_alt_name, san.c_str());
  X509_add_ext(x, e, -1);
  X509_EXTENSION_free(e);
  X509_sign(x, key, EVP_sha256());
  BIO* b = BIO_new(BIO_s_mem());
  PEM_write_bio_X509(b, x);
  char* p = nullptr;
  const long n = BIO_get_mem_data(b, &p);
  std::string out(p, std::size_t(n));
  BIO_free(b);
  X509_free(x);
  EVP_PKEY_free(key);
  return out;
}

// A CA that answers from a script: each issue() takes the next step (fail, or sign).
class ScriptedCa : public Issuer {
 public:
  struct Step {
    bool ok = true;
    std::string error;
    long days = 90;
    bool names_failed = false;
    std::function<void()> meanwhile;  // runs while the CA "works" (a key rollover...)
  };
  static Step signs(long days = 90, std::function<void()> meanwhile = {}) { return {true, "", days, false, std::move(meanwhile)}; }
  static Step fails(std::string error, bool names_failed = false, std::function<void()> meanwhile = {}) {
    return {false, std::move(error), 90, names_failed, std::move(meanwhile)};
  }
  std::deque<Step> steps;
  std::vector<std::vector<std::string>> asked;
  boost::asio::awaitable<IssueResult> issue(std::vector<std::string> names, std::string key_pem) override {
    asked.push_back(names);
    IssueResult r;
    Step s = steps.empty() ? Step{} : steps.front();
    if (!steps.empty()) steps.pop_front();
    if (s.meanwhile) s.meanwhile();
    r.names_failed = s.names_failed;
    if (!s.ok) r.error = s.error;
    else r.chain_pem = cert_pem(names, key_pem, -60, s.days);
    co_return r;
  }
};

class ManagerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = ::testing::TempDir() + "certs-manager-" + std::to_string(::getpid()) + "-" +
           ::testing::UnitTest::GetInstance()->current_test_info()->name();
    ::mkdir(dir_.c_str(), 0700);
    capture_.emplace(dir_ + "/log");
    key_ = new_key_pem();
    ASSERT_TRUE(write_file_atomic(dir_ + "/key.pem", key_, 0600).ok());
    cfg_.hostname = "mail.example.org";
    cfg_.chain_file = dir_ + "/acme-cert.pem";
    cfg_.key_file = dir_ + "/key.pem";
    cfg_.domains = [this] { return domains_; };
    cfg_.recheck = 50ms;
    cfg_.file_recheck = 20ms;
    cfg_.backoff = [this](int n, std::optional<std::chrono::seconds>) {
      waits_.push_back(n);
      return Duration(10ms);
    };
    dns_.add_address("mail.example.org", "192.0.2.10");
    dns_.add_cname("mta-sts.example.org", "mail.example.org");
    // autoconfig./autodiscover. not published (yet)
  }
  void TearDown() override {
    manager_.reset();
    capture_.reset();
    for (const char* f : {"log", "acme-cert.pem", "key.pem", "file-cert.pem", "file-key.pem"})
      ::unlink((dir_ + "/" + f).c_str());
    ::rmdir(dir_.c_str());
  }
  Manager& manager(Issuer* issuer = nullptr) {
    manager_ = std::make_unique<Manager>(io_, cfg_, store_, issuer ? issuer : &ca_, &dns_, capture_->logger());
    return *manager_;
  }
  // Runs the io_context until `done` or a hang guard; then stops the manager.
  bool run_until(const std::function<bool()>& done) {
    io_.restart();
    const auto guard = std::chrono::steady_clock::now() + 20s;  // a hang guard
    while (!done() && std::chrono::steady_clock::now() < guard) io_.run_for(5ms);
    const bool ok = done();
    if (manager_) manager_->stop();
    io_.restart();
    io_.run_for(50ms);
    return ok;
  }
  // Lets the manager run for a while (several of its rechecks) and stops it.
  void run_a_while() {
    io_.restart();
    io_.run_for(300ms);
    if (manager_) manager_->stop();
    io_.restart();
    io_.run_for(50ms);
  }
  std::vector<std::string> presented() {
    auto i = store_.current();
    return i ? i->names : std::vector<std::string>{};
  }

  std::string dir_, key_;
  asio::io_context io_;
  ManagerConfig cfg_;
  net::CertStore store_;
  dns::MockLookup dns_;
  ScriptedCa ca_;
  std::vector<std::string> domains_{"example.org"};
  std::vector<int> waits_;
  std::unique_ptr<Manager> manager_;
  std::optional<test::LogCapture> capture_;
};

TEST_F(ManagerTest, WithoutACertificateItOrdersTheNamesThatResolve) {
  manager().start();
  ASSERT_TRUE(run_until([&] { return manager_->issued() == 1; })) << capture_->text();
  EXPECT_EQ(ca_.asked, (std::vector<std::vector<std::string>>{{"mail.example.org", "mta-sts.example.org"}}));
  EXPECT_EQ(presented(), (std::vector<std::string>{"mail.example.org", "mta-sts.example.org"}));
  auto stored = read_file(cfg_.chain_file, 1 << 20);
  ASSERT_TRUE(stored.ok());
  EXPECT_NE(stored->find("BEGIN CERTIFICATE"), std::string::npos);
  EXPECT_NE(capture_->text().find("event=tls.certificate_issued"), std::string::npos);
}

TEST_F(ManagerTest, AValidStoredCertificateIsPresentedAndNotOrderedAgain) {
  ASSERT_TRUE(write_file_atomic(cfg_.chain_file, cert_pem({"mail.example.org", "mta-sts.example.org"}, key_, -kDay, 90), 0644).ok());
  manager().start();
  EXPECT_EQ(presented(), (std::vector<std::string>{"mail.example.org", "mta-sts.example.org"}));  // at once
  run_a_while();  // it has its chances to order
  EXPECT_TRUE(ca_.asked.empty());
}

TEST_F(ManagerTest, ASelfSignedCertificateIsReplacedAtOnce) {
  // What the server makes for its key before the CA has answered.
  ASSERT_TRUE(write_file_atomic(cfg_.chain_file, cert_pem({"mail.example.org", "mta-sts.example.org"}, key_, -kDay, 365, true), 0644).ok());
  manager().start();
  ASSERT_TRUE(run_until([&] { return manager_->issued() == 1; }));
  EXPECT_FALSE(store_.current()->self_signed);
}

TEST_F(ManagerTest, ItRenewsWhenAThirdOfTheLifetimeIsLeft) {
  // 90 days, 20 left: past the renewal point (30 left).
  ASSERT_TRUE(write_file_atomic(cfg_.chain_file, cert_pem({"mail.example.org", "mta-sts.example.org"}, key_, -70 * kDay, 90), 0644).ok());
  manager().start();
  ASSERT_TRUE(run_until([&] { return manager_->issued() == 1; }));
  auto info = store_.current();
  ASSERT_TRUE(info);
  EXPECT_GT(info->not_after, std::int64_t(::time(nullptr)) + 80 * kDay);
}

TEST_F(ManagerTest, ANameThatStartsToResolveGetsANewCertificate) {
  ASSERT_TRUE(write_file_atomic(cfg_.chain_file, cert_pem({"mail.example.org", "mta-sts.example.org"}, key_, -kDay, 90), 0644).ok());
  manager().start();
  run_a_while();
  EXPECT_TRUE(ca_.asked.empty());
  dns_.add_cname("autoconfig.example.org", "mail.example.org");  // published now
  manager().start();
  ASSERT_TRUE(run_until([&] { return manager_->issued() == 1; }));
  EXPECT_EQ(ca_.asked.back(),
            (std::vector<std::string>{"autoconfig.example.org", "mail.example.org", "mta-sts.example.org"}));
}

TEST_F(ManagerTest, AfterAKeyRolloverTheCertificateFollowsTheKey) {
  ASSERT_TRUE(write_file_atomic(cfg_.chain_file, cert_pem({"mail.example.org", "mta-sts.example.org"}, new_key_pem(), -kDay, 90), 0644).ok());
  manager().start();
  ASSERT_TRUE(run_until([&] { return manager_->issued() == 1; }));
  auto chain = read_file(cfg_.chain_file, 1 << 20);
  EXPECT_TRUE(store_.set(*chain, key_).ok());  // the stored chain is for the key in use
}

TEST_F(ManagerTest, FailuresBackOffAndKeepTheCurrentCertificate) {
  // A certificate to keep: 90 days, 20 left, due for renewal.
  ASSERT_TRUE(write_file_atomic(cfg_.chain_file, cert_pem({"mail.example.org", "mta-sts.example.org"}, key_, -70 * kDay, 90), 0644).ok());
  const auto old_end = [&] { return store_.current() ? store_.current()->not_after : 0; };
  std::vector<std::int64_t> presented_while_failing;
  ca_.steps = {ScriptedCa::fails("urn:ietf:params:acme:error:rateLimited: too many certificates"),
               ScriptedCa::fails("connection refused", false, [&] { presented_while_failing.push_back(old_end()); }),
               ScriptedCa::signs()};
  manager().start();
  const std::int64_t before = old_end();
  ASSERT_GT(before, 0);
  ASSERT_TRUE(run_until([&] { return manager_->issued() == 1; }));
  EXPECT_EQ(presented_while_failing, std::vector<std::int64_t>{before});  // the old one, meanwhile
  EXPECT_GT(old_end(), before);
  EXPECT_EQ(ca_.asked.size(), 3u);
  EXPECT_EQ(waits_, (std::vector<int>{1, 2}));  // the 1st and 2nd failure in a row
  const std::string log = capture_->text();
  EXPECT_NE(log.find("event=tls.acme_failed"), std::string::npos);
  EXPECT_NE(log.find("rateLimited"), std::string::npos);
}

TEST_F(ManagerTest, ANameThatPointsElsewhereIsLeftOut) {
  dns_.add_address("autoconfig.example.org", "198.51.100.9");  // the website's host, say
  manager().start();
  ASSERT_TRUE(run_until([&] { return manager_->issued() == 1; }));
  EXPECT_EQ(ca_.asked.back(), (std::vector<std::string>{"mail.example.org", "mta-sts.example.org"}));
}

TEST_F(ManagerTest, WhenTheWebNamesFailTheHostnameGetsItsCertificate) {
  ca_.steps = {ScriptedCa::fails("challenge_failed: mta-sts.example.org: http-01: connection refused", true),
               ScriptedCa::signs()};
  manager().start();
  ASSERT_TRUE(run_until([&] { return manager_->issued() == 1; }));
  EXPECT_EQ(ca_.asked, (std::vector<std::vector<std::string>>{{"mail.example.org", "mta-sts.example.org"},
                                                              {"mail.example.org"}}));
  EXPECT_TRUE(waits_.empty());  // at once, not after a backoff
  EXPECT_NE(capture_->text().find("event=tls.acme_names_set_aside"), std::string::npos);
}

TEST_F(ManagerTest, ACertificateForAKeyRolledOverMeanwhileIsNotKept) {
  const std::string rolled = new_key_pem();
  ca_.steps = {ScriptedCa::signs(90, [&] { ASSERT_TRUE(write_file_atomic(cfg_.key_file, rolled, 0600).ok()); }),
               ScriptedCa::signs()};
  manager().start();
  ASSERT_TRUE(run_until([&] { return manager_->issued() == 1; }));
  EXPECT_EQ(ca_.asked.size(), 2u);
  auto chain = read_file(cfg_.chain_file, 1 << 20);
  ASSERT_TRUE(chain.ok());
  net::CertStore check;
  EXPECT_TRUE(check.set(*chain, rolled).ok());  // the chain on disk is the new key's
}

TEST_F(ManagerTest, ACertificateThatEndsTooSoonIsRefused) {
  ca_.steps = {ScriptedCa::signs(0), ScriptedCa::signs()};  // the first ends as it arrives
  manager().start();
  ASSERT_TRUE(run_until([&] { return manager_->issued() == 1; }));
  EXPECT_EQ(ca_.asked.size(), 2u);
  EXPECT_NE(capture_->text().find("ends too soon"), std::string::npos);
  EXPECT_GT(store_.current()->not_after, std::int64_t(::time(nullptr)) + 80 * kDay);
}

TEST_F(ManagerTest, NothingIsOrderedWhileTheHostnameDoesNotResolve) {
  cfg_.hostname = "new.example.org";
  manager().start();
  run_a_while();
  EXPECT_TRUE(ca_.asked.empty());
  EXPECT_NE(capture_->text().find("event=tls.acme_waiting hostname=new.example.org"), std::string::npos);
}

TEST_F(ManagerTest, CertificateFilesReplacedOnDiskAreReloaded) {
  const std::string cert = dir_ + "/file-cert.pem", key = dir_ + "/file-key.pem";
  ASSERT_TRUE(write_file_atomic(cert, cert_pem({"old.example.org"}, key_, -kDay, 90), 0644).ok());
  ASSERT_TRUE(write_file_atomic(key, key_, 0600).ok());
  ASSERT_TRUE(store_.load(cert, key).ok());
  cfg_.watch_cert = cert;
  cfg_.watch_key = key;
  auto& m = manager(nullptr);
  m.start();
  io_.run_for(50ms);
  // certbot renews: a new key and certificate, the certificate written first.
  const std::string key2 = new_key_pem();
  ASSERT_TRUE(write_file_atomic(cert, cert_pem({"new.example.org"}, key2, -kDay, 90), 0644).ok());
  io_.run_for(60ms);
  EXPECT_EQ(presented(), std::vector<std::string>{"old.example.org"});  // half-done: the old one stays
  ASSERT_TRUE(write_file_atomic(key, key2, 0600).ok());
  ASSERT_TRUE(run_until([&] { return presented() == std::vector<std::string>{"new.example.org"}; }))
      << capture_->text();
  EXPECT_NE(capture_->text().find("event=tls.certificate_reloaded"), std::string::npos);
}

}  // namespace
}  // namespace mk::certs
