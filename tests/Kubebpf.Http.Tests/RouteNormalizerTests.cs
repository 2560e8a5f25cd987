using Kubebpf.Http.Routing;

namespace Kubebpf.Http.Tests;

public class RouteNormalizerTests
{
    [Theory]
    [InlineData("/", "/")]
    [InlineData("/api/v1/items", "/api/v1/items")]
    [InlineData("/v2", "/v2")]
    [InlineData("/users/123", "/users/{id}")]
    [InlineData("/users/123/orders/456", "/users/{id}/orders/{id}")]
    [InlineData("/users/550e8400-e29b-41d4-a716-446655440000", "/users/{uuid}")]
    [InlineData("/users/550E8400-E29B-41D4-A716-446655440000/avatar", "/users/{uuid}/avatar")]
    [InlineData("/blobs/9f86d081884c7d659a2feaa0c55ad015a3bf4f1b", "/blobs/{hex}")]
    [InlineData("/objects/507f1f77bcf86cd799439011", "/objects/{hex}")]
    [InlineData("/deadbeefdeadbeef", "/deadbeefdeadbeef")]
    [InlineData("/orders/ord7x9k2m4", "/orders/{id}")]
    [InlineData("/oauth2callback", "/oauth2callback")]
    [InlineData("/img/a1b2", "/img/a1b2")]
    [InlineData("/reports/2024-01-31", "/reports/{id}")]
    [InlineData("/releases/1.2.3", "/releases/{id}")]
    [InlineData("/users/jane.doe@example.com", "/users/{email}")]
    [InlineData("/static/app.js", "/static/app.js")]
    [InlineData("/users/", "/users/")]
    [InlineData("/a//b", "/a//b")]
    [InlineData("/search?q=secret", "/search")]
    [InlineData("/page#top", "/page")]
    [InlineData("http://cart.shop/users/42?x=1", "/users/{id}")]
    [InlineData("http://cart.shop", "/")]
    [InlineData("*", "{non-path}")]
    [InlineData("cart.shop:443", "{non-path}")]
    [InlineData("", "{non-path}")]
    public void Normalises_paths_into_routes(string path, string expected)
    {
        Assert.Equal(expected, Normalize(path));
    }

    [Fact]
    public void A_route_longer_than_the_limit_becomes_long()
    {
        Assert.Equal("{long}", Normalize("/x/" + new string('a', RouteNormalizer.MaxRouteLength)));
    }

    [Fact]
    public void A_route_of_exactly_the_limit_is_kept()
    {
        var path = "/" + new string('a', RouteNormalizer.MaxRouteLength - 1);

        Assert.Equal(path, Normalize(path));
    }

    [Fact]
    public void Placeholders_that_lengthen_the_path_are_bounded_too()
    {
        // "/1" becomes "/{id}", so 100 such segments would need 500 characters.
        Assert.Equal("{long}", Normalize(string.Concat(Enumerable.Repeat("/1", 100))));
    }

    private static string Normalize(string path)
    {
        Span<char> buffer = stackalloc char[RouteNormalizer.MaxRouteLength];
        return buffer[..RouteNormalizer.Normalize(path, buffer)].ToString();
    }
}
