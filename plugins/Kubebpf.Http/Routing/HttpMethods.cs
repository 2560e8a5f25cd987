namespace Kubebpf.Http.Routing;

/// <summary>Bounds the method tag: the nine standard methods keep their name, any other token becomes <see cref="Other"/>.</summary>
internal static class HttpMethods
{
    /// <summary>The tag value of a non-standard method.</summary>
    public const string Other = "OTHER";

    /// <summary>The shared tag value for <paramref name="method"/>.</summary>
    public static string Canonical(string method) => method switch
    {
        "GET" => "GET",
        "POST" => "POST",
        "PUT" => "PUT",
        "DELETE" => "DELETE",
        "PATCH" => "PATCH",
        "HEAD" => "HEAD",
        "OPTIONS" => "OPTIONS",
        "CONNECT" => "CONNECT",
        "TRACE" => "TRACE",
        _ => Other,
    };
}
