#include "web/qr.hpp"

#include <array>
#include <cstdint>
#include <cstdlib>

namespace mk::web {
namespace {

constexpr int kMaxVersion = 20;
// ISO/IEC 18004 Table 9, level M, versions 1..20: error correction codewords per block and
// the number of blocks.
constexpr std::array<int, kMaxVersion + 1> kEccPerBlock = {0,  10, 16, 26, 18, 24, 16, 18, 22, 22, 26,
                                                           30, 22, 22, 24, 24, 28, 28, 26, 26, 26};
constexpr std::array<int, kMaxVersion + 1> kBlocks = {0, 1, 1, 1, 2, 2, 4, 4, 4, 5, 5, 5, 8, 9, 9, 10, 10, 11, 13, 14, 16};
constexpr int kQuietZone = 4;

// Modules that carry data (not function patterns), for a version.
int raw_data_modules(int v) {
  int n = (16 * v + 128) * v + 64;
  if (v >= 2) {
    const int align = v / 7 + 2;
    n -= (25 * align - 10) * align - 55;
    if (v >= 7) n -= 36;  // two version information areas
  }
  return n;
}

int data_codewords(int v) { return raw_data_modules(v) / 8 - kEccPerBlock[v] * kBlocks[v]; }

// GF(256) with the polynomial 0x11D.
std::uint8_t gf_mul(std::uint8_t a, std::uint8_t b) {
  int r = 0;
  for (int i = 7; i >= 0; --i) {
    r = (r << 1) ^ ((r >> 7) * 0x11D);
    r ^= ((b >> i) & 1) * a;
  }
  return std::uint8_t(r);
}

// The Reed-Solomon remainder of `data` for a generator of `degree`.
std::vector<std::uint8_t> rs_remainder(const std::vector<std::uint8_t>& data, int degree) {
  // Generator (x - a^0)(x - a^1)...(x - a^(degree-1)), leading coefficient dropped.
  std::vector<std::uint8_t> gen(std::size_t(degree), 0);
  gen.back() = 1;
  std::uint8_t root = 1;
  for (int i = 0; i < degree; ++i) {
    for (std::size_t j = 0; j < gen.size(); ++j) {
      gen[j] = gf_mul(gen[j], root);
      if (j + 1 < gen.size()) gen[j] ^= gen[j + 1];
    }
    root = gf_mul(root, 2);
  }
  std::vector<std::uint8_t> rem(std::size_t(degree), 0);
  for (std::uint8_t b : data) {
    const std::uint8_t factor = b ^ rem.front();
    rem.erase(rem.begin());
    rem.push_back(0);
    for (std::size_t j = 0; j < rem.size(); ++j) rem[j] ^= gf_mul(gen[j], factor);
  }
  return rem;
}

class Grid {
 public:
  explicit Grid(int version) : v_(version), n_(version * 4 + 17), dark_(cells(), false), fixed_(cells(), false) {}

  int size() const { return n_; }
  bool dark(int x, int y) const { return dark_[idx(x, y)]; }
  void set(int x, int y, bool d) {
    dark_[idx(x, y)] = d;
    fixed_[idx(x, y)] = true;
  }

  void draw_function_patterns() {
    for (int i = 0; i < n_; ++i) {  // timing patterns
      set(6, i, i % 2 == 0);
      set(i, 6, i % 2 == 0);
    }
    finder(3, 3);
    finder(n_ - 4, 3);
    finder(3, n_ - 4);
    const auto pos = alignment_positions();
    for (std::size_t i = 0; i < pos.size(); ++i)
      for (std::size_t j = 0; j < pos.size(); ++j) {
        const bool corner = (i == 0 && j == 0) || (i == 0 && j + 1 == pos.size()) || (i + 1 == pos.size() && j == 0);
        if (!corner) alignment(pos[i], pos[j]);
      }
    format_bits(0);  // reserved now, written for real once the mask is chosen
    version_bits();
  }

  // Places the codewords in the two-column zigzag from the bottom right, skipping function
  // modules and the vertical timing column (§7.7.3).
  void place(const std::vector<std::uint8_t>& codewords) {
    std::size_t bit = 0;
    const std::size_t total = codewords.size() * 8;
    for (int right = n_ - 1; right >= 1; right -= 2) {
      if (right == 6) right = 5;
      for (int k = 0; k < n_; ++k) {
        for (int c = 0; c < 2; ++c) {
          const int x = right - c;
          const bool up = ((right + 1) & 2) == 0;
          const int y = up ? n_ - 1 - k : k;
          if (fixed_[idx(x, y)]) continue;
          if (bit < total) dark_[idx(x, y)] = (codewords[bit >> 3] >> (7 - (bit & 7))) & 1;
          ++bit;  // remainder bits stay light
        }
      }
    }
  }

  void apply_mask(int mask) {
    for (int y = 0; y < n_; ++y)
      for (int x = 0; x < n_; ++x) {
        if (fixed_[idx(x, y)]) continue;
        bool flip = false;
        switch (mask) {
          case 0: flip = (x + y) % 2 == 0; break;
          case 1: flip = y % 2 == 0; break;
          case 2: flip = x % 3 == 0; break;
          case 3: flip = (x + y) % 3 == 0; break;
          case 4: flip = (x / 3 + y / 2) % 2 == 0; break;
          case 5: flip = x * y % 2 + x * y % 3 == 0; break;
          case 6: flip = (x * y % 2 + x * y % 3) % 2 == 0; break;
          default: flip = ((x + y) % 2 + x * y % 3) % 2 == 0; break;
        }
        if (flip) dark_[idx(x, y)] = !dark_[idx(x, y)];
      }
  }

  // Level M (bits 00) and the mask, BCH(15,5) with generator 0x537, XOR 0x5412 (§7.9.1).
  void format_bits(int mask) {
    const int data = (0 << 3) | mask;
    int rem = data;
    for (int i = 0; i < 10; ++i) rem = (rem << 1) ^ ((rem >> 9) * 0x537);
    const int bits = ((data << 10) | rem) ^ 0x5412;
    auto b = [&](int i) { return ((bits >> i) & 1) != 0; };
    for (int i = 0; i <= 5; ++i) set(8, i, b(i));
    set(8, 7, b(6));
    set(8, 8, b(7));
    set(7, 8, b(8));
    for (int i = 9; i < 15; ++i) set(14 - i, 8, b(i));
    for (int i = 0; i < 8; ++i) set(n_ - 1 - i, 8, b(i));
    for (int i = 8; i < 15; ++i) set(8, n_ - 15 + i, b(i));
    set(8, n_ - 8, true);  // the dark module
  }

  // Penalty score of §7.8.3 (rules N1 to N4).
  long penalty() const {
    long score = 0;
    auto runs = [&](bool rows) {
      for (int a = 0; a < n_; ++a) {
        int run = 0;
        bool color = false;
        std::vector<bool> line(static_cast<std::size_t>(n_));
        for (int b = 0; b < n_; ++b) line[std::size_t(b)] = rows ? dark(b, a) : dark(a, b);
        for (int b = 0; b < n_; ++b) {
          if (b == 0 || line[std::size_t(b)] != color) {
            if (run >= 5) score += 3 + (run - 5);
            color = line[std::size_t(b)];
            run = 1;
          } else {
            ++run;
          }
        }
        if (run >= 5) score += 3 + (run - 5);
        // 1:1:3:1:1 finder-like patterns with four light modules on one side.
        for (int b = 0; b + 10 < n_; ++b) {
          static constexpr bool kA[11] = {true, false, true, true, true, false, true, false, false, false, false};
          static constexpr bool kB[11] = {false, false, false, false, true, false, true, true, true, false, true};
          bool ma = true, mb = true;
          for (int k = 0; k < 11; ++k) {
            ma &= line[std::size_t(b + k)] == kA[k];
            mb &= line[std::size_t(b + k)] == kB[k];
          }
          score += 40 * (int(ma) + int(mb));
        }
      }
    };
    runs(true);
    runs(false);
    for (int y = 0; y + 1 < n_; ++y)
      for (int x = 0; x + 1 < n_; ++x) {
        const bool c = dark(x, y);
        if (c == dark(x + 1, y) && c == dark(x, y + 1) && c == dark(x + 1, y + 1)) score += 3;
      }
    long darks = 0;
    for (bool d : dark_) darks += d;
    const long total = long(dark_.size());
    // 10 points for every 5% the dark share is away from 50%.
    const long k = (std::labs(darks * 20 - total * 10) + total - 1) / total - 1;
    score += 10 * std::max(0L, k);
    return score;
  }

  const std::vector<bool>& modules() const { return dark_; }

 private:
  std::size_t cells() const { return std::size_t(n_) * std::size_t(n_); }
  std::size_t idx(int x, int y) const { return std::size_t(y) * std::size_t(n_) + std::size_t(x); }

  void finder(int cx, int cy) {
    for (int dy = -4; dy <= 4; ++dy)
      for (int dx = -4; dx <= 4; ++dx) {
        const int x = cx + dx, y = cy + dy;
        if (x < 0 || y < 0 || x >= n_ || y >= n_) continue;
        const int d = std::max(std::abs(dx), std::abs(dy));
        set(x, y, d != 2 && d != 4);  // separator (4) and the ring at 2 are light
      }
  }

  void alignment(int cx, int cy) {
    for (int dy = -2; dy <= 2; ++dy)
      for (int dx = -2; dx <= 2; ++dx) set(cx + dx, cy + dy, std::max(std::abs(dx), std::abs(dy)) != 1);
  }

  std::vector<int> alignment_positions() const {
    if (v_ == 1) return {};
    const int count = v_ / 7 + 2;
    const int step = (v_ * 4 + count * 2 + 1) / (count * 2 - 2) * 2;
    std::vector<int> out(static_cast<std::size_t>(count));
    out[0] = 6;
    for (int i = count - 1, pos = n_ - 7; i >= 1; --i, pos -= step) out[std::size_t(i)] = pos;
    return out;
  }

  // Versions 7 and up: the version in BCH(18,6) with generator 0x1F25 (§7.9.2).
  void version_bits() {
    if (v_ < 7) return;
    int rem = v_;
    for (int i = 0; i < 12; ++i) rem = (rem << 1) ^ ((rem >> 11) * 0x1F25);
    const long bits = long(v_) << 12 | rem;
    for (int i = 0; i < 18; ++i) {
      const bool d = ((bits >> i) & 1) != 0;
      const int a = n_ - 11 + i % 3, b = i / 3;
      set(a, b, d);
      set(b, a, d);
    }
  }

  int v_;
  int n_;
  std::vector<bool> dark_;
  std::vector<bool> fixed_;
};

}  // namespace

std::optional<QrCode> make_qr(std::string_view text) {
  int version = 0;
  for (int v = 1; v <= kMaxVersion; ++v) {
    const int count_bits = v < 10 ? 8 : 16;
    if (4 + count_bits + 8 * int(text.size()) <= data_codewords(v) * 8) {
      version = v;
      break;
    }
  }
  if (version == 0) return std::nullopt;
  // The bit stream: byte mode, the count, the bytes, a terminator, then padding (§7.4).
  std::vector<bool> bits;
  auto put = [&bits](unsigned value, int n) {
    for (int i = n - 1; i >= 0; --i) bits.push_back(((value >> i) & 1) != 0);
  };
  put(0b0100, 4);
  put(unsigned(text.size()), version < 10 ? 8 : 16);
  for (char c : text) put(static_cast<unsigned char>(c), 8);
  const std::size_t capacity = std::size_t(data_codewords(version)) * 8;
  put(0, int(std::min<std::size_t>(4, capacity - bits.size())));
  while (bits.size() % 8) bits.push_back(false);
  std::vector<std::uint8_t> data;
  for (std::size_t i = 0; i < bits.size(); i += 8) {
    std::uint8_t b = 0;
    for (std::size_t k = 0; k < 8; ++k) b = std::uint8_t(b << 1 | int(bits[i + k]));
    data.push_back(b);
  }
  for (std::uint8_t pad = 0xEC; data.size() < std::size_t(data_codewords(version)); pad ^= 0xEC ^ 0x11) data.push_back(pad);

  // Blocks: the short ones first, each with its error correction; then interleaved (§7.6).
  const int blocks = kBlocks[version], ecc = kEccPerBlock[version];
  const int total = raw_data_modules(version) / 8;
  const int short_blocks = blocks - total % blocks;
  const int short_len = total / blocks - ecc;  // data codewords in a short block
  std::vector<std::vector<std::uint8_t>> data_blocks, ecc_blocks;
  std::size_t at = 0;
  for (int i = 0; i < blocks; ++i) {
    const std::size_t len = std::size_t(short_len + (i < short_blocks ? 0 : 1));
    data_blocks.emplace_back(data.begin() + long(at), data.begin() + long(at + len));
    at += len;
    ecc_blocks.push_back(rs_remainder(data_blocks.back(), ecc));
  }
  std::vector<std::uint8_t> codewords;
  for (int i = 0; i <= short_len; ++i)
    for (const auto& b : data_blocks)
      if (std::size_t(i) < b.size()) codewords.push_back(b[std::size_t(i)]);
  for (int i = 0; i < ecc; ++i)
    for (const auto& b : ecc_blocks) codewords.push_back(b[std::size_t(i)]);

  Grid base(version);
  base.draw_function_patterns();
  base.place(codewords);
  int best_mask = 0;
  long best = -1;
  for (int m = 0; m < 8; ++m) {
    Grid g = base;
    g.apply_mask(m);
    g.format_bits(m);
    const long p = g.penalty();
    if (best < 0 || p < best) best = p, best_mask = m;
  }
  base.apply_mask(best_mask);
  base.format_bits(best_mask);
  return QrCode{base.size(), base.modules()};
}

std::string qr_svg(const QrCode& qr) {
  const int side = qr.size + 2 * kQuietZone;
  std::string path;
  for (int y = 0; y < qr.size; ++y)
    for (int x = 0; x < qr.size; ++x)
      if (qr.dark(x, y)) path += "M" + std::to_string(x + kQuietZone) + "," + std::to_string(y + kQuietZone) + "h1v1h-1z";
  return "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 " + std::to_string(side) + " " +
         std::to_string(side) + "\" shape-rendering=\"crispEdges\"><rect width=\"100%\" height=\"100%\" fill=\"#fff\"/>" +
         "<path fill=\"#000\" d=\"" + path + "\"/></svg>";
}

}  // namespace mk::web
