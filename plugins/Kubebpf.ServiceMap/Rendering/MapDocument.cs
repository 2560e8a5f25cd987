using System.Text.Json;
using System.Text.Json.Serialization;

namespace Kubebpf.ServiceMap.Rendering;

/// <summary>This node's map as <c>kubebpf map</c> reads it: the edges seen lately, with their totals over that time.</summary>
/// <param name="Node">The agent's node.</param>
/// <param name="UpdatedUnixMs">When the agent last wrote it.</param>
/// <param name="SinceUnixMs">The start of the period the totals cover.</param>
/// <param name="Nodes">Every end of an edge.</param>
/// <param name="Edges">The graph edges.</param>
internal sealed record MapDocument(string Node, long UpdatedUnixMs, long SinceUnixMs, IReadOnlyList<MapDocumentNode> Nodes, IReadOnlyList<MapDocumentEdge> Edges)
{
    private static readonly JsonSerializerOptions Json = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        WriteIndented = true,
        DefaultIgnoreCondition = JsonIgnoreCondition.Never,
    };

    public string ToJson() => JsonSerializer.Serialize(this, Json);

    /// <summary>Reads a document; null when the text is not one.</summary>
    public static MapDocument? Parse(string json)
    {
        try
        {
            return JsonSerializer.Deserialize<MapDocument>(json, Json);
        }
        catch (JsonException)
        {
            return null;
        }
    }
}

/// <summary>A map node.</summary>
internal sealed record MapDocumentNode(string Id, string Title, string Subtitle);

/// <summary>A graph edge's totals over the document's period.</summary>
internal sealed record MapDocumentEdge(
    string Source, string Target, long Requests, long Errors, double MeanDurationMs, long Connects, long FailedConnects, long Bytes, long Retransmits, long Active, long LastSeenUnixMs);
