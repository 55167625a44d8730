// Catch2's implementation and a session that runs it (catch_session.hpp).
#define CATCH_CONFIG_RUNNER
#include <catch2/catch.hpp>

#include "catch_session.hpp"

namespace mpiply_test {

int run_catch_session(int argc, char** argv) {
  Catch::Session session;
  if (int rc = session.applyCommandLine(argc, argv)) return rc;
  return session.run();
}

}  // namespace mpiply_test
