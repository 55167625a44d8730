#pragma once
// The errors a user of mpiply catches. Every message says what happened, where (engine, host,
// function, msg id) and what to do about it. All derive from mpiply::Error.
#include <cstddef>
#include <cstdint>
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

// Bytes on the wire did not decode as the expected type.
class DecodeError : public Error {
 public:
  using Error::Error;
};

// An MPI routine returned an error code.
class MpiError : public Error {
 public:
  MpiError(const std::string& routine, int code);
  int code() const noexcept { return code_; }

 private:
  int code_;
};

// A task raised on an engine. Carries where it happened and what was raised.
class RemoteError : public Error {
 public:
  RemoteError(int engine_id, std::string hostname, std::string function, MsgId msg_id,
              std::string ename, std::string evalue);
  int engine_id() const noexcept { return engine_id_; }
  const std::string& hostname() const noexcept { return hostname_; }
  const std::string& function() const noexcept { return function_; }
  MsgId msg_id() const noexcept { return msg_id_; }
  const std::string& ename() const noexcept { return ename_; }    // demangled exception type
  const std::string& evalue() const noexcept { return evalue_; }  // its what()

 private:
  int engine_id_;
  std::string hostname_, function_;
  MsgId msg_id_;
  std::string ename_, evalue_;
};

// Several tasks (or map items) raised. Each failure keeps the index of its item; the results that
// succeeded stay retrievable from the AsyncResult.
class CompositeError : public Error {
 public:
  struct Item {
    std::size_t index;
    RemoteError error;
  };
  CompositeError(std::vector<Item> items, std::size_t total);
  const std::vector<Item>& errors() const noexcept { return items_; }
  // Rethrows the i-th failure as the RemoteError it is (ipyparallel's raise_exception).
  [[noreturn]] void raise_exception(std::size_t i = 0) const;

 private:
  std::vector<Item> items_;
};

}  // namespace mpiply
