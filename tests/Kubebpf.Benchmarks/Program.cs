using BenchmarkDotNet.Running;
using Kubebpf.Benchmarks;

if (args is [CaptureOnly.Command, .. var interfaces])
{
    return CaptureOnly.Run(interfaces);
}

BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
return 0;
