// mk-test-arc-seal: seals the message on stdin with mailkeep's ARC sealer (arc/arc.hpp) and
// writes the sealed message to stdout, so that integration tests can hand our seals to an
// independent verifier (python3-dkim's arc_verify). The message must carry no ARC sets yet.
// usage: mk-test-arc-seal KEY.pem DOMAIN SELECTOR AUTHSERV-ID RESULTS [rsa|ed25519]
#include <cstdio>
#include <ctime>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>

#include "arc/arc.hpp"

int main(int argc, char** argv) {
  if (argc < 6) {
    std::fprintf(stderr, "usage: %s KEY.pem DOMAIN SELECTOR AUTHSERV-ID RESULTS [rsa|ed25519]\n", argv[0]);
    return 2;
  }
  std::ifstream key(argv[1]);
  std::stringstream pem, msg;
  pem << key.rdbuf();
  msg << std::cin.rdbuf();
  mk::arc::Sealer s{argv[2], argv[3],
                    argc > 6 && std::string(argv[6]) == "ed25519" ? mk::dkim::Algorithm::ed25519_sha256
                                                                  : mk::dkim::Algorithm::rsa_sha256,
                    pem.str()};
  auto fields = mk::arc::seal(msg.str(), s, argv[4], argv[5], mk::arc::ChainResult{}, std::time(nullptr));
  if (!fields) {
    std::fprintf(stderr, "%s\n", fields.error().message.c_str());
    return 1;
  }
  std::cout << *fields << msg.str();
  return 0;
}
