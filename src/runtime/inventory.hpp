#pragma once
// An engine's inventory (mpiply::EngineResources) read from its own environment: each rank reads
// its own, since under Slurm or mpirun ranks on different nodes (or with different GPU bindings)
// hold different things. Start-up gathers them on rank 0 (startup.cpp).
#include <string>
#include <vector>

#include <mpiply/resources.hpp>

namespace mpiply::detail {

// The most GPU ids one engine may advertise: a task's grant travels as a bitmask of positions in
// its engine's list (TaskHeader::gpu_mask).
inline constexpr std::size_t kMaxEngineGpus = 32;

// Reads MPIPLY_GPUS, MPIPLY_MEMORY and MPIPLY_RESOURCES (each bad one adds a line to problems,
// in read_settings' words) and the launcher's variables (CUDA_VISIBLE_DEVICES,
// ROCR_VISIBLE_DEVICES, SLURM_STEP_GPUS, SLURM_JOB_GPUS, SLURM_CPUS_PER_TASK, SLURM_MEM_PER_CPU,
// SLURM_MEM_PER_NODE, the cgroup's memory limit), which are not ours to judge: a value that does
// not parse is passed over. default_cores: the cores when no variable names them; 0: the cores
// of this process's CPU binding, read with hwloc (1 if hwloc cannot tell).
EngineResources read_inventory(std::vector<std::string>& problems, unsigned default_cores);

// Reads this process's CPU binding once, for read_inventory. Environment calls it before it
// initialises MPI (the binding is the launcher's, set before the process started); without it
// read_inventory reads the binding itself, more slowly.
void note_bound_cores();

// How many ranks the launcher started on this node: OMPI_COMM_WORLD_LOCAL_SIZE (mpirun), else
// SLURM_NTASKS_PER_NODE; 1 when neither says.
unsigned ranks_on_this_node();

// This rank's inventory, as start-up read it (engines map a grant's GPU mask to ids with it).
const EngineResources& local_inventory() noexcept;
void set_local_inventory(EngineResources r);

// One line for messages: "4 cores, GPUs 0,1, 16 GiB, license=2".
std::string describe(const EngineResources& r);

}  // namespace mpiply::detail
