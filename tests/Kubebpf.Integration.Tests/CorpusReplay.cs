using System.Diagnostics;
using Kubebpf.Testing;

namespace Kubebpf.Integration.Tests;

/// <summary>
/// The python conformance server (<c>Conformance/server.py</c>) serving a plan in a scenario's server pod, and its
/// client (<c>Conformance/client.py</c>) replaying the plan from the client pod, checking every response byte.
/// </summary>
internal sealed class CorpusReplay
{
    public const int Port = 8080;

    private readonly AgentScenario _scenario;
    private readonly string _plan;

    private CorpusReplay(AgentScenario scenario, string plan)
    {
        _scenario = scenario;
        _plan = plan;
    }

    /// <summary>Where the server logs the ids of the entries it answered (and <c>held &lt;id&gt;</c> lines).</summary>
    public string AnsweredLog => Path.Combine(_scenario.WorkDirectory, "answered.log");

    /// <summary>The server's log so far, one line per answer.</summary>
    public IReadOnlyList<string> Answered => File.Exists(AnsweredLog) ? File.ReadAllLines(AnsweredLog) : [];

    /// <summary>Starts the server on <paramref name="plan"/> and waits until it listens (IPv4 and IPv6).</summary>
    public static CorpusReplay StartServer(AgentScenario scenario, ConformanceCorpus plan)
    {
        var replay = new CorpusReplay(scenario, plan.WritePlan(Path.Combine(scenario.WorkDirectory, "plan.json")));
        PodPython.Start(scenario.Pods, scenario.Server, Script("server.py"), replay._plan, $"{Port}", replay.AnsweredLog);
        PodSockets.WaitForListener(scenario.Server, Port, TimeSpan.FromSeconds(10), () => string.Join('\n', replay.Answered));
        return replay;
    }

    /// <summary>Replays the plan, connections alternating between IPv4 and IPv6 (or all on IPv6); throws when a response differs.</summary>
    public void RunClient(bool ipv6Only = false) =>
        PodPython.Run(_scenario.Client, Script("client.py"), ClientArguments(ipv6Only));

    /// <summary>Starts the client in the background (for a server that holds its answer).</summary>
    public Process StartClient() => PodPython.Start(_scenario.Pods, _scenario.Client, Script("client.py"), ClientArguments(ipv6Only: false));

    /// <summary>Lets the server answer the entries it holds.</summary>
    public void Release() => File.WriteAllText(AnsweredLog + ".release", "");

    private string[] ClientArguments(bool ipv6Only) =>
        [_plan, ipv6Only ? _scenario.Server.IPv6 : _scenario.Server.IPv4, _scenario.Server.IPv6, $"{Port}"];

    private static string Script(string name) => File.ReadAllText(Path.Combine(ConformanceCorpus.Folder, name));
}
