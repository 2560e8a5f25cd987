using Kubebpf.Sdk.Events;
using Kubebpf.Sdk.Metrics;
using Kubebpf.ServiceMap.Aggregation;
using Kubebpf.ServiceMap.Output;
using static Kubebpf.ServiceMap.Tests.Observations;

namespace Kubebpf.ServiceMap.Tests;

public sealed class ServiceMapAggregatorTests
{
    private const string Calls = ServiceMapContract.Calls;
    private const string Connections = ServiceMapContract.Connections;

    [Fact]
    public void A_call_between_two_observed_pods_is_counted_once_on_the_clients_side()
    {
        var map = new MapHarness();
        for (var i = 0; i < 220; i++)
        {
            var outcome = i < 20 ? ExchangeOutcome.Error : ExchangeOutcome.Success;
            map.Calls(Call(TrafficDirection.Out, outcome, Client, Server), Call(TrafficDirection.In, outcome, Client, Server));
        }

        map.Flush();

        var point = Assert.Single(map.Output.Measurement(Calls));
        Assert.Equal(
            ("shop/client", "shop/server", "80", "http", "shop/client->shop/server", "node-a", null),
            (point.Tag("source"), point.Tag("target"), point.Tag("port"), point.Tag("protocol"), point.Tag("edge"), point.Tag("node"), point.Tag("service")));
        Assert.Equal((220L, 20L), (map.Sum(Calls, "requests"), map.Sum(Calls, "errors")));
        Assert.Equal(220, map.Metrics.Value("left_to_client_side"));
        Assert.Equal(220, CallStats.BucketFields.Sum(b => point.Fields.Single(f => f.Key == b).Value.AsLong));
        Assert.Equal(220, map.Sum(ServiceMapContract.Edges, "requests"));
    }

    [Fact]
    public void Calls_from_clients_no_agent_observes_are_counted_on_the_servers_side()
    {
        var map = new MapHarness();
        map.Calls(
            Call(TrafficDirection.In, client: null, server: Server, clientEndpoint: Endpoint("203.0.113.9", 5000)),
            Call(TrafficDirection.In, client: Node, server: Server));
        map.Flush();

        Assert.Equal(["external->shop/server", "host/node-a->shop/server"], map.Output.Measurement(Calls).Select(p => p.Tag("edge")).Order(StringComparer.Ordinal));
        Assert.Equal(0, map.Metrics.Value("left_to_client_side"));
    }

    [Fact]
    public void Addresses_outside_the_cluster_are_named_by_learned_names_then_networks_then_external()
    {
        var names = new FakePeerNames(new() { [Endpoint("198.51.100.7", 0)] = "api.example.com" });
        var options = new ServiceMapOptions { NodeName = "node-a", SnapshotFile = "", Networks = new() { ["office"] = ["172.16.0.0/16"], ["office-lab"] = ["172.16.5.0/24"] } };
        var map = new MapHarness(options, names);
        foreach (var address in (string[])["198.51.100.7", "172.16.1.1", "172.16.5.5", "172.16.5.6", "192.0.2.1", "192.0.2.2"])
        {
            map.Calls(Call(TrafficDirection.Out, client: Client, server: null, serverEndpoint: Endpoint(address, 443)));
        }

        map.Flush();

        var targets = map.Output.Measurement(Calls).ToDictionary(p => p.Tag("target")!, p => p.Fields.Single(f => f.Key == "requests").Value.AsLong);
        Assert.Equal(new Dictionary<string, long> { ["api.example.com"] = 1, ["office"] = 1, ["office-lab"] = 2, ["external"] = 2 }, targets);
        var subtitles = map.Output.Measurement(ServiceMapContract.Nodes).ToDictionary(p => p.Tag("id")!, p => p.Tag("subtitle"));
        Assert.Equal(("dns", "network", "Deployment, shop"), (subtitles["api.example.com"], subtitles["external"], subtitles["shop/client"]));
    }

    [Fact]
    public void A_service_address_is_counted_on_the_edge_to_the_backend_the_kernel_chose_with_the_service_named()
    {
        var virtualIp = Endpoint("10.96.0.50", 80);
        var backend = Endpoint("10.1.0.2", 8080);
        var resolver = new FakeResolver(new() { [backend.WithPort(0)] = Server });
        var map = new MapHarness(translator: new FakeTranslator(virtualIp, backend), resolver: resolver);
        for (var i = 0; i < 100; i++)
        {
            map.Calls(Call(TrafficDirection.Out, client: Client, server: null, serverEndpoint: virtualIp));
        }

        map.Connections(Connection(TrafficDirection.Out, Client, null, virtualIp, clientBytes: 10));
        map.Flush();

        var calls = Assert.Single(map.Output.Measurement(Calls));
        Assert.Equal(("shop/server", "8080", "server-svc", 100L), (calls.Tag("target"), calls.Tag("port"), calls.Tag("service"), map.Sum(Calls, "requests")));
        var connections = Assert.Single(map.Output.Measurement(Connections));
        Assert.Equal(("shop/server", "server-svc", 1L), (connections.Tag("target"), connections.Tag("service"), map.Sum(Connections, "connects")));
    }

    [Fact]
    public void A_cluster_IP_a_metadata_source_names_keeps_its_service_name_on_the_edge_to_the_backend()
    {
        var virtualIp = Endpoint("10.96.0.10", 80);
        var backend = Endpoint("10.1.0.2", 8080);
        var service = new Kubebpf.Sdk.Metadata.WorkloadIdentity("shop", "", "Deployment", "server", "api", "");
        var map = new MapHarness(translator: new FakeTranslator(virtualIp, backend), resolver: new FakeResolver(new() { [backend.WithPort(0)] = Server }));
        map.Calls(Call(TrafficDirection.Out, client: Client, server: service, serverEndpoint: virtualIp));
        map.Calls(Call(TrafficDirection.Out, client: Client, server: Server, serverEndpoint: backend)); // straight to the pod: no service
        map.Flush();

        Assert.Equal(
            [("8080", "api"), ("8080", (string?)null)],
            map.Output.Measurement(Calls).Select(p => (p.Tag("port"), p.Tag("service"))).OrderBy(t => t.Item2 is null));
        Assert.Single(map.Output.Measurement(ServiceMapContract.Edges));
    }

    [Fact]
    public void Connections_count_connects_failures_and_bytes_once_and_keep_open_ones_active_across_windows()
    {
        var map = new MapHarness();
        for (var i = 0; i < 50; i++)
        {
            map.Connections(
                Connection(TrafficDirection.Out, Client, Server, clientBytes: 1_000, serverBytes: 1_000),
                Connection(TrafficDirection.In, Client, Server, clientBytes: 1_000, serverBytes: 1_000));
        }

        var closedPort = Endpoint("10.1.0.2", 81);
        var droppedPort = Endpoint("10.1.0.2", 82);
        for (var i = 0; i < 10; i++)
        {
            map.Connections(Connection(TrafficDirection.Out, Client, Server, closedPort, connected: false, refused: true));
        }

        for (var i = 0; i < 5; i++)
        {
            map.Connections(Connection(TrafficDirection.Out, Client, Server, droppedPort, closed: false, connected: false, timedOut: true));
        }

        map.Connections(Connection(TrafficDirection.Out, Client, Server, closed: false, clientBytes: 5));
        map.Flush(10_000_000_000);

        Assert.Equal((51L, 50_005L, 50_000L), (map.Sum(Connections, "connects"), map.Sum(Connections, "bytes_sent"), map.Sum(Connections, "bytes_received")));
        Assert.Equal((10L, 5L), (map.Sum(Connections, "refused", p => p.Tag("port") == "81"), map.Sum(Connections, "timeouts", p => p.Tag("port") == "82")));
        Assert.Equal((1L, 5L), (map.Sum(Connections, "active", p => p.Tag("port") == "80"), map.Sum(Connections, "active", p => p.Tag("port") == "82")));
        Assert.Equal((15L, 6L), (map.Sum(ServiceMapContract.Edges, "failed_connects"), map.Sum(ServiceMapContract.Edges, "active")));

        // The next window: only the connections still open, as a gauge, until they close.
        map.Output.Clear();
        map.Flush(20_000_000_000);
        Assert.Equal([("80", 1L, 0L), ("82", 5L, 0L)], map.Output.Measurement(Connections).Select(p => (p.Tag("port"), Field(p, "active"), Field(p, "connects"))).Order());
        map.Connections(Connection(TrafficDirection.Out, Client, Server, opened: false, connected: false));
        map.Output.Clear();
        map.Flush(30_000_000_000);
        Assert.Equal([("82", 5L)], map.Output.Measurement(Connections).Select(p => (p.Tag("port"), Field(p, "active"))));
    }

    [Fact]
    public void A_port_scan_makes_a_bounded_number_of_edges_and_is_counted()
    {
        var map = new MapHarness(new ServiceMapOptions { NodeName = "node-a", SnapshotFile = "", MaxPortsPerPeer = 16 });
        for (var port = 1; port <= 10_000; port++)
        {
            map.Connections(Connection(TrafficDirection.Out, Client, Server, Endpoint("10.1.0.2", (ushort)port), connected: false, refused: true));
        }

        map.Flush();

        var points = map.Output.Measurement(Connections);
        Assert.Equal(17, points.Count);
        Assert.Equal(10_000 - 16, Field(points.Single(p => p.Tag("port") == "other"), "refused"));
        Assert.Equal(10_000, map.Sum(Connections, "refused"));
        Assert.Equal(10_000 - 16, map.Metrics.Value("ports_collapsed"));
    }

    [Fact]
    public void Beyond_MaxEdges_calls_are_left_out_and_counted()
    {
        var map = new MapHarness(new ServiceMapOptions { NodeName = "node-a", SnapshotFile = "", MaxEdges = 3 });
        for (var i = 0; i < 5; i++)
        {
            map.Calls(Call(TrafficDirection.Out, client: Client, server: Server with { WorkloadName = $"server{i}" }));
        }

        map.Flush();
        Assert.Equal((3, 2L), (map.Output.Measurement(Calls).Count, map.Metrics.Value("edges_overflow")));
    }

    [Fact]
    public void Every_edge_end_is_a_node_and_every_point_keeps_to_the_declared_contract()
    {
        var map = new MapHarness();
        map.Calls(Call(TrafficDirection.Out, ExchangeOutcome.Error, Client, Server), Call(TrafficDirection.In, client: null, server: Client));
        map.Connections(Connection(TrafficDirection.Out, Client, null, Endpoint("192.0.2.1", 5432)));
        map.Flush();

        var nodes = map.Output.Measurement(ServiceMapContract.Nodes).Select(p => p.Tag("id")).ToHashSet();
        var edges = map.Output.Measurement(ServiceMapContract.Edges);
        Assert.Equal(3, edges.Count);
        Assert.All(edges, e => Assert.True(nodes.Contains(e.Tag("source")) && nodes.Contains(e.Tag("target")), e.Tag("id")));
        var server = map.Output.Measurement(ServiceMapContract.Nodes).Single(p => p.Tag("id") == "shop/server");
        Assert.Equal((0.0, 1.0), (server.Fields.Single(f => f.Key == "arc_ok_weight").Value.AsDouble, server.Fields.Single(f => f.Key == "arc_weight").Value.AsDouble));

        var contracts = ServiceMapContract.All.ToDictionary(c => c.Name);
        Assert.All(map.Output.Points, p => Assert.Empty(contracts[p.Measurement].Violations(p)));
    }

    [Fact]
    public void Percentiles_are_estimated_within_their_bucket_and_never_beyond_the_largest_duration()
    {
        var stats = new CallStats();
        for (var i = 1; i <= 100; i++)
        {
            stats.Record(ExchangeOutcome.Success, i * 100_000L); // 0.1 ms to 10 ms
        }

        Assert.InRange(stats.QuantileMs(0.5), 4.9, 5.1);
        Assert.InRange(stats.QuantileMs(0.99), 9.8, 10.0);
        Assert.Equal(10.0, stats.QuantileMs(1.0), 6);
    }

    private static long Field(MetricPoint point, string key) => point.Fields.Single(f => f.Key == key).Value.AsLong;
}
