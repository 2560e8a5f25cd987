using System.Collections.Concurrent;
using System.Reflection;
using Kubebpf.Sdk.Pipeline;
using McMaster.NETCore.Plugins;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Kubebpf.Agent.Plugins;

/// <summary>
/// Loads plugin assemblies into their own load contexts, sharing the SDK and the Microsoft.Extensions abstractions
/// with the host so that contract types have one identity. One loader per plugin folder, however many instances.
/// </summary>
internal sealed class PluginFactory : IDisposable
{
    private static readonly Type[] SharedTypes =
    [
        typeof(IPlugin), typeof(IServiceCollection), typeof(ServiceProvider), typeof(ILogger), typeof(IConfiguration),
        typeof(IOptions<>), typeof(ConfigurationBinder),
    ];

    private readonly ConcurrentDictionary<string, PluginLoader> _loaders = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>Creates the plugin's entry point: the one public concrete <see cref="IPlugin"/> type of its assembly.</summary>
    public IPlugin Create(PluginDescriptor descriptor)
    {
        var loader = _loaders.GetOrAdd(descriptor.Name, _ => PluginLoader.CreateFromAssemblyFile(
            descriptor.AssemblyPath, SharedTypes, config => config.PreferSharedTypes = true));
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
