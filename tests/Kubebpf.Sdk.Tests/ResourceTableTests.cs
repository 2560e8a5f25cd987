using Kubebpf.Sdk.Protocols;

namespace Kubebpf.Sdk.Tests;

public class ResourceTableTests
{
    // A numeric last segment becomes {id}: "/users/1" is "/users/{id}".
    private static readonly ProtocolDescriptor HttpProtocol = new("http") { NormalizeResource = NumericLastSegmentAsId };

    [Fact]
    public void Hands_out_one_string_instance_per_normalised_resource()
    {
        var table = new ResourceTable(HttpProtocol, capacity: 10);

        var first = table.Resolve("/users/1", out _);
        var second = table.Resolve("/users/2", out var collapsed);

        Assert.Equal("/users/{id}", first);
        Assert.Same(first, second);
        Assert.False(collapsed);
        Assert.Equal(1, table.Count);
    }

    [Fact]
    public void Resources_beyond_the_cap_collapse_into_other_while_known_resources_stay()
    {
        var table = new ResourceTable(HttpProtocol, capacity: 2);

        Assert.Equal("/a", table.Resolve("/a", out _));
        Assert.Equal("/b", table.Resolve("/b", out _));
        Assert.Equal(ResourceTable.Other, table.Resolve("/c", out var collapsed));
        Assert.True(collapsed);
        Assert.Equal("/a", table.Resolve("/a", out var knownCollapsed));
        Assert.False(knownCollapsed);
        Assert.Equal(2, table.Count);
    }

    [Fact]
    public void Without_a_normaliser_a_resource_is_cut_to_the_protocol_maximum_and_never_beyond_the_hard_bound()
    {
        var table = new ResourceTable(new ProtocolDescriptor("kv") { MaxResourceLength = 4 }, capacity: 10);
        var unbounded = new ResourceTable(new ProtocolDescriptor("kv") { MaxResourceLength = int.MaxValue }, capacity: 10);

        Assert.Equal("user", table.Resolve("user:1", out _));
        Assert.Same(table.Resolve("user:1", out _), table.Resolve("user:2", out _));
        Assert.Equal(ResourceTable.LongestResource, unbounded.Resolve(new string('k', 10_000), out _).Length);
    }

    [Fact]
    public void A_normaliser_reporting_a_length_beyond_its_buffer_is_held_to_the_buffer()
    {
        var table = new ResourceTable(new ProtocolDescriptor("kv") { MaxResourceLength = 3, NormalizeResource = Overreport }, capacity: 10);

        Assert.Equal("xxx", table.Resolve("anything", out _));

        static int Overreport(ReadOnlySpan<char> resource, Span<char> destination)
        {
            destination.Fill('x');
            return destination.Length + 10;
        }
    }

    private static int NumericLastSegmentAsId(ReadOnlySpan<char> path, Span<char> destination)
    {
        var last = path.LastIndexOf('/') + 1;
        var numeric = last < path.Length && !path[last..].ContainsAnyExceptInRange('0', '9');
        var kept = numeric ? path[..last] : path;
        var length = Math.Min(kept.Length, destination.Length);
        kept[..length].CopyTo(destination);
        var id = numeric ? "{id}".AsSpan(0, Math.Min(4, destination.Length - length)) : [];
        id.CopyTo(destination[length..]);
        return length + id.Length;
    }
}
