namespace Kubebpf.Agent.Plugins;

/// <summary>A plugin found on disk: folder <c>&lt;Name&gt;/</c> holding <c>&lt;Name&gt;.dll</c>.</summary>
internal sealed record PluginDescriptor(string Name, string Directory, string AssemblyPath);

/// <summary>Finds plugin folders in the configured drop-in directories.</summary>
internal static class PluginCatalog
{
    /// <summary>
    /// Every plugin found, first directory winning when two hold the same name. As root, each directory searched and
    /// each plugin found must be one only root can change (<see cref="PluginFolderTrust"/>).
    /// </summary>
    /// <exception cref="ConfigurationException">A folder or file another user could change, named with the fix.</exception>
    public static IReadOnlyList<PluginDescriptor> Discover(IEnumerable<string> directories, string baseDirectory)
    {
        var found = new Dictionary<string, PluginDescriptor>(StringComparer.OrdinalIgnoreCase);
        foreach (var configured in directories)
        {
            var root = Path.GetFullPath(configured, baseDirectory);
            if (!Directory.Exists(root))
            {
                continue;
            }

            if (PluginFolderTrust.Applies)
            {
                PluginFolderTrust.CheckRoot(root);
            }

            foreach (var folder in Directory.EnumerateDirectories(root).Order(StringComparer.Ordinal))
            {
                var name = Path.GetFileName(folder);
                var assembly = Path.Combine(folder, name + ".dll");
                if (File.Exists(assembly) && !found.ContainsKey(name))
                {
                    if (PluginFolderTrust.Applies)
                    {
                        PluginFolderTrust.CheckPlugin(folder, root);
                    }

                    found.Add(name, new PluginDescriptor(name, folder, assembly));
                }
            }
        }

        return [.. found.Values];
    }

    /// <summary>
    /// Finds the plugin an instance names: the exact folder name, or the name without the <c>Kubebpf.</c> prefix
    /// (so <c>Http</c> finds <c>Kubebpf.Http</c>).
    /// </summary>
    public static PluginDescriptor? Find(IReadOnlyList<PluginDescriptor> plugins, string name) =>
        plugins.FirstOrDefault(p => p.Name.Equals(name, StringComparison.OrdinalIgnoreCase))
        ?? plugins.FirstOrDefault(p => p.Name.Equals("Kubebpf." + name, StringComparison.OrdinalIgnoreCase));
}
