// A dlclose that keeps libraries loaded in sanitized programs, preloaded (LD_PRELOAD) into every
// process of the sanitizer pass by tools/test-sanitizers.sh; never part of mpiply.
//
// Open MPI 4.1 unloads its plugins (mca_*.so, and what they load) when it closes a component:
// the ones it did not select during MPI_Init, the rest in MPI_Finalize. LeakSanitizer reports
// at exit, when the code that allocated what Open MPI never frees is gone, so those frames have
// no module and tools/lsan.supp cannot name them; and the plugins have no frame pointers, so
// ASan's fast unwinder stops in them. Both together forced a full (DWARF) unwind on every
// malloc of every rank. With the plugins kept, a leak's first frame names its plugin and the
// suppressions match it there, with the fast unwinder. Open MPI 5 has a parameter for this
// (mca_base_component_disable_dlclose); 4.1 has none.
//
// Built without sanitizers (a plain shared object): bash, mpiexec, python and the compilers run
// with it too, and in them, where there is no ASan runtime, it is the real dlclose. Each ASan
// program has it before libasan in its library list, which ASan allows with
// verify_asan_link_order=0: it defines nothing but dlclose.
#include <dlfcn.h>

extern "C" int dlclose(void* handle) {
  static const bool sanitized = dlsym(RTLD_DEFAULT, "__asan_init") != nullptr;
  if (sanitized) return 0;
  using Dlclose = int (*)(void*);
  static const auto next = reinterpret_cast<Dlclose>(dlsym(RTLD_NEXT, "dlclose"));
  return next(handle);
}
