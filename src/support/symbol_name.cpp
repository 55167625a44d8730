// Naming a function by its address. dladdr sees only dynamic symbols, and an executable's own
// functions are not among them unless it was linked with -rdynamic, so the file's full symbol
// table (.symtab, present unless stripped) is read as well: the object holding the address comes
// from dl_iterate_phdr, whose load bias turns the address back into a symbol value.
#include "support/symbol_name.hpp"

#include <dlfcn.h>
#include <elf.h>
#include <link.h>

#include <cstdint>
#include <cstring>
#include <fstream>
#include <vector>

#include <mpiply/detail/type_name.hpp>

namespace mpiply::detail {
namespace {

struct LoadedObject {
  std::uintptr_t address = 0;
  std::uintptr_t bias = 0;
  std::string path;
};

int find_object(dl_phdr_info* info, std::size_t, void* data) {
  auto* wanted = static_cast<LoadedObject*>(data);
  for (int i = 0; i < info->dlpi_phnum; ++i) {
    const auto& ph = info->dlpi_phdr[i];
    if (ph.p_type != PT_LOAD) continue;
    std::uintptr_t begin = info->dlpi_addr + ph.p_vaddr;
    if (wanted->address >= begin && wanted->address < begin + ph.p_memsz) {
      wanted->bias = info->dlpi_addr;
      // The main program has an empty name here.
      wanted->path = info->dlpi_name && *info->dlpi_name ? info->dlpi_name : "/proc/self/exe";
      return 1;
    }
  }
  return 0;
}

template <class T>
bool read_at(std::ifstream& in, std::uint64_t offset, T* out, std::size_t count = 1) {
  in.seekg(static_cast<std::streamoff>(offset));
  in.read(reinterpret_cast<char*>(out), static_cast<std::streamsize>(sizeof(T) * count));
  return bool(in);
}

// The name of the STT_FUNC symbol whose value is `value` in the ELF file at `path`.
std::string symtab_name(const std::string& path, std::uint64_t value) {
  std::ifstream in(path, std::ios::binary);
  ElfW(Ehdr) eh{};
  if (!read_at(in, 0, &eh) || std::memcmp(eh.e_ident, ELFMAG, SELFMAG) != 0 ||
      eh.e_ident[EI_CLASS] != (sizeof(void*) == 8 ? ELFCLASS64 : ELFCLASS32) ||
      eh.e_shentsize != sizeof(ElfW(Shdr)) || eh.e_shnum == 0)
    return {};
  std::vector<ElfW(Shdr)> sections(eh.e_shnum);
  if (!read_at(in, eh.e_shoff, sections.data(), sections.size())) return {};
  for (const auto& sh : sections) {
    if (sh.sh_type != SHT_SYMTAB || sh.sh_entsize != sizeof(ElfW(Sym)) ||
        sh.sh_link >= sections.size())
      continue;
    std::vector<ElfW(Sym)> symbols(sh.sh_size / sizeof(ElfW(Sym)));
    if (!read_at(in, sh.sh_offset, symbols.data(), symbols.size())) return {};
    const auto& strtab = sections[sh.sh_link];
    for (const auto& sym : symbols) {
      if (ELF64_ST_TYPE(sym.st_info) != STT_FUNC || sym.st_value != value || sym.st_name == 0 ||
          sym.st_name >= strtab.sh_size)
        continue;
      std::string name;
      in.seekg(static_cast<std::streamoff>(strtab.sh_offset + sym.st_name));
      std::getline(in, name, '\0');
      if (in && !name.empty()) return name;
    }
  }
  return {};
}

}  // namespace

std::string function_name_at(const void* address) {
  Dl_info info{};
  if (dladdr(address, &info) != 0 && info.dli_sname && info.dli_saddr == address)
    return demangle(info.dli_sname);
  LoadedObject object;
  object.address = reinterpret_cast<std::uintptr_t>(address);
  if (dl_iterate_phdr(&find_object, &object) == 0) return {};
  std::string mangled = symtab_name(object.path, object.address - object.bias);
  return mangled.empty() ? std::string() : demangle(mangled.c_str());
}

}  // namespace mpiply::detail
