// The task database's stored row format (no MPI): names passed as TaskDb::name ids are stored
// as their text, and a packed row is written byte for byte as earlier files hold it.
#include <catch2/catch.hpp>

#include <cstring>
#include <filesystem>
#include <string>
#include <string_view>

#include "taskdb/block_encoder.hpp"
#include "taskdb/resume_index.hpp"
#include "taskdb/task_db_block.hpp"
#include "taskdb/task_db.hpp"

#include "task_db_support.hpp"

using namespace mpiply;
using namespace mpiply::detail;
using namespace taskdb_support;
namespace fs = std::filesystem;

TEST_CASE("names given as TaskDb::name ids are stored as their text, beside names given as views",
          "[taskdb]") {
  TempDir tmp;
  std::string path = tmp.file("names.db");
  std::vector<StoredTask> written;
  for (std::uint64_t i = 0; i < 300; ++i) {
    written.push_back(make_task(i, i % 29 == 3 ? TaskStatus::error : TaskStatus::ok));
    written.back().code = i % 5 == 0 ? "version:2" : "build:0123abcd";
  }
  std::int64_t run = 0;
  {
    auto db = TaskDb::open(path, kProgram, {.batch_rows = 64});
    run = db->run_id();
    std::uint32_t cube = db->name("cube");
    CHECK(cube != 0);
    CHECK(db->name("cube") == cube);
    CHECK(db->name("square") != cube);
    CHECK(db->name("") != 0);
    for (std::size_t i = 0; i < written.size(); ++i) {
      const StoredTask& t = written[i];
      TaskRow row = t.row();
      // Every mix a row can have: each name by id, by view, or (every 7th) a view whose text
      // was never interned; the ids are given with views that disagree, which append ignores.
      if (i % 2 == 0) {
        row.function_name = db->name(t.function);
        row.function = "ignored";
      }
      if (i % 3 != 0) {
        row.code_name = db->name(t.code);
        row.code = {};
      }
      if (i % 7 != 0) {
        row.host_name = db->name(t.hostname);
        row.hostname = "ignored too";
      }
      db->append(row);
    }
    db->close();
  }
  std::vector<StoredTask> read;
  TaskDbReader::open(path)->for_each(run, [&](const StoredTask& t) { read.push_back(t); });
  REQUIRE(read.size() == written.size());
  for (std::size_t i = 0; i < read.size(); ++i) {
    INFO("task " << written[i].msg_id);
    check_same(read[i], written[i]);
    CHECK(read[i].code == written[i].code);
  }
  // Resume finds them by the text: the index reads the names back from the rows.
  auto db = TaskDb::open(path, kProgram);
  StoredTask want = written[4];
  auto got = db->resume().lookup(want.function, want.key, want.code);
  REQUIRE(got);
  CHECK(got->result == want.result);
  CHECK_FALSE(db->resume().lookup(want.function, want.key, "build:another"));
}

namespace {

std::string hex_of(std::string_view bytes) {
  static const char* digits = "0123456789abcdef";
  std::string out;
  for (unsigned char c : bytes) {
    out += digits[c >> 4];
    out += digits[c & 15];
  }
  return out;
}

}  // namespace

TEST_CASE("a packed row is written byte for byte in the stored format, so earlier files still read",
          "[taskdb]") {
  // Three records that use each path of the writer: names as text and as a TaskDb::name id, the
  // previous record's function and an engine's host reused, a task with no engine, a msg id
  // before the previous one, times missing, an error, a reused task.
  std::string res1 = "abc", res3 = "zz";
  TaskRow a;
  a.msg_id = 5;
  a.function = "f";
  a.code = "build:ab";
  a.hostname = "h1";
  a.engine = 0;
  a.key = {0x0102030405060708ull, 0x1112131415161718ull};
  a.submitted = 1000;
  a.started = 1500;
  a.completed = 1800;
  a.received = 2000;
  a.thread = 1;
  a.pid = 42;
  a.result = {res1.data(), res1.size()};
  TaskRow b;
  b.msg_id = 6;
  b.function = "g";
  b.function_name = 1;
  b.code = "build:ab";
  b.hostname = "h1";
  b.engine = 0;
  b.status = TaskStatus::error;
  b.error = "E: x";
  b.submitted = 2100;
  b.pid = 42;
  TaskRow c;
  c.msg_id = 4;
  c.function = "f";
  c.code = "build:ab";
  c.hostname = "h2";
  c.reused = true;
  c.items = 3;
  c.submitted = 900;
  c.received = 950;
  c.result = {res3.data(), res3.size()};

  // The bytes format 2 has always had: a change here makes existing files unreadable, so it
  // needs a new kTaskDbFormat, not a new expected string.
  const std::string strings_hex = "050166026831086275696c643a61620167026832";
  const std::string meta_hex =
      "0a020002080706050403020118171615141312110fd00fe807d80490030001015401000350392f89945faf78"
      "020303020000000000000000000000000000000001c801000001540104453a207800c294d3380580062d0382"
      "00020000000000000000000000000000000009df126401000400030002f1993068b8572aac";
  BlockEncoder enc;
  for (int row = 0; row < 2; ++row) {  // the second after clear(): a reused batch's encoder
    enc.clear();
    enc.add(a);
    enc.add(b);
    enc.add(c);
    std::string strings = enc.finish_strings();
    std::string_view meta{enc.meta().data(), enc.meta().size()};
    CHECK(hex_of(strings) == strings_hex);
    CHECK(hex_of(meta) == meta_hex);
    const BlockCounts& n = enc.counts();
    CHECK(n.count() == 3);
    CHECK(n.ok() == 2);
    CHECK(n.failed() == 1);
    CHECK(n.reused() == 1);
    CHECK(n.min_msg() == 4);
    CHECK(n.max_msg() == 6);

    std::string results = res1 + res3;
    std::vector<StoredTask> got;
    decode_block(strings, meta, results, [&](const TaskRow& r, std::uint64_t, std::uint64_t) {
      CHECK(result_intact(r));
      StoredTask t;
      t.msg_id = r.msg_id;
      t.function = std::string(r.function);
      t.hostname = std::string(r.hostname);
      t.error = std::string(r.error);
      t.result = std::string(r.result.data(), r.result.size());
      t.reused = r.reused;
      t.engine = r.engine;
      t.received = r.received;
      got.push_back(std::move(t));
    });
    REQUIRE(got.size() == 3);
    CHECK(got[0].function == "f");
    CHECK(got[0].result == "abc");
    CHECK(got[1].function == "g");
    CHECK(got[1].hostname == "h1");
    CHECK(got[1].error == "E: x");
    CHECK(got[2].msg_id == 4);
    CHECK(got[2].hostname == "h2");
    CHECK(got[2].engine == -1);
    CHECK(got[2].reused);
    CHECK(got[2].received == 950);
    CHECK(got[2].result == "zz");
  }
}
