// The calls the hub keeps for resubmit (src/hub/kept_calls.hpp, call_archive.hpp): a one-task
// call is kept as its message in the archive, not as its source; the message, engine and flags
// read back as they were kept, across many blocks; flags are kept once per distinct value; the
// archive's blocks go back once their calls are dropped, and memory per kept call stays bounded.
// Pure logic on rank 0's side; no messages.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "hub/call_archive.hpp"
#include "hub/kept_calls.hpp"

using mpiply::detail::ArchivedCall;
using mpiply::detail::Bytes;
using mpiply::detail::CallArchive;
using mpiply::detail::KeptCall;
using mpiply::detail::KeptCalls;
using mpiply::detail::Segment;
using mpiply::detail::TaskSource;

namespace {

// A source with one message, as an apply's: all of it in its bytes unless `whole` is false.
struct OneMessage : TaskSource {
  std::string msg;
  bool whole = true;
  std::size_t item_begin(std::uint32_t t) const override { return t; }
  std::uint32_t item_count(std::uint32_t) const override { return 1; }
  std::span<const char> encode(std::uint32_t, Bytes&, std::vector<Segment>&) override {
    return {msg.data(), msg.size()};
  }
  std::span<const char> sole_message() const override {
    if (!whole || ntasks != 1) return {};
    return {msg.data(), msg.size()};
  }
};

std::shared_ptr<OneMessage> call(std::string msg, int target = -1) {
  auto s = std::make_shared<OneMessage>();
  s->msg = std::move(msg);
  s->ntasks = 1;
  s->fn_id = 42;
  if (target >= 0) s->targets.push_back(target);
  return s;
}

std::string text(std::span<const char> s) { return std::string(s.data(), s.size()); }

}  // namespace

TEST_CASE("the archive reads every call back as kept, across blocks", "[kept_calls]") {
  CallArchive a;
  std::vector<CallArchive::Ref> refs;
  const int n = 200'000;  // several blocks
  for (int i = 0; i < n; ++i) {
    std::string m = "call " + std::to_string(i) + std::string(static_cast<std::size_t>(i % 40), 'x');
    refs.push_back(a.put({m.data(), m.size()}, i % 7 - 1, static_cast<std::uint32_t>(i % 3),
                         i % 5 == 0));
  }
  CHECK(a.bytes_held() > (std::size_t(4) << 20));
  for (int i = 0; i < n; i += 997) {
    ArchivedCall c = a.get(refs[static_cast<std::size_t>(i)]);
    CHECK(text(c.msg) ==
          "call " + std::to_string(i) + std::string(static_cast<std::size_t>(i % 40), 'x'));
    CHECK(c.target == i % 7 - 1);
    CHECK(c.flags == static_cast<std::uint32_t>(i % 3));
    CHECK(c.has_references == (i % 5 == 0));
  }
  // Dropping all but the newest gives back every block but the one being filled.
  for (int i = 0; i + 1 < n; ++i) a.drop(refs[static_cast<std::size_t>(i)]);
  CHECK(a.bytes_held() == (std::size_t(4) << 20));
  CHECK(text(a.get(refs.back()).msg) == "call " + std::to_string(n - 1) +
                                           std::string(static_cast<std::size_t>((n - 1) % 40), 'x'));
}

TEST_CASE("a stream of calls dropped oldest first fills an emptied block again",
          "[kept_calls]") {
  // As under the hub's cap: calls kept as they come, the oldest dropped. The block emptied by
  // the drops is the next one filled (its pages already faulted in), not a fresh allocation,
  // and no more than two blocks are held at a time.
  CallArchive a;
  std::string m(1000, 'm');
  std::vector<CallArchive::Ref> refs;
  std::size_t dropped = 0, blocks = 0;
  for (int i = 0; i < 30'000; ++i) {  // about seven blocks' worth
    CallArchive::Ref r = a.put({m.data(), m.size()}, 0, 0, false);
    blocks += (r & 0xffffffffu) == 0;  // the first call of a block
    refs.push_back(r);
    // Keep the newest 2,000 calls (less than one block).
    if (refs.size() - dropped > 2000) a.drop(refs[dropped++]);
    CHECK(a.bytes_held() <= (std::size_t(8) << 20));
  }
  REQUIRE(blocks >= 6);
  CHECK(a.blocks_allocated() <= 3);
  CHECK(text(a.get(refs.back()).msg) == m);
}

TEST_CASE("an apply is kept as its message, not its source; other calls keep their source",
          "[kept_calls]") {
  KeptCalls kc;
  // A loop of applies through one view: archived, the source not held, memory per call bounded.
  std::vector<KeptCall> kept(100'000);
  std::weak_ptr<OneMessage> first;
  for (std::size_t i = 0; i < kept.size(); ++i) {
    auto s = call(std::string(48, char('a' + i % 26)), 0);
    s->flags.retries = 2;
    if (i == 0) first = s;
    kc.keep(kept[i], s);
    CHECK(KeptCalls::held(kept[i]));
  }
  CHECK(first.expired());
  CHECK(!kc.source(kept[0]));
  // Per call: the message and a small head, in blocks of a few MiB.
  CHECK(kc.arena().bytes_held() <= kept.size() * 64 + (std::size_t(4) << 20));
  ArchivedCall c = kc.archived(kept[12'345]);
  CHECK(text(c.msg) == std::string(48, char('a' + 12'345 % 26)));
  CHECK(c.target == 0);
  CHECK(kc.flags(c.flags).retries == 2);
  CHECK(kc.archived(kept[0]).flags == c.flags);  // the same flags kept once

  // Dependencies are not kept (resubmit clears them); other flags tell calls apart.
  KeptCall dep, prio;
  auto d = call("dep");
  d->flags.after = mpiply::Dependency(std::vector<mpiply::MsgId>{1, 2});
  kc.keep(dep, d);
  CHECK(!kc.flags(kc.archived(dep).flags).after);
  CHECK(kc.archived(dep).target == -1);
  auto p = call("prio");
  p->flags.priority = 5;
  kc.keep(prio, p);
  CHECK(kc.archived(prio).flags != c.flags);
  CHECK(kc.flags(kc.archived(prio).flags).priority == 5);

  // A source whose message is not all of it, or of several tasks, is kept as it is.
  KeptCall seg, multi;
  auto s = call("segments");
  s->whole = false;
  kc.keep(seg, s);
  CHECK(kc.source(seg) == s);
  auto m = call("two");
  m->ntasks = 2;
  kc.keep(multi, m);
  CHECK(kc.source(multi) == m);

  // Dropped: nothing held; the archive's emptied blocks go back.
  for (KeptCall& k : kept) kc.drop(k);
  kc.drop(seg);
  CHECK(!KeptCalls::held(kept[0]));
  CHECK(!KeptCalls::held(seg));
  CHECK(kc.arena().bytes_held() <= (std::size_t(4) << 20));
}
