#pragma once
// Whether a task made any system call, known without making one (Linux syscall user dispatch,
// x86-64). A task that made none on its thread cannot have written to descriptors 1 and 2 (a
// write, or a child process to write, takes a system call), so its capture needs no lseek: on a
// busy engine that system call per task was most of what capture cost (docs/output.md).
//
// While armed, the thread's first system call raises SIGSYS; the handler notes it, disarms and
// restarts the call, which then runs as usual (a signal's cost, once). A thread whose tasks keep
// making system calls is not armed for the next 64 tasks, so it pays that at most once in 65.
namespace mpiply::detail {

// Arms this thread; false if it cannot be armed (kernel, architecture, or resting after a hit):
// the caller then checks the files itself.
bool syscall_watch_arm() noexcept;
// Disarms; true if a system call was made while armed.
bool syscall_watch_disarm() noexcept;
// In a forked child: the dispatch setting is not inherited, so this thread must enable it anew.
void syscall_watch_in_child() noexcept;

}  // namespace mpiply::detail
