namespace Kubebpf.Sdk.Metrics;

/// <summary>What <see cref="LineProtocol"/> wrote and what it had to leave out.</summary>
/// <param name="PointsWritten">Lines written.</param>
/// <param name="PointsSkipped">Points left out entirely because none of their fields could be written.</param>
/// <param name="FieldsSkipped">Fields left out: NaN or infinite floats, or an empty key (line protocol has no form for either).</param>
public readonly record struct LineProtocolStats(int PointsWritten, int PointsSkipped, int FieldsSkipped)
{
    /// <summary>The sum of two results.</summary>
    public static LineProtocolStats operator +(LineProtocolStats left, LineProtocolStats right) =>
        new(left.PointsWritten + right.PointsWritten, left.PointsSkipped + right.PointsSkipped, left.FieldsSkipped + right.FieldsSkipped);

    /// <summary>The sum of two results.</summary>
    public static LineProtocolStats Add(LineProtocolStats left, LineProtocolStats right) => left + right;
}
