#pragma once
// farm: --results DIR, saved where GNU parallel saves them, so scripts written for
// `parallel --results` find the files:
//   DIR without replacement strings: DIR/1/VALUE1[/2/VALUE2...]/{stdout,stderr,seq}, one level
//     pair per input source (the source's number, then its value with '\' '\t' '\0' '/' written
//     as '\\' '\t' '\0' '\_', cut to 255 bytes, the longest file name);
//   DIR with replacement strings ending in '/' (e.g. 'out/{#}/'): that directory, with the same
//     three files;
//   DIR with replacement strings and no '/' at the end (e.g. 'out/{#}.txt'): stdout in that
//     file, stderr in FILE.err, the Seq in FILE.seq.
// Nothing is printed to stdout then, as in GNU parallel.
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>

#include <fmt/core.h>

#include "inputs.hpp"

namespace farm {

namespace detail {

inline std::string as_dirname(const std::string& v) {
  std::string s;
  for (char c : v) {
    if (c == '\\') s += "\\\\";
    else if (c == '\t') s += "\\t";
    else if (c == '\0') s += "\\0";
    else if (c == '/') s += "\\_";
    else s += c;
  }
  if (s.size() > 255) s.resize(255);
  return s;
}

inline void write_file(const std::string& path, const std::string& text) {
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  f << text;
  if (!f) throw std::runtime_error(fmt::format("--results: cannot write '{}'", path));
}

}  // namespace detail

// Saves one command's output as described above; throws std::runtime_error naming a file it
// cannot write.
inline void save_results(const std::string& dir, const Job& job, int slot, const std::string& out,
                         const std::string& err) {
  bool replaced = false;
  std::string named = fill(dir, job, slot, false, &replaced);
  std::string stdout_path, stderr_path, seq_path;
  std::string folder;
  if (!replaced || named.ends_with('/')) {
    folder = named;
    if (!replaced)
      for (std::size_t s = 0; s < job.values.size(); ++s)
        folder += fmt::format("/{}/{}", s + 1, detail::as_dirname(job.values[s]));
    if (!folder.ends_with('/')) folder += '/';
    stdout_path = folder + "stdout";
    stderr_path = folder + "stderr";
    seq_path = folder + "seq";
  } else {
    folder = std::filesystem::path(named).parent_path().string();
    stdout_path = named;
    stderr_path = named + ".err";
    seq_path = named + ".seq";
  }
  std::error_code ec;
  if (!folder.empty()) std::filesystem::create_directories(folder, ec);
  if (ec) throw std::runtime_error(fmt::format("--results: cannot create '{}': {}", folder, ec.message()));
  detail::write_file(seq_path, std::to_string(job.seq));
  detail::write_file(stdout_path, out);
  detail::write_file(stderr_path, err);
}

}  // namespace farm
