namespace Kubebpf.StaticMetadata.Parsing;

/// <summary>
/// A format-neutral document tree that remembers the 1-based line of every node, so YAML and JSON files share
/// one validator and every error names its line.
/// </summary>
internal abstract record DocumentNode(int Line);

internal sealed record MappingNode(int Line, IReadOnlyList<MappingEntry> Entries) : DocumentNode(Line);

internal readonly record struct MappingEntry(string Key, int Line, DocumentNode Value);

internal sealed record SequenceNode(int Line, IReadOnlyList<DocumentNode> Items) : DocumentNode(Line);

/// <summary>A scalar's text as written (numbers and booleans too); null for an explicit null.</summary>
internal sealed record ScalarNode(int Line, string? Value) : DocumentNode(Line);
