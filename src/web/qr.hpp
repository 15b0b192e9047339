// web/qr.hpp: QR codes for the TOTP enrolment page (an otpauth:// URI an authenticator app
// scans), drawn as SVG, since no package of ours draws them.
//
// Byte mode, error correction level M, versions 1 to 20 (up to 666 bytes: an otpauth URI is
// about 120 plus twice the host name and the address), the mask with the lowest penalty.
// STANDARDS: ISO/IEC 18004:2015 (QR Code model 2): §7.4.5 byte mode, §7.5 Reed-Solomon over
// GF(256) with x^8+x^4+x^3+x^2+1, Table 9 (blocks of level M), §7.7 placement, §7.8 masks
// and penalties, §7.9 format and version information (BCH codes).
// SECURITY: a pure function of its input, bounded by the largest version.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace mk::web {

struct QrCode {
  int size = 0;                 // modules per side (21 for version 1)
  std::vector<bool> modules;    // row-major, true = dark
  bool dark(int x, int y) const { return modules[std::size_t(y) * std::size_t(size) + std::size_t(x)]; }
};

inline constexpr std::size_t kMaxQrBytes = 666;  // version 20, level M

// nullopt when the text is longer than kMaxQrBytes.
std::optional<QrCode> make_qr(std::string_view text);

// An SVG image of the code with the quiet zone the standard asks (4 modules).
std::string qr_svg(const QrCode& qr);

}  // namespace mk::web
