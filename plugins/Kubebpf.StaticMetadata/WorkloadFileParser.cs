using System.Collections.Frozen;
using System.Globalization;
using Kubebpf.Sdk.Metadata;
using Kubebpf.StaticMetadata.Parsing;

namespace Kubebpf.StaticMetadata;

/// <summary>
/// Validates a workload file (YAML, or JSON when the name ends in <c>.json</c>) into entries. Strict on purpose:
/// unknown keys are errors, so a typo such as <c>ip:</c> for <c>ips:</c> is reported instead of silently matching nothing.
/// </summary>
internal sealed class WorkloadFileParser
{
    private static readonly string[] TopLevelKeys = ["workloads"];
    private static readonly string[] EntryKeys = ["namespace", "pod", "workload", "service", "node", "labels", "interfaces", "ips", "ports"];
    private static readonly string[] WorkloadKeys = ["kind", "name"];

    private readonly string _path;

    private WorkloadFileParser(string path) => _path = path;

    public static IReadOnlyList<WorkloadEntry> Parse(string path, string text)
    {
        var root = path.EndsWith(".json", StringComparison.OrdinalIgnoreCase)
            ? JsonDocumentReader.Read(path, text)
            : YamlDocumentReader.Read(path, text);
        return new WorkloadFileParser(path).ParseRoot(root);
    }

    private List<WorkloadEntry> ParseRoot(DocumentNode? root)
    {
        if (root is null)
        {
            throw Error(0, "the file is empty; expected a 'workloads' list");
        }

        var map = Mapping(root, "the document", TopLevelKeys);
        var workloads = Find(map, "workloads") ?? throw Error(root.Line, "missing 'workloads' (the list of workloads)");
        if (workloads is not SequenceNode list)
        {
            throw Error(workloads.Line, "'workloads' must be a list");
        }

        return [.. list.Items.Select((item, index) => ParseEntry(item, $"workloads[{index}]"))];
    }

    private WorkloadEntry ParseEntry(DocumentNode node, string where)
    {
        var map = Mapping(node, where, EntryKeys);
        var pod = RequiredText(map, "pod", where);
        var (kind, name) = ParseWorkload(map, where, pod);
        var identity = new WorkloadIdentity(
            OptionalText(map, "namespace", where) ?? "default",
            pod,
            kind,
            name,
            OptionalText(map, "service", where) ?? "",
            OptionalText(map, "node", where) ?? "")
        {
            Labels = ParseLabels(map, where),
        };

        var interfaces = List(map, "interfaces", where, ParseInterface);
        var addresses = List(map, "ips", where, ParseAddress);
        var ports = List(map, "ports", where, ParsePort);
        if (interfaces.Count == 0 && addresses.Count == 0)
        {
            throw Error(map.Line, $"{where} ({identity.Namespace}/{pod}) has neither 'interfaces' nor 'ips', so nothing can match it");
        }

        return new WorkloadEntry(identity, map.Line, interfaces, addresses, ports);
    }

    private (string Kind, string Name) ParseWorkload(MappingNode entry, string where, string pod)
    {
        if (Find(entry, "workload") is not { } node)
        {
            return ("Pod", pod);
        }

        var map = Mapping(node, $"{where}.workload", WorkloadKeys);
        return (OptionalText(map, "kind", $"{where}.workload") ?? "Pod", OptionalText(map, "name", $"{where}.workload") ?? pod);
    }

    private FrozenDictionary<string, string> ParseLabels(MappingNode entry, string where)
    {
        if (Find(entry, "labels") is not { } node)
        {
            return FrozenDictionary<string, string>.Empty;
        }

        var map = Mapping(node, $"{where}.labels", allowedKeys: null);
        return map.Entries.ToFrozenDictionary(e => e.Key, e => Text(e.Value, $"{where}.labels.{e.Key}"), StringComparer.Ordinal);
    }

    private string ParseInterface(ScalarNode node, string where)
    {
        var name = Text(node, where);
        // IFNAMSIZ is 16 including the terminating NUL.
        if (name.Length is 0 or > 15 || name.Any(c => char.IsWhiteSpace(c) || c == '/'))
        {
            throw Error(node.Line, $"{where}: '{name}' is not a network interface name (1-15 characters, no spaces or '/')");
        }

        return name;
    }

    private IpPrefix ParseAddress(ScalarNode node, string where)
    {
        var text = Text(node, where);
        return IpPrefix.TryParse(text, out var prefix)
            ? prefix
            : throw Error(node.Line, $"{where}: '{text}' is not an IP address or CIDR block (e.g. 10.1.0.7, fd00::7, 10.1.0.0/24)");
    }

    private ushort ParsePort(ScalarNode node, string where)
    {
        var text = Text(node, where);
        return ushort.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var port) && port != 0
            ? port
            : throw Error(node.Line, $"{where}: '{text}' is not a port (1-65535)");
    }

    /// <summary>A list of scalars; a single scalar counts as a one-item list.</summary>
    private List<T> List<T>(MappingNode map, string key, string where, Func<ScalarNode, string, T> parse)
    {
        return Find(map, key) switch
        {
            null or ScalarNode { Value: null } => [],
            ScalarNode scalar => [parse(scalar, $"{where}.{key}")],
            SequenceNode sequence => [.. sequence.Items.Select((item, i) => item is ScalarNode scalar
                ? parse(scalar, $"{where}.{key}[{i}]")
                : throw Error(item.Line, $"{where}.{key}[{i}] must be a single value, not a list or mapping"))],
            var other => throw Error(other.Line, $"{where}.{key} must be a list"),
        };
    }

    private MappingNode Mapping(DocumentNode node, string where, string[]? allowedKeys)
    {
        if (node is not MappingNode map)
        {
            throw Error(node.Line, $"{where} must be a mapping of keys to values");
        }

        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var entry in map.Entries)
        {
            if (!seen.Add(entry.Key))
            {
                throw Error(entry.Line, $"{where}: duplicate key '{entry.Key}'");
            }

            if (allowedKeys is not null && !allowedKeys.Contains(entry.Key))
            {
                throw Error(entry.Line, $"{where}: unknown key '{entry.Key}' (expected one of: {string.Join(", ", allowedKeys)})");
            }
        }

        return map;
    }

    private string RequiredText(MappingNode map, string key, string where) =>
        OptionalText(map, key, where) is { Length: > 0 } text
            ? text
            : throw Error(map.Line, $"{where}: '{key}' is required");

    // An empty value (`service:`) reads as absent, as YAML users expect.
    private string? OptionalText(MappingNode map, string key, string where) => Find(map, key) switch
    {
        null or ScalarNode { Value: null } => null,
        var node => Text(node, $"{where}.{key}"),
    };

    private string Text(DocumentNode node, string where) => node is ScalarNode { Value: { } value }
        ? value
        : throw Error(node.Line, $"{where} must be a text value");

    private static DocumentNode? Find(MappingNode map, string key)
    {
        foreach (var entry in map.Entries)
        {
            if (entry.Key == key)
            {
                return entry.Value;
            }
        }

        return null;
    }

    private WorkloadFileException Error(int line, string problem) => new(_path, line, problem);
}
