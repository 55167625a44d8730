// The unit tests' runner: Catch2's session with no more around it. These programs test rank 0's
// and the engines' components (scheduler, engine index, task table, usage table, executor, task
// database) as plain objects, so they need no MPI and run without mpiexec.
#include "catch_session.hpp"

int main(int argc, char** argv) { return mpiply_test::run_catch_session(argc, argv); }
