namespace Kubebpf.MySql.Fingerprints;

/// <summary>The kinds of statement R.E.D. tells apart: the <c>operation</c> tag of every MySQL exchange.</summary>
internal static class StatementType
{
    public const string Select = "SELECT";
    public const string Insert = "INSERT";
    public const string Update = "UPDATE";
    public const string Delete = "DELETE";
    public const string Ddl = "DDL";
    public const string Other = "OTHER";

    /// <summary>The type a statement's first keyword gives it (<c>WITH</c> counts as SELECT, <c>REPLACE</c> as INSERT).</summary>
    public static string Of(ReadOnlySpan<char> firstWord)
    {
        Span<char> upper = stackalloc char[8];
        if (firstWord.Length > upper.Length)
        {
            return Other;
        }

        upper = upper[..firstWord.ToUpperInvariant(upper)];
        return upper switch
        {
            "SELECT" or "WITH" or "VALUES" or "TABLE" => Select,
            "INSERT" or "REPLACE" => Insert,
            "UPDATE" => Update,
            "DELETE" => Delete,
            "CREATE" or "ALTER" or "DROP" or "TRUNCATE" or "RENAME" => Ddl,
            _ => Other,
        };
    }

    /// <summary>The shared string of an operation tag value: one of the six, anything else <see cref="Other"/>.</summary>
    public static string Canonical(string operation) => operation switch
    {
        Select => Select,
        Insert => Insert,
        Update => Update,
        Delete => Delete,
        Ddl => Ddl,
        _ => Other,
    };
}
