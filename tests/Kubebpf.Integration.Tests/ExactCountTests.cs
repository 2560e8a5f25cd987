using Kubebpf.Testing;

namespace Kubebpf.Integration.Tests;

/// <summary>
/// Real traffic between two pods, seen by the published agent on both pods' veths: every request is in the call log
/// exactly once as the server's <c>in</c> and once as the client's <c>out</c>, with the status nginx says it sent.
/// </summary>
[Collection(KernelCollection.Name)]
[Trait("Category", "Kernel")]
public sealed class ExactCountTests(InfluxDbServer influx)
{
    [Theory]
    [InlineData("IPv4", "socket")]
    [InlineData("IPv6", "socket")]
    [InlineData("IPv4", "tc")]
    [InlineData("IPv6", "tc")]
    public async Task Every_request_is_logged_once_per_side_with_its_method_status_and_peer(string family, string attach)
    {
        await using var scenario = AgentScenario.Create(influx, attach: attach);
        using var nginx = PodNginx.Start(scenario.Pods, scenario.Server, TrafficPlan.NginxLocations);
        await scenario.StartAgentAsync();

        var host = family == "IPv6" ? $"[{scenario.Server.IPv6}]" : scenario.Server.IPv4;
        TrafficPlan.Run(scenario.Client, host, scenario.WorkDirectory);
        var plan = TrafficPlan.All;
        var served = await nginx.ReadAccessLogAsync(plan.Count, TimeSpan.FromSeconds(10));
        Assert.Equal(TrafficPlan.Sorted(plan), TrafficPlan.Sorted(served.Select(e => new PlannedRequest(e.Method, e.Uri, e.Status))));

        await scenario.WaitForCallLogAsync(2 * plan.Count, TimeSpan.FromSeconds(15));
        Assert.Equal(0, await scenario.StopAgentAsync());

        await scenario.AssertCallLogAsync(plan);
        await scenario.AssertNothingLostAsync(2 * plan.Count);
    }
}
