#pragma once
// Catch2's test session, compiled once (catch_session.cpp) for both test mains: Catch2's own
// implementation is one of the longest files of the test build, and each main compiled it.

namespace mpiply_test {

// Applies the command line and runs the selected test cases; what Catch2's own main returns
// (the number of failed test cases, capped, or the command line's error code).
int run_catch_session(int argc, char** argv);

}  // namespace mpiply_test
