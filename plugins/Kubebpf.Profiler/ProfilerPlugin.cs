using Kubebpf.Sdk.Pipeline;
using Microsoft.Extensions.DependencyInjection;

namespace Kubebpf.Profiler;

/// <summary>
/// Continuous CPU profiling: a perf_event program samples every CPU, the kernel counts stacks, and the profiler
/// writes per-pod flame graphs (<c>cpu_profile</c>, <c>cpu_profile_functions</c>) and optional SVG and
/// collapsed-stack files. See README.md.
/// </summary>
public sealed class ProfilerPlugin : IPlugin
{
    /// <inheritdoc />
    public void ConfigureServices(IServiceCollection services, PluginContext context)
    {
        ArgumentNullException.ThrowIfNull(services);
        services.AddSingleton(PluginOptions.Load<ProfilerOptions>(context));
        services.AddSingleton<IProbe, ProfilerProbe>();
        services.AddSingleton(ProfilerContract.ProfileRows);
        services.AddSingleton(ProfilerContract.FunctionRows);
    }
}
