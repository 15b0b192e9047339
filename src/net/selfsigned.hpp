// net/selfsigned.hpp: a self-signed certificate for `mailkeep dev` (and first starts before
// a real certificate exists). ECDSA P-256, SHA-256, subjectAltName for the given names,
// valid for one year.
#pragma once

#include <string>
#include <vector>

#include "base/result.hpp"

namespace mk::net {

// Writes key_file (mode 0600) and cert_file (PEM).
Status write_self_signed(const std::string& cert_file, const std::string& key_file,
                         const std::vector<std::string>& dns_names,
                         const std::vector<std::string>& ip_addresses);

}  // namespace mk::net
