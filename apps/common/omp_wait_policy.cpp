// The apps' OpenMP waiting policy: passive unless the user chose one (docs/cli.md, "Threads and
// waiting"; issue #16).
//
// Why: libgomp's default lets a thread that reaches a barrier spin for a while (GOMP_SPINCOUNT
// 300000, a few milliseconds) before it sleeps. When another process is busy on the machine, the
// spinning threads take the cores that the threads still working need, and parallel regions wait
// for scheduler time slices: lumen's MRI runs took 3-4x longer under load. Passive waiting
// (sleep at once) costs a futex wake per region on an idle machine (docs/benchmarks.md,
// "Under load").
//
// Why like this: libgomp reads OMP_WAIT_POLICY and GOMP_SPINCOUNT once, in its constructor, before
// main() runs, so setenv() in main() is too late. setenv() from the executable's .preinit_array
// (which runs before every library's constructor) is not enough either: glibc's own constructor
// then sets `environ` back to the array the kernel passed, and the variable is gone before
// libgomp looks (tried: GOMP_SPINCOUNT stays 300000). So the program, from its preinit function,
// executes itself once more with the variable added: before any library is initialised, so no
// thread, file or handler exists yet that the exec could lose. The cost is one more exec of the
// binary (about a millisecond). When the exec fails (no /proc), the program runs on with
// libgomp's default.
//
// After libgomp has read the variable, the executable's constructor (it runs after those of the
// libraries it links) removes it again, with the marker that says lumen added it, so that the
// programs lumen-bench starts (BART, plastimatch) see the user's environment unchanged.
//
// Linked into each app and into lumen-bench as an OBJECT library (apps/CMakeLists.txt): a member
// of a static archive that nothing references would not be linked. Programs that link lumen as a
// library get no choice made for them (docs/cli.md says what to set).
#include <unistd.h>

#include <cstdlib>
#include <cstring>

namespace {

constexpr const char* k_policy = "OMP_WAIT_POLICY=passive";
// Set together with k_policy in the re-executed program; also stops a second re-exec.
constexpr const char* k_marker = "LUMEN_SET_OMP_WAIT_POLICY=1";

bool has_variable(char** envp, const char* name) {
    const std::size_t n = std::strlen(name);
    for (char** e = envp; e != nullptr && *e != nullptr; ++e)
        if (std::strncmp(*e, name, n) == 0 && (*e)[n] == '=') return true;
    return false;
}

void choose_wait_policy(int, char** argv, char** envp) {
    // Any explicit choice wins: the standard variable or libgomp's own spin count. The marker
    // means this is already the re-executed program.
    if (has_variable(envp, "OMP_WAIT_POLICY") || has_variable(envp, "GOMP_SPINCOUNT") ||
        has_variable(envp, "LUMEN_SET_OMP_WAIT_POLICY"))
        return;
    std::size_t count = 0;
    while (envp[count] != nullptr) ++count;
    // Plain C allocation: no C++ runtime is initialised yet. On failure, run on unchanged.
    auto** env = static_cast<char**>(std::calloc(count + 3, sizeof(char*)));
    if (env == nullptr) return;
    std::memcpy(env, envp, count * sizeof(char*));
    env[count] = const_cast<char*>(k_policy);
    env[count + 1] = const_cast<char*>(k_marker);
    ::execve("/proc/self/exe", argv, env);
    std::free(env);  // execve returned: it failed; keep libgomp's default
}

__attribute__((constructor)) void restore_environment() {
    if (std::getenv("LUMEN_SET_OMP_WAIT_POLICY") == nullptr) return;
    ::unsetenv("OMP_WAIT_POLICY");
    ::unsetenv("LUMEN_SET_OMP_WAIT_POLICY");
}

}  // namespace

__attribute__((section(".preinit_array"), used)) void (*const lumen_preinit_wait_policy)(int, char**, char**) =
    &choose_wait_policy;
