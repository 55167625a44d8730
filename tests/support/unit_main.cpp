// The unit tests' runner: Catch2's own main. These programs test rank 0's and the engines'
// components (scheduler, engine index, task table, usage table, executor, task database) as
// plain objects, so they need no MPI and run without mpiexec.
#define CATCH_CONFIG_MAIN
#include <catch2/catch.hpp>
