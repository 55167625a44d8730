#pragma once
// MPI initialisation for mpiply: asks for the thread level src/runtime/thread_level.hpp chooses
// (MPI_THREAD_SINGLE on Open MPI, MPI_THREAD_SERIALIZED on another MPI, or
// MPIPLY_MPI_THREAD_LEVEL; rank 0 runs a progress thread that takes turns with the user's thread
// under mpiply's lock) and checks what MPI granted. MPI is finalised only by the Environment that
// initialised it, so tests and programs that set MPI up themselves can call mpiply::run many
// times.
namespace mpiply {

class Environment {
 public:
  Environment(int& argc, char**& argv);
  ~Environment();
  Environment(const Environment&) = delete;
  Environment& operator=(const Environment&) = delete;
  bool owns_mpi() const noexcept { return owns_; }

 private:
  bool owns_ = false;
};

}  // namespace mpiply
