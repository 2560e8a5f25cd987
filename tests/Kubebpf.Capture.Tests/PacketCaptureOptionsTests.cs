using Kubebpf.Capture.Capture;
using Kubebpf.Sdk.Bpf;
using Kubebpf.Testing;

namespace Kubebpf.Capture.Tests;

public sealed class PacketCaptureOptionsTests
{
    [Fact]
    public void The_defaults_are_valid_and_capture_whole_segments()
    {
        var options = new PacketCaptureOptions();
        Assert.Empty(options.Validate());
        Assert.Equal(65536, options.MaxSegmentBytes);
        Assert.Equal(["veth*", "lo"], options.InterfacePatterns);
        Assert.Equal(["veth*"], options.PeerSidePatterns);
    }

    [Theory]
    [InlineData(nameof(PacketCaptureOptions.MaxSegmentBytes))]
    [InlineData(nameof(PacketCaptureOptions.RingBufferBytes))]
    [InlineData(nameof(PacketCaptureOptions.RescanInterval))]
    [InlineData(nameof(PacketCaptureOptions.PollInterval))]
    [InlineData(nameof(PacketCaptureOptions.IdleWait))]
    [InlineData(nameof(PacketCaptureOptions.DrainNice))]
    public void Each_invalid_value_is_named_by_its_key_and_refused_by_the_capture(string key)
    {
        var options = new PacketCaptureOptions();
        switch (key)
        {
            case nameof(PacketCaptureOptions.MaxSegmentBytes):
                options.MaxSegmentBytes = PacketCaptureOptions.MaxSegmentBytesLimit + 1;
                break;
            case nameof(PacketCaptureOptions.RingBufferBytes):
                options.RingBufferBytes = 3 << 20;
                break;
            case nameof(PacketCaptureOptions.RescanInterval):
                options.RescanInterval = TimeSpan.Zero;
                break;
            case nameof(PacketCaptureOptions.IdleWait):
                options.IdleWait = options.PollInterval - TimeSpan.FromMilliseconds(1);
                break;
            case nameof(PacketCaptureOptions.DrainNice):
                options.DrainNice = -21;
                break;
            default:
                options.PollInterval = TimeSpan.FromMilliseconds(-1);
                break;
        }

        var error = Assert.Single(options.Validate());
        Assert.StartsWith(key + " ", error, StringComparison.Ordinal);
        var refused = Assert.Throws<ArgumentException>(() => new PacketCapture(options, new ListLogger()));
        Assert.Contains(error, refused.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(-1, false)]
    [InlineData(0, true)]
    [InlineData(4096, true)]
    [InlineData(65536, true)]
    [InlineData(65537, false)]
    public void MaxSegmentBytes_lies_between_0_and_64_KiB(int value, bool valid) =>
        Assert.Equal(valid, !new PacketCaptureOptions { MaxSegmentBytes = value }.Validate().Any());

    [Theory]
    [InlineData(-21, false)]
    [InlineData(-20, true)]
    [InlineData(19, true)]
    [InlineData(20, false)]
    public void DrainNice_lies_between_minus_20_and_19(int value, bool valid) =>
        Assert.Equal(valid, !new PacketCaptureOptions { DrainNice = value }.Validate().Any());

    [Theory]
    [InlineData("socket", KernelFeatures.RawSockets)]
    [InlineData("tc", KernelFeatures.TrafficControl)]
    [InlineData("TC", KernelFeatures.TrafficControl)]
    public void Each_attachment_asks_for_its_own_capability(string attach, KernelFeatures needed)
    {
        var options = new PacketCaptureOptions { Attach = attach };
        Assert.Empty(options.Validate());
        Assert.Equal(needed, options.RequiredKernelFeatures);
    }

    [Theory]
    [InlineData("xdp")]
    [InlineData("")]
    public void An_unknown_attachment_is_refused_naming_the_choices(string attach)
    {
        var error = Assert.Single(new PacketCaptureOptions { Attach = attach }.Validate());
        Assert.Equal(
            $"Attach must be \"socket\" (a socket filter per interface, needs CAP_NET_RAW) or \"tc\" (tc clsact filters, needs CAP_NET_ADMIN), not \"{attach}\".",
            error);
    }
}
