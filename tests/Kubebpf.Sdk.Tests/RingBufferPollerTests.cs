using Kubebpf.Sdk.Bpf;

namespace Kubebpf.Sdk.Tests;

/// <summary>When the poller may sleep after a drain instead of draining again at once.</summary>
public sealed class RingBufferPollerTests
{
    private const uint Ring = 8 << 20;
    private static readonly TimeSpan Poll = TimeSpan.FromMilliseconds(5);

    [Fact]
    public void Sleeps_while_the_records_of_one_poll_interval_fill_at_most_a_quarter_of_the_ring()
    {
        // 24 KB in a 1 ms drain: 24 MB/s, 120 KB expected in 5 ms.
        Assert.True(RingBufferPoller.HasRoomToBatch(pending: 0, arrived: 24_000, TimeSpan.FromMilliseconds(1), Poll, Ring));
        // Up to a quarter, what is pending included.
        Assert.True(RingBufferPoller.HasRoomToBatch(pending: Ring / 8, arrived: Ring / 8 / 5, TimeSpan.FromMilliseconds(1), Poll, Ring));
    }

    [Fact]
    public void Drains_again_at_once_when_the_expected_records_pass_a_quarter_of_the_ring()
    {
        Assert.False(RingBufferPoller.HasRoomToBatch(pending: 0, arrived: Ring / 4 / 5 + 1, TimeSpan.FromMilliseconds(1), Poll, Ring));
    }

    [Fact]
    public void Drains_again_at_once_while_a_quarter_of_the_ring_is_already_pending()
    {
        Assert.False(RingBufferPoller.HasRoomToBatch(pending: Ring / 4 + 1, arrived: 0, TimeSpan.FromMilliseconds(1), Poll, Ring));
    }

    [Fact]
    public void A_drain_too_short_to_time_counts_as_a_microsecond_and_keeps_a_small_ring_draining()
    {
        // One 150-byte record during a drain the clock could not resolve: 150 B/µs, 750 KB per 5 ms against a 64 KiB ring.
        Assert.False(RingBufferPoller.HasRoomToBatch(pending: 0, arrived: 150, TimeSpan.Zero, Poll, 64 * 1024));
        // Nothing arrived: the ring only holds what is pending.
        Assert.True(RingBufferPoller.HasRoomToBatch(pending: 100, arrived: 0, TimeSpan.Zero, Poll, 64 * 1024));
    }
}
