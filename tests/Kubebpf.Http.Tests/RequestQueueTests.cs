using Kubebpf.Http.Streams;

namespace Kubebpf.Http.Tests;

public class RequestQueueTests
{
    [Fact]
    public void Keeps_order_across_wrapping_and_growing_to_a_bound_that_is_not_a_power_of_two()
    {
        var queue = new RequestQueue(capacity: 3);
        Assert.True(queue.TryEnqueue(Request(1)));
        Assert.True(queue.TryEnqueue(Request(2)));
        Assert.Equal(1, Dequeue(queue));
        Assert.True(queue.TryEnqueue(Request(3))); // wraps to the first slot
        Assert.True(queue.TryEnqueue(Request(4))); // grows to 3
        Assert.False(queue.TryEnqueue(Request(5)));

        queue.SetBodyBytesOfNewest(4, 44);
        queue.SetBodyBytesOfNewest(3, 33); // no longer the newest: unchanged
        Assert.Equal(2, Dequeue(queue));
        Assert.Equal(3, Dequeue(queue));
        Assert.True(queue.TryEnqueue(Request(5))); // wraps again
        queue.SetBodyBytesOfNewest(5, 55);

        Assert.True(queue.TryDequeue(out var fourth));
        Assert.Equal((4, 44), (fourth.Id, fourth.BodyBytes));
        Assert.True(queue.TryDequeue(out var fifth));
        Assert.Equal((5, 55), (fifth.Id, fifth.BodyBytes));
        Assert.False(queue.TryDequeue(out _));
        queue.SetBodyBytesOfNewest(5, 1); // empty: nothing to set
        Assert.Equal(0, queue.Count);
    }

    private static PendingRequest Request(long id) => new() { Id = id, Method = "GET", Path = "/", Version = "HTTP/1.1", BodyBytes = -1 };

    private static long Dequeue(RequestQueue queue)
    {
        Assert.True(queue.TryDequeue(out var request));
        Assert.Equal(-1, request.BodyBytes);
        return request.Id;
    }
}
