using System.Runtime.InteropServices;

namespace Kubebpf.Sdk.Bpf;

/// <summary>
/// A libbpf or kernel call failed. The message names the call, the errno and what to do about it;
/// a verifier rejection carries an excerpt of the verifier log.
/// </summary>
public sealed class BpfException : Exception
{
    /// <summary>Creates an exception for a failed call.</summary>
    /// <param name="call">The libbpf or libc function that failed, e.g. <c>bpf_object__load</c>.</param>
    /// <param name="errno">The positive errno value.</param>
    /// <param name="context">What was being done, e.g. the object or map name; may be empty.</param>
    /// <param name="verifierLog">The verifier log of a rejected program, if any.</param>
    public BpfException(string call, int errno, string context = "", string? verifierLog = null)
        : base(Format(call, errno, context, verifierLog))
    {
        Call = call;
        Errno = errno;
        VerifierLog = verifierLog;
    }

    /// <summary>The libbpf or libc function that failed.</summary>
    public string Call { get; }

    /// <summary>The positive errno value.</summary>
    public int Errno { get; }

    /// <summary>The symbolic errno name, e.g. <c>EPERM</c>.</summary>
    public string ErrnoName => Bpf.Errno.Name(Errno);

    /// <summary>The verifier log excerpt when the kernel rejected a program, otherwise null.</summary>
    public string? VerifierLog { get; }

    private static string Format(string call, int errno, string context, string? verifierLog)
    {
        var what = context.Length == 0 ? call : $"{call} ({context})";
        var message = $"{what} failed: {Bpf.Errno.Name(errno)} ({Marshal.GetPInvokeErrorMessage(errno)}).";
        var remedy = Bpf.Errno.Remedy(call, errno, verifierLog is not null);
        if (remedy.Length > 0)
        {
            message += " " + remedy;
        }

        return verifierLog is null ? message : message + Environment.NewLine + "Verifier log (end):" + Environment.NewLine + verifierLog;
    }
}

/// <summary>Errno names and remedies for the failures users actually meet.</summary>
internal static class Errno
{
    internal const int EPERM = 1;
    internal const int ENOENT = 2;
    internal const int E2BIG = 7;
    internal const int EBADF = 9;
    internal const int EAGAIN = 11;
    internal const int ENOMEM = 12;
    internal const int EACCES = 13;
    internal const int EFAULT = 14;
    internal const int EBUSY = 16;
    internal const int EEXIST = 17;
    internal const int ENODEV = 19;
    internal const int EINVAL = 22;
    internal const int ENOSPC = 28;
    internal const int ERANGE = 34;
    internal const int ENOSYS = 38;
    internal const int EOPNOTSUPP = 95;
    internal const int ENOTSUPP = 524;

    private const string TraceFs = "/sys/kernel/tracing";

    internal static string Name(int errno) => errno switch
    {
        EPERM => "EPERM",
        ENOENT => "ENOENT",
        3 => "ESRCH",
        4 => "EINTR",
        5 => "EIO",
        E2BIG => "E2BIG",
        EBADF => "EBADF",
        EAGAIN => "EAGAIN",
        ENOMEM => "ENOMEM",
        EACCES => "EACCES",
        EFAULT => "EFAULT",
        EBUSY => "EBUSY",
        EEXIST => "EEXIST",
        ENODEV => "ENODEV",
        EINVAL => "EINVAL",
        ENOSPC => "ENOSPC",
        ERANGE => "ERANGE",
        ENOSYS => "ENOSYS",
        EOPNOTSUPP => "EOPNOTSUPP",
        ENOTSUPP => "ENOTSUPP",
        _ => $"errno {errno}",
    };

    internal static string Remedy(string call, int errno, bool verifierRejected)
    {
        if (verifierRejected)
        {
            return "The kernel verifier rejected the program; see the log below.";
        }

        return errno switch
        {
            EPERM or EACCES => "Run as root or grant CAP_BPF and CAP_PERFMON (CAP_NET_RAW for raw sockets, CAP_SYS_ADMIN to mount).",
            ENOENT when call.Contains("tracepoint", StringComparison.Ordinal) && !Directory.Exists(TraceFs + "/events") =>
                $"tracefs is not mounted: mount tracefs at {TraceFs} (mount -t tracefs tracefs {TraceFs}).",
            ENOENT when call.Contains("tracepoint", StringComparison.Ordinal) => "No such tracepoint in this kernel (see /sys/kernel/tracing/events).",
            ENOENT when call.Contains("uprobe", StringComparison.Ordinal) => "The binary or symbol offset does not exist.",
            ENOMEM => "Raise RLIMIT_MEMLOCK (ulimit -l unlimited) or the memory cgroup limit, or shrink the maps.",
            ENOTSUPP or EOPNOTSUPP => "This kernel does not support the feature (check its config and version).",
            ENODEV => "The network interface does not exist (any more).",
            _ => "",
        };
    }
}
