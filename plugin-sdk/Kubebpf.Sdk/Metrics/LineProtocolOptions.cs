namespace Kubebpf.Sdk.Metrics;

/// <summary>How <see cref="LineProtocol"/> writes points. Immutable; share one instance.</summary>
public sealed record LineProtocolOptions
{
    /// <summary>The defaults: unsigned integers keep their <c>u</c> suffix (InfluxDB 2.x, 1.8+ with it enabled).</summary>
    public static LineProtocolOptions Default { get; } = new();

    /// <summary>For InfluxDB 1.x, which rejects the <c>u</c> suffix: unsigned values are written as integers.</summary>
    public static LineProtocolOptions InfluxDb1 { get; } = new() { UnsignedAsInteger = true };

    /// <summary>
    /// Writes <see cref="FieldKind.UInteger"/> values with the <c>i</c> suffix. Values above <see cref="long.MaxValue"/>
    /// are clamped to it, because a signed field cannot hold them.
    /// </summary>
    public bool UnsignedAsInteger { get; init; }
}
