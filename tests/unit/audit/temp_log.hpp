// A security log in a temporary directory, removed afterwards (the audit tests share it).
#pragma once

#include <stdlib.h>

#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

namespace mk::audit::test {

struct TempLog {
  std::string dir, path;
  TempLog() {
    char tmpl[] = "/tmp/mk-audit-XXXXXX";
    dir = ::mkdtemp(tmpl);
    path = dir + "/security.log";
  }
  ~TempLog() { std::system(("rm -rf " + dir).c_str()); }
  TempLog(const TempLog&) = delete;
  TempLog& operator=(const TempLog&) = delete;
  // The log's lines, without their newlines.
  std::vector<std::string> lines() const {
    std::ifstream in(path);
    std::vector<std::string> out;
    for (std::string l; std::getline(in, l);) out.push_back(l);
    return out;
  }
  void write(const std::vector<std::string>& lines) const {
    std::ofstream out(path, std::ios::trunc);
    for (const auto& l : lines) out << l << "\n";
  }
};

}  // namespace mk::audit::test
