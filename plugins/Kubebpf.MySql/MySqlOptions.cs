using Kubebpf.Sdk.Pipeline;

namespace Kubebpf.MySql;

/// <summary>The MySQL parser plugin's section: which connections are MySQL, the parser's bounds and its privacy setting.</summary>
public sealed class MySqlOptions : IValidatedOptions
{
    /// <summary>The longest fingerprint accepted (the R.E.D. resource bound is 4096 characters, the cut mark included).</summary>
    public const int MaxFingerprintLengthLimit = 4000;

    /// <summary>The port <see cref="Ports"/> stands for when not set.</summary>
    public const ushort DefaultPort = 3306;

    /// <summary>
    /// Server ports that are MySQL: connections on them are offered to MySQL first, and recognised by a client command
    /// too. Null (not configured): <see cref="DefaultPort"/>; a configured list replaces it.
    /// </summary>
    public ushort[]? Ports { get; set; }

    /// <summary>The ports in effect.</summary>
    internal ushort[] ServerPorts => Ports ?? [DefaultPort];

    /// <summary>Recognise MySQL on any port by the server greeting.</summary>
    public bool Sniff { get; set; } = true;

    /// <summary>Bytes of a statement read for its fingerprint (and kept with <see cref="RecordStatements"/>); the rest is skipped by length.</summary>
    public int MaxStatementBytes { get; set; } = 16 * 1024;

    /// <summary>Longest fingerprint, in characters; longer ones are cut at a token and end in <c>…</c>.</summary>
    public int MaxFingerprintLength { get; set; } = 1024;

    /// <summary>Record each statement as sent, literals included (they may hold personal data): off by default.</summary>
    public bool RecordStatements { get; set; }

    /// <summary>Prepared statements remembered per connection (statement id to fingerprint).</summary>
    public int MaxPreparedStatements { get; set; } = 1024;

    /// <summary>Commands waiting for their answers on one connection (pipelining).</summary>
    public int MaxPipelinedCommands { get; set; } = 64;

    /// <summary>Distinct fingerprints kept as shared strings (all connections).</summary>
    public int MaxInternedFingerprints { get; set; } = 10000;

    /// <inheritdoc />
    public IEnumerable<string> Validate()
    {
        if (!Sniff && ServerPorts.Length == 0)
        {
            yield return "Sniff is false and Ports is empty: no connection would be parsed as MySQL.";
        }

        if (ServerPorts.Contains((ushort)0))
        {
            yield return "Ports: 0 is not a port.";
        }

        if (MaxStatementBytes is < 64 or > 1024 * 1024)
        {
            yield return $"MaxStatementBytes must be between 64 and 1048576: {MaxStatementBytes}.";
        }

        if (MaxFingerprintLength is < 32 or > MaxFingerprintLengthLimit)
        {
            yield return $"MaxFingerprintLength must be between 32 and {MaxFingerprintLengthLimit}: {MaxFingerprintLength}.";
        }

        if (MaxPreparedStatements < 0)
        {
            yield return $"MaxPreparedStatements must not be negative: {MaxPreparedStatements}.";
        }

        if (MaxPipelinedCommands < 1)
        {
            yield return $"MaxPipelinedCommands must be at least 1: {MaxPipelinedCommands}.";
        }

        if (MaxInternedFingerprints < 0)
        {
            yield return $"MaxInternedFingerprints must not be negative: {MaxInternedFingerprints}.";
        }
    }
}
