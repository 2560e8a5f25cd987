using System.Runtime.InteropServices;

namespace Kubebpf.Capture.Capture;

/// <summary>
/// Sets the nice value of the calling thread (Linux keeps one per thread; threads it starts later inherit it). Lowering
/// it below the current value needs CAP_SYS_NICE.
/// </summary>
internal static partial class DrainPriority
{
    private const int PrioProcess = 0;

    /// <summary>Sets the calling thread's nice value; returns 0, or the errno (EACCES, EPERM) when the kernel refused.</summary>
    public static int TrySetCurrentThread(int nice) =>
        setpriority(PrioProcess, gettid(), nice) == 0 ? 0 : Marshal.GetLastPInvokeError();

    /// <summary>The calling thread's nice value.</summary>
    public static int CurrentThread()
    {
        Marshal.SetLastPInvokeError(0);
        return getpriority(PrioProcess, gettid());
    }

    [LibraryImport("libc", SetLastError = true)]
    private static partial int setpriority(int which, int who, int prio);

    [LibraryImport("libc", SetLastError = true)]
    private static partial int getpriority(int which, int who);

    [LibraryImport("libc")]
    private static partial int gettid();
}
