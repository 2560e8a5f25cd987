using Microsoft.Extensions.Hosting;

namespace Kubebpf.Agent;

/// <summary>Runs the <see cref="AgentRuntime"/> under the generic host's lifetime (Ctrl-C, SIGTERM).</summary>
internal sealed class AgentHostedService(AgentRuntime runtime) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        runtime.Build();
        runtime.Start();
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => runtime.StopAsync();
}
