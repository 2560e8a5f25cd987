using Kubebpf.Sdk.Pipeline;

namespace Kubebpf.Kubernetes;

/// <summary>The plugin's configuration section (<c>Plugins:Kubernetes</c>).</summary>
public sealed class KubernetesOptions : IValidatedOptions
{
    /// <summary>This node's name: only its pods are watched. Defaults to <c>NODE_NAME</c> (the downward API).</summary>
    public string NodeName { get; set; } = Environment.GetEnvironmentVariable("NODE_NAME") ?? "";

    /// <summary>A kubeconfig file for running outside the cluster; empty means the service account inside a pod, else <c>~/.kube/config</c>.</summary>
    public string KubeConfig { get; set; } = "";

    /// <summary>How often local pods without a known host interface are looked for in <c>/proc</c>.</summary>
    public TimeSpan InterfaceScanInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>First delay before resuming a failed watch; doubles per failure up to <see cref="MaxBackoff"/>, with jitter.</summary>
    public TimeSpan MinBackoff { get; set; } = TimeSpan.FromMilliseconds(500);

    /// <summary>Longest delay between attempts to reach the API.</summary>
    public TimeSpan MaxBackoff { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Folder for the probe files: <c>ready</c> once every resource was listed, <c>alive</c> touched at each flush.
    /// Empty turns them off.
    /// </summary>
    public string HealthDirectory { get; set; } = "";

    /// <inheritdoc />
    public IEnumerable<string> Validate()
    {
        if (string.IsNullOrWhiteSpace(NodeName))
        {
            yield return "NodeName is required (or the NODE_NAME environment variable, from the downward API's spec.nodeName): only this node's pods are watched.";
        }

        if (InterfaceScanInterval <= TimeSpan.Zero)
        {
            yield return $"InterfaceScanInterval must be positive: {InterfaceScanInterval}.";
        }

        if (MinBackoff <= TimeSpan.Zero)
        {
            yield return $"MinBackoff must be positive: {MinBackoff}.";
        }

        if (MaxBackoff < MinBackoff)
        {
            yield return $"MaxBackoff must be at least MinBackoff ({MinBackoff}): {MaxBackoff}.";
        }
    }
}
