using Xunit;

namespace Kubebpf.Testing;

/// <summary>Deadline-bounded waiting for kernel tests: poll a condition instead of sleeping and hoping.</summary>
public static class Poll
{
    /// <summary>The default deadline: generous, since the suite runs on two busy cores.</summary>
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(10);

    /// <summary>
    /// Evaluates <paramref name="condition"/> every few milliseconds until it holds; fails the test after
    /// <paramref name="timeout"/> (default <see cref="DefaultTimeout"/>) with <paramref name="what"/> and, when given,
    /// what <paramref name="state"/> reports.
    /// </summary>
    public static void Until(Func<bool> condition, string what, Func<string>? state = null, TimeSpan? timeout = null)
    {
        ArgumentNullException.ThrowIfNull(condition);
        var limit = timeout ?? DefaultTimeout;
        var deadline = DateTime.UtcNow + limit;
        while (!condition())
        {
            if (DateTime.UtcNow >= deadline)
            {
                Assert.Fail($"Timed out after {limit.TotalSeconds:0.#} s waiting for {what}{(state is null ? "" : ": " + state())}");
            }

            Thread.Sleep(20);
        }
    }

    /// <summary>
    /// Awaits <paramref name="condition"/> every few milliseconds until it holds (for conditions that query a server);
    /// fails the test after <paramref name="timeout"/> (default <see cref="DefaultTimeout"/>) with <paramref name="what"/>.
    /// </summary>
    public static async Task UntilAsync(Func<Task<bool>> condition, string what, TimeSpan? timeout = null)
    {
        ArgumentNullException.ThrowIfNull(condition);
        var limit = timeout ?? DefaultTimeout;
        var deadline = DateTime.UtcNow + limit;
        while (!await condition())
        {
            if (DateTime.UtcNow >= deadline)
            {
                Assert.Fail($"Timed out after {limit.TotalSeconds:0.#} s waiting for {what}");
            }

            await Task.Delay(100);
        }
    }
}
