#pragma once
// The errors a user of mpiply catches. Every message says what happened, where (engine, host,
// function, msg id) and what to do about it. All derive from mpiply::Error.
#include <cstddef>
#include <cstdint>
#include <iosfwd>
#include <stdexcept>
#include <string>
#include <vector>

namespace mpiply {

using MsgId = std::uint64_t;

class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Bad input at the call site: unregistered function, mismatched sequence lengths, bad chunksize...
class UsageError : public Error {
 public:
  using Error::Error;
};

// A wait with a timeout ran out before the result was there. Nothing is lost: wait again.
class TimeoutError : public Error {
 public:
  using Error::Error;
};

// successful() or a metadata query that needs a finished result was called too early.
class NotReadyError : public Error {
 public:
  using Error::Error;
};

// Start-up failed: ranks disagree on registered functions, MPI thread level too low, ...
class StartupError : public Error {
 public:
  using Error::Error;
};

// The job is draining after SIGUSR1, SIGTERM or SIGINT (docs/drain.md): a wait that can no
// longer be answered, or a submission, throws this so that client_main unwinds. Let it
// propagate (or return): mpiply::run then returns kExitInterrupted (84) on every rank. Results
// already received stay valid.
class Interrupted : public Error {
 public:
  Interrupted(const std::string& what, int signal) : Error(what), signal_(signal) {}
  int signal() const noexcept { return signal_; }  // SIGUSR1, SIGTERM or SIGINT

 private:
  int signal_;
};

// Bytes did not decode as a value of the expected type: the codec's error, on whichever rank
// decodes (an engine reading a task's arguments, rank 0 reading a result or a stored value). A
// task whose message fails this way reaches the user as MessageDecodeError (below).
class ValueDecodeError : public Error {
 public:
  using Error::Error;
};
// The earlier name, kept as a deprecated alias: say ValueDecodeError.
using DecodeError [[deprecated("mpiply::DecodeError is now mpiply::ValueDecodeError")]] =
    ValueDecodeError;

// An MPI routine returned an error code. routine() names it (as Boost.MPI's exception does),
// code() is MPI's error code; what() adds MPI's own text for the code.
class MpiError : public Error {
 public:
  MpiError(const std::string& routine, int code);
  const std::string& routine() const noexcept { return routine_; }
  int code() const noexcept { return code_; }

 private:
  std::string routine_;
  int code_;
};

// What a RemoteError stands for. The kind travels with the error (on the wire for errors made on
// an engine), so a wait rethrows the specific type below without comparing any text.
enum class ErrorKind : std::uint8_t {
  raised = 0,             // the task's function threw: a plain RemoteError
  message_too_large = 1,  // MessageTooLarge
  encode = 2,             // EncodeError
  decode = 3,             // MessageDecodeError
  aborted = 4,            // TaskAborted
  crashed = 5,            // TaskCrashed
  time_limit = 6,         // TaskTimeout
  impossible_dependency = 7,  // ImpossibleDependency
  dependency_timeout = 8,     // DependencyTimeout
};
inline constexpr std::uint8_t kErrorKindCount = 9;

// A task failed: it raised on an engine, or mpiply could not run it or bring its value back.
// Carries where it happened and what was raised.
class RemoteError : public Error {
 public:
  RemoteError(int engine_id, std::string hostname, std::string function, MsgId msg_id,
              std::string ename, std::string evalue, ErrorKind kind = ErrorKind::raised);
  int engine_id() const noexcept { return engine_id_; }
  const std::string& hostname() const noexcept { return hostname_; }
  const std::string& function() const noexcept { return function_; }
  MsgId msg_id() const noexcept { return msg_id_; }
  const std::string& ename() const noexcept { return ename_; }    // demangled exception type
  const std::string& evalue() const noexcept { return evalue_; }  // its what()
  ErrorKind kind() const noexcept { return kind_; }
  // Throws this error as its most specific type (MessageTooLarge, TaskAborted, ...), as kind()
  // says: a handler for the subclass catches it, one for RemoteError still does.
  [[noreturn]] void raise() const;

 protected:
  RemoteError(const RemoteError& base, ErrorKind kind);

 private:
  int engine_id_;
  std::string hostname_, function_;
  MsgId msg_id_;
  std::string ename_, evalue_;
  ErrorKind kind_;
};

// A task's message or its result is over the largest one MPI message can carry (2 GiB, or
// MPIPLY_MAX_MESSAGE_BYTES). Push large inputs once and pass a Reference; return results in parts.
class MessageTooLarge : public RemoteError {
 public:
  explicit MessageTooLarge(const RemoteError& e) : RemoteError(e, ErrorKind::message_too_large) {}
};

// Rank 0 could not encode the task's arguments; the task never left rank 0.
class EncodeError : public RemoteError {
 public:
  explicit EncodeError(const RemoteError& e) : RemoteError(e, ErrorKind::encode) {}
};

// A task's message on the engine, or its result on rank 0, did not decode: a corrupt message, or
// ranks running different builds of the program. Only that task fails.
class MessageDecodeError : public RemoteError {
 public:
  explicit MessageDecodeError(const RemoteError& e) : RemoteError(e, ErrorKind::decode) {}
};

// The task was dropped before it ran (e.g. still queued when client_main returned).
class TaskAborted : public RemoteError {
 public:
  explicit TaskAborted(const RemoteError& e) : RemoteError(e, ErrorKind::aborted) {}
};

// An isolated task's worker process died while running it: a signal (SIGSEGV, SIGABRT, SIGKILL
// from the out-of-memory killer or send_signal, ...) or a call of exit(). evalue names the signal
// or the exit status; the error itself names engine, host, function and msg id. The engine forks
// a fresh worker and goes on; every item of the task (a map chunk) fails with this error.
class TaskCrashed : public RemoteError {
 public:
  explicit TaskCrashed(const RemoteError& e) : RemoteError(e, ErrorKind::crashed) {}
};

// An isolated task ran past its time limit (TaskFlags::time_limit, RunOptions::time_limit,
// MPIPLY_TASK_TIMEOUT): its worker process was killed and the engine went on. This is the only
// way mpiply stops code that is running.
class TaskTimeout : public RemoteError {
 public:
  explicit TaskTimeout(const RemoteError& e) : RemoteError(e, ErrorKind::time_limit) {}
};

// A task's dependencies (LoadBalancedView flags `after` / `follow`) can never be met: a task it
// depends on ended the wrong way, `follow` tasks ran on different engines, or no engine it may
// run on is left. The task never ran; it fails at once rather than wait forever.
class ImpossibleDependency : public RemoteError {
 public:
  explicit ImpossibleDependency(const RemoteError& e)
      : RemoteError(e, ErrorKind::impossible_dependency) {}
};

// A task waited longer than its `timeout` flag for its dependencies; it never ran.
class DependencyTimeout : public RemoteError {
 public:
  explicit DependencyTimeout(const RemoteError& e)
      : RemoteError(e, ErrorKind::dependency_timeout) {}
};

// The exception type of a kind, as ename gives it ("mpiply::MessageTooLarge", ...).
const char* error_type_name(ErrorKind kind) noexcept;

// Several tasks (or map items) raised. Each failure keeps the index of its item; the results that
// succeeded stay retrievable from the AsyncResult.
//
// Printing follows ipyparallel: what(), render_traceback() and print_traceback() show at most
// tb_limit() failures (default 4, as ipyparallel's CompositeError.tb_limit) and sum up the rest
// as "... N more exceptions ...". errors() always has every one.
class CompositeError : public Error {
 public:
  struct Item {
    std::size_t index;
    RemoteError error;
  };
  static constexpr std::size_t kDefaultTbLimit = 4;

  CompositeError(std::vector<Item> items, std::size_t total);
  const std::vector<Item>& errors() const noexcept { return items_; }
  std::size_t total() const noexcept { return total_; }  // items of the result, failed or not
  // Rethrows the i-th failure as the error it is: its specific type (MessageTooLarge, ...) when
  // it has one, else RemoteError (ipyparallel's raise_exception).
  [[noreturn]] void raise_exception(std::size_t i = 0) const;

  // How many failures the printing shows. The class-wide default applies to errors made after
  // it is set (what() is fixed when the error is made); set_tb_limit changes this error's
  // render_traceback and print_traceback. 0 shows none, only the count.
  static void set_default_tb_limit(std::size_t n) noexcept;
  static std::size_t default_tb_limit() noexcept;
  std::size_t tb_limit() const noexcept { return tb_limit_; }
  void set_tb_limit(std::size_t n) noexcept { tb_limit_ = n; }

  // The failures as text lines. Without excid: a block per failure up to tb_limit(), then the
  // count of the rest. With excid: that failure alone, whatever the limit (an excid past the end
  // is a UsageError). A block is a header "[engine:function] item I, msg id M, host H" and the
  // error's "ename: evalue" (one line per line of evalue, e.g. a crash report).
  std::vector<std::string> render_traceback() const;
  std::vector<std::string> render_traceback(std::size_t excid) const;
  // render_traceback's lines, each ended by a newline, to out (std::cout when not given).
  void print_traceback() const;
  void print_traceback(std::ostream& out) const;
  void print_traceback(std::size_t excid) const;
  void print_traceback(std::size_t excid, std::ostream& out) const;

 private:
  std::vector<Item> items_;
  std::size_t total_;
  std::size_t tb_limit_;
};

}  // namespace mpiply
