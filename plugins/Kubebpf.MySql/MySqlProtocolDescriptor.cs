using Kubebpf.MySql.Fingerprints;
using Kubebpf.Sdk.Metrics;
using Kubebpf.Sdk.Protocols;

namespace Kubebpf.MySql;

/// <summary>
/// MySQL as the R.E.D. plugin and the call log name it: <c>mysql_requests</c> and <c>mysql_red</c>, tagged by
/// <c>statement_type</c> and, in R.E.D., by <c>fingerprint</c> (the statement with its literals replaced, never the
/// literals themselves).
/// </summary>
public static class MySqlProtocolDescriptor
{
    /// <summary>The one descriptor every MySQL exchange carries.</summary>
    public static ProtocolDescriptor Instance { get; } = new("mysql")
    {
        OperationTag = "statement_type",
        ResourceTag = "fingerprint",
        ResourceField = "fingerprint",
        StatusTag = "status",
        CodeField = "error_code",
        CanonicalOperation = StatementType.Canonical,
        MaxResourceLength = 4096,
        DetailFields =
        [
            new("command", FieldKind.String, "", "Protocol command, e.g. COM_QUERY, COM_STMT_EXECUTE, COM_PING."),
            new("database", FieldKind.String, "", "Default database of the connection when known.", Required: false),
            new("rows", FieldKind.Integer, "rows", "Rows returned by result sets (all of a multi-result answer).", Required: false),
            new("affected_rows", FieldKind.Integer, "rows", "Rows affected, from the OK packet.", Required: false),
            new("sql_state", FieldKind.String, "", "SQLSTATE of an error answer.", Required: false),
            new("truncated", FieldKind.Boolean, "", "Bytes of the exchange were not captured: rows is estimated or a lower bound, or the fingerprint a prefix.", Required: false),
            new("statement", FieldKind.String, "", "The statement as sent, literals included; only with the MySQL plugin's RecordStatements.", Required: false),
        ],
    };
}

/// <summary>What a MySQL exchange adds to the common model. Immutable.</summary>
/// <param name="Command">The command's name (<c>COM_QUERY</c>).</param>
/// <param name="Database">The connection's default database, or null when unknown.</param>
/// <param name="Rows">Rows returned, or -1 when the answer had no result set.</param>
/// <param name="AffectedRows">Rows affected, or -1 when the answer had no OK packet.</param>
/// <param name="SqlState">The SQLSTATE of an error, or null.</param>
/// <param name="Truncated">Bytes of the exchange were not captured.</param>
/// <param name="Statement">The statement as sent, only when recorded; else null.</param>
public sealed record MySqlDetails(
    string Command, string? Database, long Rows, long AffectedRows, string? SqlState, bool Truncated, string? Statement) : IExchangeDetails
{
    /// <inheritdoc />
    public int FieldCount =>
        1 + (Database is null ? 0 : 1) + (Rows < 0 ? 0 : 1) + (AffectedRows < 0 ? 0 : 1) + (SqlState is null ? 0 : 1)
        + (Truncated ? 1 : 0) + (Statement is null ? 0 : 1);

    /// <inheritdoc />
    public void WriteFields(Span<Field> destination)
    {
        var count = 0;
        destination[count++] = new("command", FieldValue.String(Command));
        if (Database is not null)
        {
            destination[count++] = new("database", FieldValue.String(Database));
        }

        if (Rows >= 0)
        {
            destination[count++] = new("rows", FieldValue.Integer(Rows));
        }

        if (AffectedRows >= 0)
        {
            destination[count++] = new("affected_rows", FieldValue.Integer(AffectedRows));
        }

        if (SqlState is not null)
        {
            destination[count++] = new("sql_state", FieldValue.String(SqlState));
        }

        if (Truncated)
        {
            destination[count++] = new("truncated", FieldValue.Boolean(true));
        }

        if (Statement is not null)
        {
            destination[count] = new("statement", FieldValue.String(Statement));
        }
    }
}
