using Microsoft.Extensions.Hosting;

namespace Kubebpf.Agent;

/// <summary>Runs the <see cref="AgentRuntime"/> under the generic host's lifetime (Ctrl-C, SIGTERM).</summary>
internal sealed class AgentHostedService(AgentRuntime runtime, IHostApplicationLifetime lifetime) : IHostedService
{
    /// <summary>Starts the runtime, which the caller has built (see <c>Cli.RunAsync</c>); stops the agent when no probe runs any more.</summary>
    public Task StartAsync(CancellationToken cancellationToken)
    {
        runtime.NoProbeRunning.Register(lifetime.StopApplication);
        runtime.Start();
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => runtime.StopAsync();
}
