// jemalloc's start-up configuration for the `seghub` executable (linked in src/tools/CMakeLists).
//
// Why: a CPU forward or training step allocates activation tensors of tens of MB and frees them
// at the end; glibc hands such blocks back to the kernel (munmap), and jemalloc's default decay
// purges them within seconds, so the next pass touches fresh pages and spends a third of its
// time in page faults (measured: docs/performance.md, "Allocator"). Dirty pages are therefore
// kept for reuse instead of being purged; RSS stays at the process's peak, which the engine's
// memory budget already bounds. MALLOC_CONF in the environment still overrides this.
extern "C" {
// jemalloc reads this symbol once, before main; Debian's libjemalloc is unprefixed.
extern const char* malloc_conf;
const char* malloc_conf = "dirty_decay_ms:-1,muzzy_decay_ms:-1";
}
