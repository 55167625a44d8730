// Reading the main executable's build identity (build_id.hpp). The build-id note is found
// through the program headers the loader mapped (dl_iterate_phdr: the first object is the main
// program), so no file is opened in the usual case.
#include "runtime/build_id.hpp"

#include <elf.h>
#include <link.h>

#include <cstdint>
#include <cstring>
#include <fstream>
#include <mutex>
#include <optional>

#include <fmt/format.h>

#define XXH_INLINE_ALL
#include <xxhash.h>

namespace mpiply::detail {

namespace {

std::size_t align4(std::size_t n) { return (n + 3) & ~std::size_t(3); }

// The NT_GNU_BUILD_ID note in a PT_NOTE segment of the main program, as hex; "" if none.
std::string elf_build_id() {
  std::string out;
  dl_iterate_phdr(
      [](dl_phdr_info* info, std::size_t, void* data) -> int {
        auto& hex = *static_cast<std::string*>(data);
        for (int i = 0; i < info->dlpi_phnum; ++i) {
          const ElfW(Phdr)& ph = info->dlpi_phdr[i];
          if (ph.p_type != PT_NOTE) continue;
          const char* p = reinterpret_cast<const char*>(info->dlpi_addr + ph.p_vaddr);
          std::size_t left = ph.p_memsz;
          while (left >= sizeof(ElfW(Nhdr))) {
            ElfW(Nhdr) n;
            std::memcpy(&n, p, sizeof n);
            std::size_t name_at = sizeof n, desc_at = name_at + align4(n.n_namesz);
            std::size_t size = desc_at + align4(n.n_descsz);
            if (size > left) break;
            if (n.n_type == NT_GNU_BUILD_ID && n.n_namesz == 4 &&
                std::memcmp(p + name_at, "GNU", 4) == 0 && n.n_descsz > 0) {
              const auto* d = reinterpret_cast<const unsigned char*>(p + desc_at);
              for (std::size_t k = 0; k < n.n_descsz; ++k) hex += fmt::format("{:02x}", d[k]);
              return 1;
            }
            p += size;
            left -= size;
          }
        }
        return 1;  // the first object is the main program: stop after it either way
      },
      &out);
  return out;
}

std::string file_hash() {
  std::ifstream in("/proc/self/exe", std::ios::binary);
  if (!in) return "unknown";
  XXH3_state_t* st = XXH3_createState();
  XXH3_128bits_reset(st);
  char buf[1 << 16];
  while (in.read(buf, sizeof buf) || in.gcount() > 0)
    XXH3_128bits_update(st, buf, static_cast<std::size_t>(in.gcount()));
  XXH128_hash_t h = XXH3_128bits_digest(st);
  XXH3_freeState(st);
  return fmt::format("{:016x}{:016x}", h.high64, h.low64);
}

std::mutex g_build_id_mu;
std::optional<BuildId> g_real, g_override;

}  // namespace

const BuildId& build_id() {
  std::lock_guard lk(g_build_id_mu);
  if (g_override) return *g_override;
  if (!g_real) {
    BuildId b{elf_build_id(), "build-id"};
    if (b.hex.empty()) b = {file_hash(), "file hash"};
    g_real = std::move(b);
  }
  return *g_real;
}

void override_build_id_for_tests(const std::string& hex) {
  std::lock_guard lk(g_build_id_mu);
  if (hex.empty()) g_override.reset();
  else g_override = BuildId{hex, "build-id"};
}

}  // namespace mpiply::detail
