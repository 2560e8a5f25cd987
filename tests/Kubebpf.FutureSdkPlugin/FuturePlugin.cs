using Kubebpf.Sdk.Pipeline;

namespace Kubebpf.FutureSdkPlugin;

public sealed class FuturePlugin : IPlugin;
