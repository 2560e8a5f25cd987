using Kubebpf.Http.Routing;
using Kubebpf.Sdk.Metrics;
using Kubebpf.Sdk.Protocols;

namespace Kubebpf.Http;

/// <summary>
/// HTTP/1.x as the R.E.D. plugin and the call log name it: the measurements, tags and fields the HTTP-only agent
/// wrote (<c>http_requests</c>, <c>http_red</c>, <c>method</c>, <c>route</c>, <c>status_class</c>, <c>errors_5xx</c>, ...),
/// so existing dashboards keep working.
/// </summary>
public static class HttpProtocolDescriptor
{
    /// <summary>The one descriptor every HTTP exchange carries.</summary>
    public static ProtocolDescriptor Instance { get; } = new("http")
    {
        OperationTag = "method",
        ResourceTag = "route",
        ResourceField = "path",
        StatusTag = "status_class",
        CodeField = "status",
        ErrorsField = "errors_5xx",
        ClientErrorsField = "errors_4xx",
        CanonicalOperation = HttpMethods.Canonical,
        NormalizeResource = RouteNormalizer.Normalize,
        MaxResourceLength = RouteNormalizer.MaxRouteLength,
        DetailFields =
        [
            new("host", FieldKind.String, "", "Host header; omitted when absent.", Required: false),
            new("query", FieldKind.String, "", "Query string without '?'; only with the HTTP plugin's RecordQueryStrings.", Required: false),
            new("version", FieldKind.String, "", "HTTP version of the request, e.g. HTTP/1.1."),
        ],
    };
}

/// <summary>
/// What an HTTP exchange adds to the common model: the request's version, Host header and query string (only when
/// recorded). Immutable; a connection reuses one instance while its requests repeat version and Host.
/// </summary>
/// <param name="Version"><c>HTTP/1.1</c> or <c>HTTP/1.0</c>.</param>
/// <param name="Host">The Host header, or null.</param>
/// <param name="Query">The query string without <c>?</c>, or null when absent or not recorded.</param>
public sealed record HttpDetails(string Version, string? Host, string? Query) : IExchangeDetails
{
    /// <inheritdoc />
    public int FieldCount => 1 + (Host is null ? 0 : 1) + (Query is null ? 0 : 1);

    /// <inheritdoc />
    public void WriteFields(Span<Field> destination)
    {
        var count = 0;
        if (Host is not null)
        {
            destination[count++] = new("host", FieldValue.String(Host));
        }

        if (Query is not null)
        {
            destination[count++] = new("query", FieldValue.String(Query));
        }

        destination[count] = new("version", FieldValue.String(Version));
    }
}
