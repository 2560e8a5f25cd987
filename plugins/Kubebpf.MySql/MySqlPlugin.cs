using Kubebpf.Sdk.Pipeline;
using Kubebpf.Sdk.Protocols;
using Microsoft.Extensions.DependencyInjection;

namespace Kubebpf.MySql;

/// <summary>
/// The MySQL / MariaDB client-server protocol as a stream protocol of the capture plugin (Kubebpf.Capture): no probe
/// of its own, it parses the TCP connections the capture classifies as MySQL and hands back one exchange per command
/// and answer.
/// </summary>
public sealed class MySqlPlugin : IPlugin
{
    /// <inheritdoc />
    public void ConfigureServices(IServiceCollection services, PluginContext context)
    {
        services.AddSingleton(PluginOptions.Load<MySqlOptions>(context));
        services.AddSingleton<IStreamProtocol, MySqlProtocol>();
    }
}
