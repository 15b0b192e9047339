#include "filter/model.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <new>
#include <random>
#include <utility>

#include <fmt/format.h>

namespace mk::filter {
namespace {

constexpr char kMagic[8] = {'M', 'K', 'S', 'P', 'A', 'M', '0', '1'};
constexpr std::size_t kHeader = 8 + 4 + 4 + 8 + 8 + 4;

void put(std::string& out, const void* p, std::size_t n) { out.append(static_cast<const char*>(p), n); }

// Each feature's value: n^-1/4 for a message with n features. Unit length (n^-1/2) let the
// words of long messages count for too little; raw counts (1) for too much. Measured on the
// SpamAssassin corpus split (bench/spam): 1-ROCA 0.92% at n^-1/2, 0.76% at n^-1/4.
double norm(std::size_t n) { return 1.0 / std::sqrt(std::sqrt(double(n))); }

// The granule assign() skips: a page (4 KiB) of floats.
constexpr std::size_t kPageFloats = 4096 / sizeof(float);

bool all_zero(const float* p, std::size_t n) {
  for (std::size_t i = 0; i < n; ++i)
    if (p[i] != 0.0f) return false;
  return true;
}

}  // namespace

Model::Table::Table(std::size_t n) : n_(n) {
  if (n == 0) return;
  void* p = ::mmap(nullptr, n * sizeof(float), PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) throw std::bad_alloc();
  // Small pages: with transparent huge pages a first weight would fault in 2 MiB.
  ::madvise(p, n * sizeof(float), MADV_NOHUGEPAGE);
  p_ = static_cast<float*>(p);
}

Model::Table::Table(const Table& other) : Table(other.n_) { assign(0, other.p_, other.n_); }

Model::Table::Table(Table&& other) noexcept : p_(std::exchange(other.p_, nullptr)), n_(std::exchange(other.n_, 0)) {}

Model::Table& Model::Table::operator=(Table other) noexcept {
  std::swap(p_, other.p_);
  std::swap(n_, other.n_);
  return *this;
}

Model::Table::~Table() {
  if (p_) ::munmap(p_, n_ * sizeof(float));
}

void Model::Table::assign(std::size_t at, const float* from, std::size_t n) {
  while (n > 0) {
    // Up to the next page boundary of the table, so a skipped chunk is a page never written.
    const std::size_t k = std::min(n, kPageFloats - at % kPageFloats);
    if (!all_zero(from, k)) std::memcpy(p_ + at, from, k * sizeof(float));
    at += k;
    from += k;
    n -= k;
  }
}

std::size_t Model::Table::resident_bytes() const {
  if (!p_) return 0;
  const auto page = std::size_t(::sysconf(_SC_PAGESIZE));
  const std::size_t pages = (n_ * sizeof(float) + page - 1) / page;
  std::vector<unsigned char> in(pages);
  if (::mincore(p_, n_ * sizeof(float), in.data()) != 0) return n_ * sizeof(float);
  return std::size_t(std::count_if(in.begin(), in.end(), [](unsigned char c) { return c & 1; })) * page;
}

Model& Model::operator=(const Model& other) {
  if (this != &other) {
    Model copy(other);
    *this = std::move(copy);
  }
  return *this;
}

Model::Model(unsigned bits) : bits_(bits), mask_((1u << bits) - 1), w_(std::size_t(1) << bits) {}

double Model::score(const std::vector<std::uint32_t>& features) const {
  if (features.empty()) return bias_;
  double s = 0;
  for (auto f : features) s += w_[slot(f)];
  return bias_ + s * norm(features.size());
}

double Model::probability(double score) { return 1.0 / (1.0 + std::exp(-score)); }

void Model::step(const std::vector<std::uint32_t>& features, bool spam, double rate, double offset) {
  const double g = (spam ? 1.0 : 0.0) - probability(offset + score(features));
  const double x = features.empty() ? 0.0 : norm(features.size());
  const auto d = float(rate * g * x);
  for (auto f : features) w_[slot(f)] += d;
  bias_ += float(rate * g * 0.01);
}

void Model::learn(const std::vector<std::uint32_t>& features, bool spam, bool count) {
  learn_towards(nullptr, features, spam, Schedule{kRate, kMargin, kMaxSteps});
  if (count) this->count(spam);
}

void Model::learn_over(const Model& base, const std::vector<std::uint32_t>& features, bool spam) {
  learn_towards(&base, features, spam, Schedule{kRate, kMargin, kMaxSteps});
  count(spam);
}

int Model::learn_towards(const Model* base, const std::vector<std::uint32_t>& features, bool spam,
                         const Schedule& sch, double* influence_left) {
  const double b = base ? base->score(features) : 0.0;
  // A step at rate r changes each slot of the table by r·g·x times the number c of the
  // message's features folded into it, an L2 norm of r·|g|·x·√(Σc²) (√n when no two share a
  // slot), and the bias by r·g·0.01 (see step()). Counted by slot, not assumed: an attacker
  // can choose words whose hashes collide and aim the whole step at one weight.
  double reach = 0.01;
  if (influence_left && !features.empty()) {
    std::vector<std::uint32_t> slots;
    slots.reserve(features.size());
    for (auto f : features) slots.push_back(slot(f));
    std::sort(slots.begin(), slots.end());
    double squares = 0;
    for (std::size_t i = 0; i < slots.size();) {
      std::size_t j = i;
      while (j < slots.size() && slots[j] == slots[i]) ++j;
      squares += double(j - i) * double(j - i);
      i = j;
    }
    reach += norm(features.size()) * std::sqrt(squares);
  }
  int steps = 0;
  for (; steps < sch.max_steps; ++steps) {
    const double s = b + score(features);
    if (spam ? s >= sch.margin : s <= -sch.margin) break;
    double rate = sch.rate;
    if (influence_left) {
      if (*influence_left <= 0) break;
      const double cost = rate * std::abs((spam ? 1.0 : 0.0) - probability(s)) * reach;
      if (cost > *influence_left) {
        rate *= *influence_left / cost;  // the part of the step that is left
        *influence_left = 0;
      } else {
        *influence_left -= cost;
      }
    }
    step(features, spam, rate, b);
  }
  return steps;
}

Model Model::sum(const Model& a, const Model& b) {
  const Model& big = a.bits_ >= b.bits_ ? a : b;
  const Model& small = a.bits_ >= b.bits_ ? b : a;
  Model out = big;
  for (std::size_t i = 0; i < out.w_.size(); ++i) {
    // Only the slots the small table moves: the big table's untouched pages stay untouched.
    if (const float v = small.w_[i & small.mask_]; v != 0.0f) out.w_[i] += v;
  }
  out.bias_ += small.bias_;
  out.spam_ += small.spam_;
  out.ham_ += small.ham_;
  out.knows_rules_ = a.knows_rules_ && b.knows_rules_;
  return out;
}

Status Model::save(const std::string& path) const {
  // A moved-from model has no table: writing its header alone over a model would lose it.
  if (w_.size() != (std::size_t(1) << bits_)) return err(fmt::format("{}: no model to save", path));
  std::string head;
  put(head, kMagic, 8);
  const std::uint32_t bits = bits_, flags = knows_rules_ ? kRuleFeatures : 0;
  put(head, &bits, 4);
  put(head, &flags, 4);
  put(head, &spam_, 8);
  put(head, &ham_, 8);
  put(head, &bias_, 4);
  const std::string tmp = path + ".tmp";
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return err(fmt::format("{}: {}", tmp, std::strerror(errno)));
  auto write_all = [fd](const char* p, std::size_t n) {
    while (n > 0) {
      const ssize_t k = ::write(fd, p, n);
      if (k < 0 && errno == EINTR) continue;
      if (k <= 0) return false;
      p += k;
      n -= std::size_t(k);
    }
    return true;
  };
  const bool ok = write_all(head.data(), head.size()) &&
                  write_all(reinterpret_cast<const char*>(w_.data()), w_.size() * sizeof(float)) && ::fsync(fd) == 0;
  const int saved = errno;
  ::close(fd);
  if (!ok || ::rename(tmp.c_str(), path.c_str()) != 0) {
    ::unlink(tmp.c_str());
    return err(fmt::format("{}: {}", path, std::strerror(ok ? errno : saved)));
  }
  // The rename itself, durable: a crash now leaves the new model, not the old one or none.
  const auto slash = path.rfind('/');
  const std::string dir = slash == std::string::npos ? "." : slash == 0 ? "/" : path.substr(0, slash);
  if (const int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC); dfd >= 0) {
    ::fsync(dfd);
    ::close(dfd);
  }
  return {};
}

Result<Model> Model::load(const std::string& path) {
  std::FILE* f = std::fopen(path.c_str(), "rbe");
  if (!f) return err(fmt::format("{}: {}", path, std::strerror(errno)));
  char head[kHeader];
  Model m(1);
  bool ok = std::fread(head, 1, kHeader, f) == kHeader && std::memcmp(head, kMagic, 8) == 0;
  std::uint32_t bits = 0;
  if (ok) {
    std::memcpy(&bits, head + 8, 4);
    ok = bits >= 10 && bits <= 28;
  }
  if (ok) {
    m = Model(bits);
    std::uint32_t flags = 0;
    std::memcpy(&flags, head + 12, 4);
    m.knows_rules_ = (flags & kRuleFeatures) != 0;
    std::memcpy(&m.spam_, head + 16, 8);
    std::memcpy(&m.ham_, head + 24, 8);
    std::memcpy(&m.bias_, head + 32, 4);
    // In chunks through a buffer, so the table's pages of zeros are never written (see Table).
    std::vector<float> chunk(16 * kPageFloats);
    for (std::size_t at = 0; ok && at < m.w_.size(); at += chunk.size()) {
      const std::size_t n = std::min(chunk.size(), m.w_.size() - at);
      ok = std::fread(chunk.data(), sizeof(float), n, f) == n;
      if (ok) m.w_.assign(at, chunk.data(), n);
    }
    ok = ok && std::fgetc(f) == EOF;
  }
  std::fclose(f);
  if (!ok) return err(fmt::format("{}: not a mailkeep spam model (or truncated); train again", path));
  return m;
}

void train(Model& model, std::vector<Labelled>& set, int epochs) {
  std::mt19937 rng(20261201);
  const Model::Schedule schedule{Model::kRate, kTrainMargin, Model::kMaxSteps};
  for (int epoch = 0; epoch < epochs; ++epoch) {
    std::shuffle(set.begin(), set.end(), rng);
    for (const auto& m : set) {
      model.learn_towards(nullptr, m.features, m.spam, schedule);
      if (epoch == 0) model.count(m.spam);
    }
  }
}

}  // namespace mk::filter
