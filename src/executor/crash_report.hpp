#pragma once
// When a task kills its engine (SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT), Open MPI prints a
// backtrace and ends the job, but not which task it was. While a CrashReporter lives, this
// process's handlers first write one line naming engine, host, function and msg id, then hand
// the signal to the handler that was there before (Open MPI's backtrace) or to the default.
#include <cstdint>
#include <string>

namespace mpiply::detail {

class CrashReporter {
 public:
  CrashReporter(int engine_id, int rank, const std::string& hostname);
  ~CrashReporter();  // puts back the previous handlers (run may be called again)
  CrashReporter(const CrashReporter&) = delete;
  CrashReporter& operator=(const CrashReporter&) = delete;
};

// Marks the task the engine is running, for the crash line: two stores, no formatting, so it
// costs nothing measurable per task. function must outlive the note (registry names do). Each
// thread has its own note, so worker threads of one engine each name their own task.
class TaskNote {
 public:
  TaskNote(const char* function, std::uint64_t msg_id) noexcept;
  ~TaskNote();
  TaskNote(const TaskNote&) = delete;
  TaskNote& operator=(const TaskNote&) = delete;

 private:
  void* slot_;  // this thread's slot in crash_report.cpp
};

}  // namespace mpiply::detail
