// The floor for mpiply's start-up at N ranks: a program that only calls MPI_Init and
// MPI_Finalize. jobs/bench/run_scale.py times it from launch to exit beside bench --part scale
// (launch to first result), at the same rank count and in the same sitting.
#include <mpi.h>

int main(int argc, char** argv) {
  MPI_Init(&argc, &argv);
  MPI_Finalize();
  return 0;
}
