using Kubebpf.Testing;

namespace Kubebpf.Integration.Tests;

/// <summary>
/// The kernel tests run one after another and share one influxd (each test writes to its own database): on a
/// 2-core machine, agents, servers and clients of several tests at once would make the latency bounds flaky.
/// </summary>
[CollectionDefinition(Name)]
public sealed class KernelCollection : ICollectionFixture<InfluxDbServer>
{
    public const string Name = "Kernel";
}
