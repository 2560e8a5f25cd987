using Kubebpf.Red.Routing;

namespace Kubebpf.Red.Tests;

public class RouteTableTests
{
    [Fact]
    public void Hands_out_one_string_instance_per_route()
    {
        var table = new RouteTable(capacity: 10);

        var first = table.Resolve("/users/1", out _);
        var second = table.Resolve("/users/2", out var collapsed);

        Assert.Equal("/users/{id}", first);
        Assert.Same(first, second);
        Assert.False(collapsed);
        Assert.Equal(1, table.Count);
    }

    [Fact]
    public void Routes_beyond_the_cap_collapse_into_other_while_known_routes_stay()
    {
        var table = new RouteTable(capacity: 2);

        Assert.Equal("/a", table.Resolve("/a", out _));
        Assert.Equal("/b", table.Resolve("/b", out _));
        Assert.Equal(RouteTable.OtherRoute, table.Resolve("/c", out var collapsed));
        Assert.True(collapsed);
        Assert.Equal("/a", table.Resolve("/a", out var knownCollapsed));
        Assert.False(knownCollapsed);
        Assert.Equal(2, table.Count);
    }
}
