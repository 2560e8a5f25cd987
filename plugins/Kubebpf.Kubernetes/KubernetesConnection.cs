using k8s;

namespace Kubebpf.Kubernetes;

/// <summary>How the plugin reaches the API server.</summary>
internal static class KubernetesConnection
{
    /// <summary>
    /// A client from <paramref name="kubeConfig"/> when given, else from the pod's service account when running in a
    /// cluster, else from the default kubeconfig (<c>~/.kube/config</c>).
    /// </summary>
    public static IKubernetes Create(string kubeConfig)
    {
        var config = string.IsNullOrEmpty(kubeConfig)
            ? KubernetesClientConfiguration.IsInCluster()
                ? KubernetesClientConfiguration.InClusterConfig()
                : KubernetesClientConfiguration.BuildConfigFromConfigFile()
            : KubernetesClientConfiguration.BuildConfigFromConfigFile(kubeConfig);
        return new k8s.Kubernetes(config);
    }
}
