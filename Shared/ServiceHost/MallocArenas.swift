#if canImport(Glibc)
    import CMalloc
    import Glibc
#endif

/// glibc gives each thread that meets contention an arena of its own, up to eight per core;
/// a service runs a dozen threads (NIO, the concurrency pool, librdkafka's), and memory freed
/// in one arena is not reused by another. Two arenas kept the campaigns service's heap at 33
/// MB instead of 45 MB while it sent 990 mails/s (`make bench-campaigns`), no slower.
/// `MALLOC_ARENA_MAX` in the environment still decides when set.
enum MallocArenas {
    static func limit(to count: Int32 = 2) {
        #if canImport(Glibc)
            if getenv("MALLOC_ARENA_MAX") == nil { _ = mallopt(M_ARENA_MAX, count) }
        #endif
    }
}
