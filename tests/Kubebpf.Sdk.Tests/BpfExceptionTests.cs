using Kubebpf.Sdk.Bpf;

namespace Kubebpf.Sdk.Tests;

public class BpfExceptionTests
{
    [Fact]
    public void Permission_errors_name_the_call_the_errno_and_the_capabilities()
    {
        var e = new BpfException("bpf_object__load", 1, "http_capture");

        Assert.Equal("EPERM", e.ErrnoName);
        Assert.StartsWith("bpf_object__load (http_capture) failed: EPERM (", e.Message, StringComparison.Ordinal);
        Assert.Contains("run as root or grant CAP_BPF and CAP_PERFMON", e.Message, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public void EACCES_without_a_verifier_log_is_a_permission_problem()
    {
        var e = new BpfException("setsockopt(SO_ATTACH_BPF)", 13);

        Assert.Contains("EACCES", e.Message, StringComparison.Ordinal);
        Assert.Contains("CAP_BPF", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_verifier_rejection_carries_the_log_instead_of_the_capability_advice()
    {
        var e = new BpfException("bpf_object__load", 13, "x", "0: (61) r0 = *(u32 *)(r1 +0)\ninvalid bpf_context access");

        Assert.Contains("verifier rejected", e.Message, StringComparison.Ordinal);
        Assert.Contains("invalid bpf_context access", e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("CAP_BPF", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(2, "ENOENT")]
    [InlineData(12, "ENOMEM")]
    [InlineData(22, "EINVAL")]
    [InlineData(524, "ENOTSUPP")]
    [InlineData(4242, "errno 4242")]
    public void Errno_names(int errno, string name) => Assert.Equal(name, new BpfException("f", errno).ErrnoName);

    [Fact]
    public void Memory_errors_point_at_memlock() =>
        Assert.Contains("RLIMIT_MEMLOCK", new BpfException("bpf_object__load", 12).Message, StringComparison.Ordinal);
}
