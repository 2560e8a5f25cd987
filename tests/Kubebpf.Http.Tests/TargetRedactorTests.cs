using Kubebpf.Http.Privacy;

namespace Kubebpf.Http.Tests;

public class TargetRedactorTests
{
    [Theory]
    [InlineData("http://alice:s3cret@shop.example/cart", "http://{redacted}@shop.example/cart")]
    [InlineData("http://alice@shop.example", "http://{redacted}@shop.example")]
    [InlineData("https://a:b@c@shop.example:8443/x/y", "https://{redacted}@shop.example:8443/x/y")]
    [InlineData("alice:s3cret@proxy.example:443", "{redacted}@proxy.example:443")]
    [InlineData("//alice:s3cret@shop.example/cart", "//{redacted}@shop.example/cart")]
    [InlineData("http://shop.example/users/me@example.com", "http://shop.example/users/me@example.com")]
    public void Userinfo_is_always_masked(string target, string expected)
    {
        Assert.Equal(expected, new TargetRedactor(new HttpOptions()).Redact(target));
        Assert.Equal(expected, new TargetRedactor(new HttpOptions { RedactPaths = false }).Redact(target));
    }

    [Theory]
    [InlineData("/reset/Zm9vYmFy", "/reset/{redacted}")]
    [InlineData("/api/v1/password/reset/abc/confirm", "/api/v1/password/{redacted}/{redacted}/confirm")]
    [InlineData("/TOKEN/x", "/TOKEN/{redacted}")]
    [InlineData("/sessions/s1/renew", "/sessions/{redacted}/renew")]
    [InlineData("/reset/", "/reset/")]
    [InlineData("/api/key=AKIAIOSFODNN7EXAMPLE/objects", "/api/key={redacted}/objects")]
    [InlineData("/cart;jsessionid=0A1B2C3D/items", "/cart;jsessionid={redacted}/items")]
    [InlineData("http://u:p@h/reset/t", "http://{redacted}@h/reset/{redacted}")]
    public void Segments_after_secret_names_and_name_value_segments_are_masked(string target, string expected)
    {
        Assert.Equal(expected, new TargetRedactor(new HttpOptions()).Redact(target));
    }

    [Theory]
    [InlineData("/files/ghp_16C7e42F292c6912E7710c838347Ae178B4a")] // a GitHub token
    [InlineData("/v/eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U")] // a JWT
    [InlineData("/d/5f4dcc3b5aa765d61d8327deb882cf99")] // 32 hex digits
    [InlineData("/dl/q8Vb3xT0kLm2Zr7Yw1Pn4Hs6Jd9Fg5Ce")] // base62, 34 characters
    public void Random_looking_tokens_are_masked(string target)
    {
        Assert.EndsWith("/{redacted}", new TargetRedactor(new HttpOptions()).Redact(target), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("/docs/getting-started-with-kubernetes-on-bare-metal-nodes")]
    [InlineData("/users/550e8400-e29b-41d4-a716-446655440000/avatar")]
    [InlineData("/objects/507f1f77bcf86cd799439011")]
    [InlineData("/api/ThisIsAVeryLongCamelCaseResourceNameForTests")]
    [InlineData("/api/GetAllCustomerOrdersByRegionV2ForReportingPage")]
    [InlineData("/orders/12345678901234567890123456789012345")]
    [InlineData("/blog/2024-11-27-release-notes-for-version-2-and-3")]
    [InlineData("/static/main.3f9a2c1b.chunk.js")]
    [InlineData("/users/jane.doe@example.com")]
    [InlineData("*")]
    [InlineData("")]
    public void Words_ids_and_short_hashes_are_kept_as_the_same_string(string target)
    {
        Assert.Same(target, new TargetRedactor(new HttpOptions()).Redact(target));
    }

    [Fact]
    public void Configured_segments_and_patterns_are_masked_too_and_paths_can_be_left_alone()
    {
        var options = new HttpOptions { RedactAfterSegments = ["share"], RedactPatterns = ["acct-[0-9]+", "^/internal/[^/]+"] };

        Assert.Equal("/share/{redacted}/x/{redacted}/y", new TargetRedactor(options).Redact("/share/ab/x/acct-1234/y"));
        Assert.Equal("{redacted}/y", new TargetRedactor(options).Redact("/internal/name/y"));
        Assert.Equal("/reset/Zm9vYmFy/q8Vb3xT0kLm2Zr7Yw1Pn4Hs6Jd9Fg5Ce", new TargetRedactor(new HttpOptions { RedactPaths = false }).Redact("/reset/Zm9vYmFy/q8Vb3xT0kLm2Zr7Yw1Pn4Hs6Jd9Fg5Ce"));
        Assert.Equal("/d/5f4dcc3b5aa765d61d8327deb882cf99", new TargetRedactor(new HttpOptions { RedactTokenMinLength = 0 }).Redact("/d/5f4dcc3b5aa765d61d8327deb882cf99"));
    }

    [Fact]
    public void Exchanges_carry_masked_paths_and_hosts_and_the_route_keeps_the_mask()
    {
        var driver = new StreamDriver();

        driver.Client("GET http://bob:hunter2@shop.example/reset/Zm9vYmFy?token=abc HTTP/1.1\r\nHost: bob:hunter2@shop.example\r\n\r\n", 0);
        driver.Server("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", 10);
        driver.Client("GET http://bob:hunter2@shop.example/reset/Zm9vYmFy HTTP/1.1\r\nHost: bob:hunter2@shop.example\r\n\r\n", 20);
        driver.Server("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", 30);

        Assert.Equal(2, driver.Exchanges.Count);
        Assert.All(driver.Exchanges, e =>
        {
            Assert.Equal("http://{redacted}@shop.example/reset/{redacted}", e.Resource);
            Assert.Equal("{redacted}@shop.example", ((HttpDetails)e.Details!).Host);
            Assert.Null(((HttpDetails)e.Details!).Query);
        });
        Assert.Same(driver.Exchanges[0].Resource, driver.Exchanges[1].Resource);
        Span<char> route = stackalloc char[HttpProtocolDescriptor.Instance.MaxResourceLength];
        var length = HttpProtocolDescriptor.Instance.NormalizeResource!(driver.Exchanges[0].Resource, route);
        Assert.Equal("/reset/{redacted}", route[..length].ToString());
    }
}
