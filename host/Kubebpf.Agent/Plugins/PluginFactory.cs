using System.Collections.Concurrent;
using System.Reflection;
using System.Reflection.Metadata;
using System.Reflection.PortableExecutable;
using Kubebpf.Sdk.Pipeline;
using McMaster.NETCore.Plugins;

namespace Kubebpf.Agent.Plugins;

/// <summary>
/// Loads plugin assemblies into their own load contexts, sharing the SDK and the Microsoft.Extensions abstractions
/// (everything the host's context resolves) with the host so that contract types have one identity. One loader per plugin folder, however many instances.
/// </summary>
internal sealed class PluginFactory : IDisposable
{
    private static readonly string SdkAssemblyName = typeof(IPlugin).Assembly.GetName().Name!;

    private readonly ConcurrentDictionary<string, PluginLoader> _loaders = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>Creates the plugin's entry point: the one public concrete <see cref="IPlugin"/> type of its assembly.</summary>
    /// <exception cref="PluginVersionException">The plugin was built against a newer SDK major version than the host's.</exception>
    public IPlugin Create(PluginDescriptor descriptor)
    {
        CheckSdkVersion(descriptor.AssemblyPath, ReferencedSdkVersion(descriptor.AssemblyPath), HostSdkVersion);
        // PreferSharedTypes: every assembly the host's context resolves (the SDK, the Microsoft.Extensions abstractions,
        // the framework) is taken from it, so contract types keep one identity. No shared-type list: the loader would
        // load the whole reference closure of each listed type up front (XML, HTTP, QUIC, cryptography: 30 assemblies
        // no plugin used, 8 MB of resident mappings).
        var loader = _loaders.GetOrAdd(descriptor.Name, _ => PluginLoader.CreateFromAssemblyFile(
            descriptor.AssemblyPath, config => config.PreferSharedTypes = true));
        var assembly = loader.LoadDefaultAssembly();
        var entryPoints = EntryPoints(assembly);
        return entryPoints.Count switch
        {
            1 => (IPlugin)Activator.CreateInstance(entryPoints[0])!,
            0 => throw new InvalidOperationException(
                $"{descriptor.AssemblyPath} has no public class implementing {nameof(IPlugin)} " +
                $"(built against SDK {typeof(IPlugin).Assembly.GetName().Version}?)."),
            _ => throw new InvalidOperationException(
                $"{descriptor.AssemblyPath} has several {nameof(IPlugin)} classes ({string.Join(", ", entryPoints.Select(t => t.FullName))}); keep one."),
        };
    }

    /// <summary>The SDK version the host was built with (its assembly version: major.minor.patch).</summary>
    internal static Version HostSdkVersion { get; } = typeof(IPlugin).Assembly.GetName().Version!;

    /// <summary>
    /// SemVer: a plugin built against an older or equal SDK major runs on this host; one built against a newer major may use
    /// contracts the host lacks, so it is refused before any of its code is loaded.
    /// </summary>
    internal static void CheckSdkVersion(string assemblyPath, Version? pluginSdk, Version hostSdk)
    {
        if (pluginSdk is not null && pluginSdk.Major > hostSdk.Major)
        {
            throw new PluginVersionException(
                $"{Path.GetFileName(assemblyPath)} was built against Kubebpf.Sdk {pluginSdk.ToString(3)}, but this agent has Kubebpf.Sdk {hostSdk.ToString(3)}: " +
                $"a newer major version is not supported. Upgrade the agent to SDK {pluginSdk.Major}.x, or build the plugin against Kubebpf.Sdk {hostSdk.Major}.x.");
        }
    }

    /// <summary>The Kubebpf.Sdk version the assembly references, read from its metadata without loading it; null when it references none.</summary>
    internal static Version? ReferencedSdkVersion(string assemblyPath)
    {
        using var stream = File.OpenRead(assemblyPath);
        using var pe = new PEReader(stream);
        var metadata = pe.GetMetadataReader();
        foreach (var handle in metadata.AssemblyReferences)
        {
            var reference = metadata.GetAssemblyReference(handle);
            if (metadata.StringComparer.Equals(reference.Name, SdkAssemblyName))
            {
                return reference.Version;
            }
        }

        return null;
    }

    private static List<Type> EntryPoints(Assembly assembly) =>
        [.. assembly.GetExportedTypes().Where(t => t is { IsClass: true, IsAbstract: false } && typeof(IPlugin).IsAssignableFrom(t))];

    public void Dispose()
    {
        foreach (var loader in _loaders.Values)
        {
            loader.Dispose();
        }
    }
}

/// <summary>A plugin needs a newer SDK than the host has.</summary>
internal sealed class PluginVersionException(string message) : Exception(message);
