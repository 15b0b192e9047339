// QR codes (web/qr.hpp) read back by a decoder we did not write: zbarimg (zbar-tools), from
// a PBM image of the code, for every version the enrolment can need and for each mask.
#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <set>
#include <string>

#include "web/qr.hpp"

namespace mk::web {
namespace {

// Writes the code as a PBM image, `scale` pixels a module, with the quiet zone.
std::string write_pbm(const QrCode& qr, const std::string& path, int scale = 4) {
  const int quiet = 4, side = (qr.size + 2 * quiet) * scale;
  std::ofstream out(path);
  out << "P1\n" << side << " " << side << "\n";
  for (int py = 0; py < side; ++py) {
    for (int px = 0; px < side; ++px) {
      const int x = px / scale - quiet, y = py / scale - quiet;
      const bool dark = x >= 0 && y >= 0 && x < qr.size && y < qr.size && qr.dark(x, y);
      out << (dark ? '1' : '0');
    }
    out << "\n";
  }
  return path;
}

std::string zbar(const std::string& image) {
  std::string cmd = "zbarimg --quiet --raw -Sdisable -Sqrcode.enable " + image + " 2>/dev/null";
  FILE* p = ::popen(cmd.c_str(), "r");
  if (!p) return "popen failed";
  std::string out;
  char buf[4096];
  while (std::size_t n = std::fread(buf, 1, sizeof buf, p)) out.append(buf, n);
  ::pclose(p);
  while (!out.empty() && out.back() == '\n') out.pop_back();
  return out;
}

TEST(Qr, ZbarReadsBackEveryVersion) {
  char tmpl[] = "/tmp/mk-qr-XXXXXX";
  const std::string dir = ::mkdtemp(tmpl);
  std::set<int> sizes;
  // Lengths that land in versions 1 to 20 (level M byte capacities 14, 26, 42, 62, 84, 106,
  // 122, 152, 180, 213, 251, 287, 331, 362, 412, 450, 504, 560, 624, 666).
  for (std::size_t len : {1u, 14u, 20u, 40u, 60u, 80u, 100u, 120u, 150u, 178u, 213u, 250u, 280u, 330u, 360u, 410u,
                          450u, 500u, 560u, 620u, 666u}) {
    std::string text;
    for (std::size_t i = 0; i < len; ++i) text += char('A' + (i * 7 + len) % 26);
    auto qr = make_qr(text);
    ASSERT_TRUE(qr.has_value()) << len;
    sizes.insert(qr->size);
    EXPECT_EQ(zbar(write_pbm(*qr, dir + "/q" + std::to_string(len) + ".pbm")), text) << "length " << len;
  }
  std::set<int> want;
  for (int v = 1; v <= 20; ++v) want.insert(17 + 4 * v);
  EXPECT_EQ(sizes, want);
  // An enrolment link as the account page makes it.
  const std::string uri =
      "otpauth://totp/mailkeep%20mail.example.org:alice%40example.org?secret=JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
      "&issuer=mailkeep%20mail.example.org&algorithm=SHA1&digits=6&period=30";
  auto qr = make_qr(uri);
  ASSERT_TRUE(qr.has_value());
  EXPECT_EQ(zbar(write_pbm(*qr, dir + "/uri.pbm")), uri);
  std::system(("rm -rf " + dir).c_str());
}

TEST(Qr, TooLongIsRefusedAndTheSvgIsWellFormed) {
  EXPECT_FALSE(make_qr(std::string(kMaxQrBytes + 1, 'x')).has_value());
  auto qr = make_qr("hello");
  ASSERT_TRUE(qr.has_value());
  EXPECT_EQ(qr->size, 21);
  const std::string svg = qr_svg(*qr);
  EXPECT_TRUE(svg.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 29 29\""));
  EXPECT_TRUE(svg.ends_with("\"/></svg>"));
  // The finder pattern's top-left module (with the 4-module quiet zone) is dark.
  EXPECT_NE(svg.find("M4,4h1v1h-1z"), std::string::npos);
}

}  // namespace
}  // namespace mk::web
