#pragma once
// The message layout between rank 0 and the engines. One message per task (or map chunk) and one
// per result, small ones possibly several to an MPI message (src/wire/bundle.hpp); large pushed
// arrays follow their task as separate segment messages so they travel from and into their final
// memory without a copy.
#include <cstdint>

namespace mpiply::detail {

enum class Kind : std::uint8_t { call = 1, push = 2, pull = 3, clear = 4, stop = 5 };

// Tags on the library's own communicator (never shared with user traffic).
inline constexpr int kTagTask = 11;
inline constexpr int kTagSegment = 12;
inline constexpr int kTagResult = 13;
inline constexpr int kTagClock = 14;
// Control messages from rank 0 to an engine, read while tasks run (ControlMessage below). Tags
// 15 and 16 are the transport's (src/wire/transport.hpp).
inline constexpr int kTagControl = 17;
// Msg ids an engine must answer as aborted instead of running (src/engine/engine_abort.*).
inline constexpr int kTagAbort = 18;
// Live output and published data of running tasks, engine -> rank 0 (MPIPLY_STREAM; src/
// engine_stream.*, src/client/live_outputs.*): u64 msg id, then records until the message ends:
// u8 kStream*; stdout/stderr: u64 offset of the chunk in the task's output, str chunk;
// data: str encoded DataMap (the task's whole published data so far).
inline constexpr int kTagStream = 19;
// A pull_into's value, engine -> rank 0, right after its result (include/mpiply/detail/
// pull_into.hpp, src/executor/engine_payload.*, src/client/client_payload.cpp): the elements' bytes, in pieces of
// at most kSegmentPiece; ResultHeader::payload_bytes says how many in all.
inline constexpr int kTagPayload = 20;
inline constexpr std::uint8_t kStreamOut = 1;
inline constexpr std::uint8_t kStreamErr = 2;
inline constexpr std::uint8_t kStreamData = 3;

// Largest piece of a segment sent in one MPI message (MPI counts are int).
inline constexpr std::uint64_t kSegmentPiece = std::uint64_t(1) << 30;

// TaskHeader::run bits: how an engine runs a call. Rank 0 resolves them from the task's flags
// and the run's settings (MPIPLY_ISOLATE, MPIPLY_TASK_TIMEOUT), so engines only obey them.
inline constexpr std::uint8_t kRunIsolated = 1;  // in the engine's worker process (isolation.hpp)
// On a pull: a pull_into. A u32 element size follows the type tags, and a std::vector of such
// elements matching the first type may come back as a payload message: the item is then
// kPullPayload and a u64 byte count instead of the index of the type and the value.
inline constexpr std::uint8_t kRunPullInto = 2;
// On a call: one member of a team task (docs/resources.md, Teams), never isolated. A TeamBlock
// and its members' engine ids (i32 each, ascending: the team rank order) follow the header,
// before the items.
inline constexpr std::uint8_t kRunTeam = 4;
// With kRunTeam: only team rank 0's value is wanted (apply_team_root, map_team_root); a member
// of another rank answers a call that returned with an empty ok item. Errors still come back.
inline constexpr std::uint8_t kRunTeamRoot = 8;
struct TeamBlock {
  std::uint32_t size;  // k
  std::uint32_t rank;  // this member's team rank, 0..k-1
};
inline constexpr std::uint8_t kPullPayload = 0x80;

struct TaskHeader {
  Kind kind;
  std::uint8_t run;  // kRun* bits; calls only
  // A call's resources (docs/resources.md), stamped by rank 0 when it places the task: cores
  // given (0: it asked for none) and the GPUs given, as bits of positions in the engine's list.
  std::uint16_t cores;
  std::uint32_t nitems;  // calls in this chunk, or entries of a push
  std::uint64_t fn_id;   // call: registered function id; stop: exit code
  std::uint64_t msg_id;
  std::uint32_t time_limit_ms;  // isolated call: its worker is killed past this; 0 = no limit
  std::uint32_t gpu_mask;
};

// What rank 0 asks of an engine outside its task stream (kTagControl).
enum class ControlKind : std::uint8_t { signal = 1 };
struct ControlMessage {
  ControlKind kind;
  std::uint8_t pad[3];
  std::int32_t value;  // signal: the signal number to deliver to the running isolated tasks
};

// Each item of a call: u32 length, then per argument a tag and its value: the encoded value, a
// name (reference), or u64 count + names (a vector of references, resolved element by element).
// reference_map: a std::map<std::string, Reference> for a std::map<std::string, V> parameter,
// each value resolved on the engine (keys travel as they are).
enum class ArgTag : std::uint8_t { value = 0, reference = 1, reference_list = 2, reference_map = 3 };

struct ResultHeader {
  std::uint64_t msg_id;
  std::int64_t started_ns;  // rank-0-aligned wall clock, ns since the epoch
  std::int64_t completed_ns;
  std::uint32_t nitems;
  std::uint32_t thread;  // the engine's worker thread that ran the task (0 when single-threaded)
  // Resource use of a call whose output was captured (MPIPLY_CAPTURE), else 0: CPU time of the
  // thread that ran it (user, system) and the peak resident set of the process that ran it.
  std::int64_t cpu_user_ns;
  std::int64_t cpu_system_ns;
  std::int64_t max_rss_bytes;
  std::uint64_t payload_bytes;  // a pull_into's payload message follows, of this many bytes
};

// Each result item: u8 status, u32 length, then the value, or an error: u8 ErrorKind (errors.hpp)
// and two strings (ename, evalue). src/wire/result_codec.* writes and checks them. After the last
// item, a call whose output was captured adds two strings: its stdout and its stderr (a result
// without them, e.g. one replaced because it grew too large, simply has none). A call that
// published data (publish_data) adds a third string, its encoded DataMap, after the two (empty
// strings when its output was not captured).
enum class ItemStatus : std::uint8_t { ok = 0, error = 1 };

// Pull items: u8 which requested type matched, then the value bytes.
// Push entries: str name, str type tag, u8 mode (0 inline: u64 n + bytes; 1 segment: u64 prefix
// length + prefix bytes + u64 segment length, the segment following as kTagSegment messages).

}  // namespace mpiply::detail
