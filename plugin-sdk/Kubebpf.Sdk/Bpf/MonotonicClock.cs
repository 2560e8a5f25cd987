namespace Kubebpf.Sdk.Bpf;

/// <summary>
/// Converts <c>bpf_ktime_get_ns()</c> timestamps (CLOCK_MONOTONIC) to wall-clock time. Thread-safe.
/// </summary>
public static unsafe class MonotonicClock
{
    /// <summary>CLOCK_MONOTONIC now, in nanoseconds: the clock of <c>bpf_ktime_get_ns()</c>.</summary>
    public static ulong NowNanoseconds()
    {
        LibC.timespec now;
        LibC.clock_gettime(LibC.CLOCK_MONOTONIC, &now);
        return (ulong)(now.tv_sec * 1_000_000_000L + now.tv_nsec);
    }

    /// <summary>
    /// Nanoseconds to add to a CLOCK_MONOTONIC timestamp to get Unix time (CLOCK_REALTIME). Sampled between two
    /// monotonic readings to halve the error; re-read it now and then, since NTP slews the wall clock.
    /// </summary>
    public static long UnixOffsetNanoseconds()
    {
        LibC.timespec before, real, after;
        LibC.clock_gettime(LibC.CLOCK_MONOTONIC, &before);
        LibC.clock_gettime(LibC.CLOCK_REALTIME, &real);
        LibC.clock_gettime(LibC.CLOCK_MONOTONIC, &after);
        var monotonic = (Nanoseconds(before) + Nanoseconds(after)) / 2;
        return Nanoseconds(real) - monotonic;
    }

    private static long Nanoseconds(LibC.timespec t) => t.tv_sec * 1_000_000_000L + t.tv_nsec;
}
