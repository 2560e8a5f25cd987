using System.Runtime.InteropServices;

namespace Kubebpf.Agent.Plugins;

/// <summary>
/// An agent running as root runs its plugins' code as root: it loads plugins only from folders that no other user can
/// change, the way sshd (StrictModes) and sudo treat their files. Refused: a plugin folder, a file or folder inside it,
/// or a folder above it, that is owned by a user other than root, or writable by its group or by others (a folder
/// writable by all with the sticky bit, like /tmp, is accepted above a plugin folder: only an entry's owner may
/// replace it there).
/// </summary>
internal static partial class PluginFolderTrust
{
    private const UnixFileMode GroupOrOtherWrite = UnixFileMode.GroupWrite | UnixFileMode.OtherWrite;

    /// <summary>Whether plugins are checked: only an agent running as root runs them with root's rights.</summary>
    public static bool Applies => Environment.IsPrivilegedProcess;

    /// <summary>Checks a configured plugin directory and every folder above it.</summary>
    /// <exception cref="ConfigurationException">The first path another user could change, its mode or owner, and the fix.</exception>
    public static void CheckRoot(string root)
    {
        for (var directory = new DirectoryInfo(root).Parent; directory is not null; directory = directory.Parent)
        {
            Check(directory.FullName, root, isAncestor: true);
        }

        Check(root, root, isAncestor: false);
    }

    /// <summary>Checks a plugin folder and everything in it.</summary>
    /// <exception cref="ConfigurationException">The first path another user could change, its mode or owner, and the fix.</exception>
    public static void CheckPlugin(string folder, string root)
    {
        Check(folder, root, isAncestor: false);
        foreach (var entry in Directory.EnumerateFileSystemEntries(folder, "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal))
        {
            Check(entry, root, isAncestor: false);
        }
    }

    private static void Check(string path, string root, bool isAncestor)
    {
        var (owner, mode) = Stat(path);
        var stickyShared = isAncestor && mode.HasFlag(UnixFileMode.StickyBit);
        if ((mode & GroupOrOtherWrite) != 0 && !stickyShared)
        {
            var writers = (mode & GroupOrOtherWrite) == GroupOrOtherWrite ? "its group and others" : mode.HasFlag(UnixFileMode.GroupWrite) ? "its group" : "others";
            throw Untrusted(path, root, $"is writable by {writers} (mode {Octal(mode)})", $"chmod go-w '{path}'");
        }

        if (owner != 0)
        {
            throw Untrusted(path, root, $"is owned by uid {owner}, not root", $"chown root '{path}'");
        }
    }

    private static ConfigurationException Untrusted(string path, string root, string problem, string fix) =>
        new($"plugin folder {root} cannot be trusted: {path} {problem}, so a user other than root could change the code "
            + $"the agent would run as root. Fix: {fix} (for a whole plugin folder: chown -R root: '{root}' && chmod -R go-w '{root}').");

    private static string Octal(UnixFileMode mode) => Convert.ToString((int)mode, 8).PadLeft(4, '0');

    /// <summary>Owner and mode of <paramref name="path"/>, following symbolic links (what a load would read).</summary>
    private static unsafe (uint Owner, UnixFileMode Mode) Stat(string path)
    {
        // struct statx (include/uapi/linux/stat.h) has the same layout on every architecture: stx_uid at 20, stx_mode at 28.
        const int AtFdCwd = -100;
        const uint StatxBasicStats = 0x7ff;
        var buffer = stackalloc byte[256];
        if (statx(AtFdCwd, path, 0, StatxBasicStats, buffer) != 0)
        {
            throw new ConfigurationException($"plugin folder check: cannot read the owner of {path}: {Marshal.GetLastPInvokeErrorMessage()}");
        }

        var mode = (UnixFileMode)(*(ushort*)(buffer + 28) & 0xfff);
        return (*(uint*)(buffer + 20), mode);
    }

    [LibraryImport("libc", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static unsafe partial int statx(int dirfd, string pathname, int flags, uint mask, byte* statxbuf);
}
