namespace Kubebpf.Testing;

/// <summary>
/// A <see cref="PrometheusServer"/> with native histograms on (<c>--enable-feature=native-histograms</c>): it asks
/// scrape targets for the protobuf format first and stores the native histograms it finds there and in remote write.
/// </summary>
public sealed class NativeHistogramPrometheusServer : PrometheusServer
{
    /// <summary>Prometheus with the native-histograms feature.</summary>
    public NativeHistogramPrometheusServer()
        : base(["native-histograms"])
    {
    }
}
