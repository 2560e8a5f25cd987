using Kubebpf.Agent.SelfMetrics;

namespace Kubebpf.Agent.Tests.SelfMetrics;

public sealed class ProcessMetricsTests
{
    [Fact]
    public void Status_figures_are_read_in_bytes_and_private_memory_is_anonymous_plus_shared_memory()
    {
        const string status = "Name:\tkubebpf\nVmPeak:\t 5000000 kB\nVmHWM:\t   99616 kB\nVmRSS:\t   81000 kB\nRssAnon:\t   17612 kB\n" +
            "RssFile:\t   68860 kB\nRssShmem:\t   13144 kB\nThreads:\t17\n";

        var memory = ProcessMemory.Parse(status);

        Assert.Equal(new ProcessMemory(81000L * 1024, 99616L * 1024, (17612L + 13144) * 1024), memory);
    }

    [Theory]
    [InlineData("")]
    [InlineData("VmRSS:\tmany kB\nVmHWM: 12 MB\nRssAnon:\t1 kB\n")]
    public void Missing_or_malformed_figures_are_minus_one(string status)
    {
        Assert.Equal(new ProcessMemory(-1, -1, -1), ProcessMemory.Parse(status));
    }

    [Fact]
    public void This_process_status_file_has_every_figure()
    {
        var memory = ProcessMemory.Parse(File.ReadAllText("/proc/self/status"));

        Assert.True(memory.Private > 0 && memory.Rss >= memory.Private && memory.PeakRss >= memory.Rss, memory.ToString());
    }
}
