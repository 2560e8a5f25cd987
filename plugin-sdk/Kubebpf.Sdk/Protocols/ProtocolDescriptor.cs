using Kubebpf.Sdk.Metrics;

namespace Kubebpf.Sdk.Protocols;

/// <summary>
/// Writes a normalised, bounded form of <paramref name="resource"/> into <paramref name="destination"/> (at most
/// <see cref="ProtocolDescriptor.MaxResourceLength"/> characters) and returns its length. Must be pure: the R.E.D.
/// plugin caches its answers per workload.
/// </summary>
public delegate int ResourceNormalizer(ReadOnlySpan<char> resource, Span<char> destination);

/// <summary>
/// Names a protocol and how its exchanges appear in measurements: <c>&lt;name&gt;_requests</c> (the call log) and
/// <c>&lt;name&gt;_red</c> (R.E.D.), with the tag and field names a protocol's users know (HTTP keeps <c>method</c>,
/// <c>route</c>, <c>status_class</c>, <c>errors_5xx</c>). One instance per protocol, shared by all its exchanges: consumers
/// compare it by reference.
/// </summary>
public sealed class ProtocolDescriptor
{
    /// <summary>Creates a descriptor.</summary>
    /// <param name="name">Lower-case letters, digits and underscores, starting with a letter (<c>http</c>, <c>redis</c>).</param>
    /// <exception cref="ArgumentException">The name is not of that form.</exception>
    public ProtocolDescriptor(string name)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        if (!char.IsAsciiLetterLower(name[0]) || name.Any(c => !char.IsAsciiLetterLower(c) && !char.IsAsciiDigit(c) && c != '_'))
        {
            throw new ArgumentException($"A protocol name is lower-case letters, digits and '_', starting with a letter: '{name}'.", nameof(name));
        }

        Name = name;
        CallLogMeasurement = name + "_requests";
        RedMeasurement = name + "_red";
    }

    /// <summary>The protocol's name: the measurement prefix and the <c>protocol</c> value of shared measurements.</summary>
    public string Name { get; }

    /// <summary>The call log's measurement, <c>&lt;name&gt;_requests</c>.</summary>
    public string CallLogMeasurement { get; }

    /// <summary>The R.E.D. measurement, <c>&lt;name&gt;_red</c>.</summary>
    public string RedMeasurement { get; }

    /// <summary>Tag of <see cref="Events.Exchange.Operation"/> (bounded by <see cref="CanonicalOperation"/>).</summary>
    public string OperationTag { get; init; } = "operation";

    /// <summary>R.E.D. tag of the normalised resource.</summary>
    public string ResourceTag { get; init; } = "resource";

    /// <summary>Call-log field of the resource as sent.</summary>
    public string ResourceField { get; init; } = "resource";

    /// <summary>Call-log tag of <see cref="Events.Exchange.Status"/>; also an R.E.D. tag when <see cref="RedGroupsByStatus"/> is set.</summary>
    public string StatusTag { get; init; } = "status";

    /// <summary>
    /// Whether <c>&lt;name&gt;_red</c> splits its resource-level series by <see cref="Events.Exchange.Status"/> too (tag
    /// <see cref="StatusTag"/>): opt in only when the status comes from a small fixed set (DNS response codes), since
    /// every status seen multiplies a resource's series. Off by default.
    /// </summary>
    public bool RedGroupsByStatus { get; init; }

    /// <summary>Call-log field of <see cref="Events.Exchange.Code"/> (written when it is not -1).</summary>
    public string CodeField { get; init; } = "code";

    /// <summary>R.E.D. field counting <see cref="Events.ExchangeOutcome.Error"/> and <see cref="Events.ExchangeOutcome.Timeout"/>.</summary>
    public string ErrorsField { get; init; } = "errors";

    /// <summary>R.E.D. field counting <see cref="Events.ExchangeOutcome.ClientError"/>.</summary>
    public string ClientErrorsField { get; init; } = "client_errors";

    /// <summary>
    /// The tag value of an operation: must return a shared string from a small set (for example the standard HTTP
    /// methods, anything else <c>OTHER</c>). The default keeps the operation as it is.
    /// </summary>
    public Func<string, string> CanonicalOperation { get; init; } = static operation => operation;

    /// <summary>How resources become R.E.D. series (ids replaced by placeholders); null keeps them as sent, cut to <see cref="MaxResourceLength"/>.</summary>
    public ResourceNormalizer? NormalizeResource { get; init; }

    /// <summary>The longest normalised resource.</summary>
    public int MaxResourceLength { get; init; } = 256;

    /// <summary>The call-log fields <see cref="IExchangeDetails"/> of this protocol may add (for the output contract).</summary>
    public IReadOnlyList<FieldContract> DetailFields { get; init; } = [];

    /// <inheritdoc />
    public override string ToString() => Name;
}
