using System.Runtime.InteropServices;
using System.Text;
using Microsoft.Extensions.Logging;

namespace Kubebpf.Sdk.Bpf;

/// <summary>
/// Routes libbpf's process-wide print callback into <see cref="ILogger"/> and lets a call capture what libbpf
/// prints meanwhile (the verifier log of a failed load arrives that way). libbpf prints on the calling thread,
/// so the capture scope is thread-static.
/// </summary>
internal static unsafe class LibBpfLog
{
    private const int StackBufferSize = 1024;
    private static readonly Lock InstallLock = new();
    private static volatile ILogger? _fallback;
    private static bool _installed;

    [ThreadStatic]
    private static Scope? _current;

    /// <summary>Installs the callback once; later loggers replace the fallback used outside any scope.</summary>
    internal static void Install(ILogger logger)
    {
        _fallback = logger;
        lock (InstallLock)
        {
            if (!_installed)
            {
                LibBpf.libbpf_set_print(&Print);
                _installed = true;
            }
        }
    }

    /// <summary>Starts capturing libbpf output of this thread; dispose to stop.</summary>
    internal static Scope Capture(ILogger logger)
    {
        Install(logger);
        return _current = new Scope(logger, _current);
    }

    /// <summary>Formats one libbpf message (also used by tests).</summary>
    internal static string Format(byte* format, nint args)
    {
        var stack = stackalloc byte[StackBufferSize];
        // A va_list can be walked once; copy it (va_copy is a plain copy on x86-64 and arm64) for a second pass.
        var copySize = RuntimeInformation.ProcessArchitecture switch
        {
            Architecture.X64 => 24,
            Architecture.Arm64 => 32,
            _ => 0,
        };
        var copy = stackalloc byte[32];
        if (copySize > 0)
        {
            Buffer.MemoryCopy((void*)args, copy, 32, copySize);
        }

        var needed = LibC.vsnprintf(stack, StackBufferSize, format, args);
        if (needed < 0)
        {
            return "";
        }

        if (needed < StackBufferSize || copySize == 0)
        {
            return Encoding.UTF8.GetString(stack, Math.Min(needed, StackBufferSize - 1));
        }

        var heap = (byte*)NativeMemory.Alloc((nuint)needed + 1);
        try
        {
            LibC.vsnprintf(heap, (nuint)needed + 1, format, (nint)copy);
            return Encoding.UTF8.GetString(heap, needed);
        }
        finally
        {
            NativeMemory.Free(heap);
        }
    }

    [UnmanagedCallersOnly]
    private static int Print(int level, byte* format, nint args)
    {
        try
        {
            var message = Format(format, args);
            var scope = _current;
            scope?.Append(message);
            var logger = scope?.Logger ?? _fallback;
            logger?.Log(level switch
            {
                LibBpf.LIBBPF_WARN => LogLevel.Warning,
                LibBpf.LIBBPF_INFO => LogLevel.Debug,
                _ => LogLevel.Trace,
            }, "libbpf: {Message}", message.TrimEnd());
        }
#pragma warning disable CA1031 // nothing may escape into native code; a lost log line is the lesser harm
        catch (Exception)
#pragma warning restore CA1031
        {
        }

        return 0;
    }

    /// <summary>A capture of libbpf output on one thread.</summary>
    internal sealed class Scope(ILogger logger, Scope? previous) : IDisposable
    {
        private readonly StringBuilder _text = new();

        internal ILogger Logger { get; } = logger;

        internal string Text => _text.ToString();

        internal void Append(string message) => _text.Append(message);

        /// <summary>The verifier log printed by libbpf for a rejected program (its tail), or null.</summary>
        internal string? VerifierLog(int maxLines = 30)
        {
            var text = Text;
            var begin = text.LastIndexOf("-- BEGIN PROG LOAD LOG --", StringComparison.Ordinal);
            if (begin < 0)
            {
                return null;
            }

            var end = text.IndexOf("-- END PROG LOAD LOG --", begin, StringComparison.Ordinal);
            var log = text[(text.IndexOf('\n', begin) + 1)..(end < 0 ? text.Length : end)];
            var lines = log.Split('\n', StringSplitOptions.RemoveEmptyEntries);
            return string.Join(Environment.NewLine, lines.Skip(Math.Max(0, lines.Length - maxLines)));
        }

        public void Dispose() => _current = previous;
    }
}
