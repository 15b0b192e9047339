#include <malloc.h>

#include <algorithm>
#include <thread>

#include "app/app.hpp"

int main(int argc, char** argv) {
  // glibc gives threads that allocate arenas of their own, up to eight per core. The work
  // pool's threads (net/offload.hpp) then each warm up arenas of their own, which made a
  // SEARCH over 10,000 messages a third slower (bench/imap); one arena per core (at least
  // two) keeps the memory warm and contention low. A no-op under the sanitizers.
  mallopt(M_ARENA_MAX, int(std::max(2u, std::thread::hardware_concurrency())));
  return mk::app::main_cli(argc, argv);
}
