using System.Text;
using FsCheck;
using FsCheck.Xunit;
using Kubebpf.MySql.Fingerprints;

namespace Kubebpf.MySql.Tests;

public sealed class StatementFingerprinterTests
{
    private readonly StatementFingerprinter _fingerprinter = new(maxLength: 1024, maxInterned: 100);

    [Theory]
    [InlineData("SELECT * FROM t WHERE id = 42", "SELECT * FROM t WHERE id = ?")]
    [InlineData("select * from t where id=7", "SELECT * FROM t WHERE id = ?")]
    [InlineData("SELECT * FROM t WHERE name = 'O''Brien'", "SELECT * FROM t WHERE name = ?")]
    [InlineData("SELECT * FROM t WHERE name = \"x\\\"y\"", "SELECT * FROM t WHERE name = ?")]
    [InlineData("SELECT * FROM t WHERE s = 'it\\'s'", "SELECT * FROM t WHERE s = ?")]
    [InlineData("SELECT * FROM t WHERE id IN (1, 2, 3)", "SELECT * FROM t WHERE id IN (?)")]
    [InlineData("SELECT * FROM t WHERE id IN (1)", "SELECT * FROM t WHERE id IN (?)")]
    [InlineData("INSERT INTO t (a, b) VALUES (1, 'x'), (2, 'y'), (3, 'z')", "INSERT INTO t(a, b) VALUES (?)")]
    [InlineData("INSERT INTO t VALUES (1,'a'),(2,'b')", "INSERT INTO t VALUES (?)")]
    [InlineData("INSERT INTO t VALUES (1, NOW()), (2, NOW())", "INSERT INTO t VALUES (?, NOW())")]
    [InlineData("SELECT -1, +2.5, 1e10, .5, 0xFF, X'0A', b'101'", "SELECT ?, ?, ?, ?, ?, ?, ?")]
    [InlineData("SELECT a - 5 FROM t", "SELECT a - ? FROM t")]
    [InlineData("SELECT * FROM t -- comment 123\nWHERE id = 1", "SELECT * FROM t WHERE id = ?")]
    [InlineData("SELECT * FROM t # note 5\nWHERE id = 1", "SELECT * FROM t WHERE id = ?")]
    [InlineData("/* lead 7 */ SELECT /* inner 5 */ 1", "SELECT ?")]
    [InlineData("/*!40101 SET NAMES utf8mb4 */", "SET NAMES utf8mb4")]
    [InlineData("SELECT `id`, `name` FROM `users` WHERE `id` = 5", "SELECT `id`, `name` FROM `users` WHERE `id` = ?")]
    [InlineData("SELECT * FROM t WHERE a = ? AND b = ?", "SELECT * FROM t WHERE a = ? AND b = ?")]
    [InlineData("SELECT   *\n\tFROM t\r\nWHERE  id  =  1  ;", "SELECT * FROM t WHERE id = ?")]
    [InlineData("UPDATE t SET v = 'secret', n = n + 1 WHERE id = 9", "UPDATE t SET v = ?, n = n + ? WHERE id = ?")]
    [InlineData("DELETE FROM t WHERE created < '2024-01-01'", "DELETE FROM t WHERE created < ?")]
    [InlineData("select count(*) from t", "SELECT COUNT(*) FROM t")]
    [InlineData("SELECT SLEEP(0.2)", "SELECT SLEEP(?)")]
    [InlineData("SELECT * FROM t WHERE (a, b) IN ((1, 2), (3, 4))", "SELECT * FROM t WHERE (a, b) IN (?)")]
    [InlineData("SELECT t.id FROM shop.t AS t", "SELECT t.id FROM shop.t AS t")]
    [InlineData("SELECT 'a' 'b'", "SELECT ?")]
    [InlineData("SELECT * FROM t WHERE s = 'unterminated", "SELECT * FROM t WHERE s = ?")]
    [InlineData("SELECT * FROM t1 JOIN t2 ON t1.id = t2.id WHERE t2.x >= -3", "SELECT * FROM t1 JOIN t2 ON t1.id = t2.id WHERE t2.x >= ?")]
    [InlineData("SELECT 1; SELECT 2", "SELECT ?; SELECT ?")]
    [InlineData("CREATE TABLE t (id INT PRIMARY KEY, v TEXT)", "CREATE TABLE t(id INT PRIMARY KEY, v TEXT)")]
    [InlineData("SELECT * FROM t WHERE name LIKE N'%x%' LIMIT 10 OFFSET 20", "SELECT * FROM t WHERE name LIKE ? LIMIT ? OFFSET ?")]
    [InlineData("SELECT id FROM t WHERE v = _utf8mb4'abc'", "SELECT id FROM t WHERE v = _utf8mb4 ?")]
    [InlineData("SELECT @@version_comment LIMIT 1", "SELECT @@version_comment LIMIT ?")]
    [InlineData("SELECT id FROM t WHERE id IN (SELECT id FROM u WHERE z = 2)", "SELECT id FROM t WHERE id IN (SELECT id FROM u WHERE z = ?)")]
    [InlineData("SELECT 1abc FROM t", "SELECT 1abc FROM t")]
    [InlineData("SELECT * FROM t WHERE d = DATE '2024-05-06' + INTERVAL 3 DAY", "SELECT * FROM t WHERE d = DATE ? + INTERVAL ? DAY")]
    [InlineData("", "")]
    public void Replaces_literals_and_normalises(string sql, string expected) =>
        Assert.Equal(expected, Fingerprint(sql).Text);

    [Theory]
    [InlineData("select 1", "SELECT")]
    [InlineData("WITH x AS (SELECT 1) SELECT * FROM x", "SELECT")]
    [InlineData("(SELECT 1) UNION (SELECT 2)", "SELECT")]
    [InlineData("insert into t values (1)", "INSERT")]
    [InlineData("REPLACE INTO t VALUES (1)", "INSERT")]
    [InlineData("/* x */ update t set a = 1", "UPDATE")]
    [InlineData("DELETE FROM t", "DELETE")]
    [InlineData("create table t (a int)", "DDL")]
    [InlineData("ALTER TABLE t ADD b INT", "DDL")]
    [InlineData("DROP TABLE t", "DDL")]
    [InlineData("TRUNCATE t", "DDL")]
    [InlineData("SET autocommit = 1", "OTHER")]
    [InlineData("COMMIT", "OTHER")]
    [InlineData("`t`", "OTHER")]
    [InlineData("42", "OTHER")]
    public void Classifies_by_the_first_keyword(string sql, string expected) =>
        Assert.Equal(expected, Fingerprint(sql).Type);

    [Fact]
    public void Statements_differing_in_literals_share_one_interned_string()
    {
        var first = Fingerprint("SELECT * FROM t WHERE id = 42").Text;
        var second = Fingerprint("SELECT * FROM t WHERE id = 7").Text;
        Assert.Same(first, second);
    }

    [Fact]
    public void A_long_statement_is_cut_at_a_token_with_a_mark()
    {
        var fingerprinter = new StatementFingerprinter(maxLength: 64, maxInterned: 10);
        var sql = "SELECT " + string.Join(", ", Enumerable.Range(0, 100).Select(i => $"column_{i}")) + " FROM t";
        var text = fingerprinter.Compute(Encoding.UTF8.GetBytes(sql), partial: false).Text;
        Assert.EndsWith(" " + StatementFingerprinter.Cut, text, StringComparison.Ordinal);
        Assert.InRange(text.Length, 40, 64 + 2);
        Assert.DoesNotContain(", " + StatementFingerprinter.Cut, text, StringComparison.Ordinal);
        Assert.StartsWith("SELECT column_0, column_1", text, StringComparison.Ordinal);
    }

    [Fact]
    public void A_statement_prefix_loses_its_last_token_and_is_marked()
    {
        var text = Fingerprint("INSERT INTO t VALUES (1, 'abc'), (2, 'de", partial: true).Text;
        Assert.Equal("INSERT INTO t VALUES (?), (? …", text);
        Assert.Equal("SELECT a, b …", Fingerprint("SELECT a, b, colu", partial: true).Text);
    }

    [Property(MaxTest = 300)]
    public void Literals_never_survive_and_do_not_split_fingerprints(string text, long number, NonNegativeInt count)
    {
        text ??= "";
        var quoted = text.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("'", "''", StringComparison.Ordinal);
        var list = string.Join(", ", Enumerable.Range(0, count.Get % 50 + 1).Select(i => (number + i).ToString(System.Globalization.CultureInfo.InvariantCulture)));
        var sql = $"SELECT * FROM t WHERE a = '{quoted}' AND b = {number} AND c IN ({list})";
        Assert.Equal("SELECT * FROM t WHERE a = ? AND b = ? AND c IN (?)", Fingerprint(sql).Text);
    }

    [Property(MaxTest = 500)]
    public void Any_bytes_give_a_bounded_fingerprint(byte[] bytes, bool partial)
    {
        var fingerprinter = new StatementFingerprinter(maxLength: 48, maxInterned: 10);
        var fingerprint = fingerprinter.Compute(bytes ?? [], partial);
        Assert.InRange(fingerprint.Text.Length, 0, 48 + 2);
        Assert.Contains(fingerprint.Type, new[] { "SELECT", "INSERT", "UPDATE", "DELETE", "DDL", "OTHER" });
    }

    private Fingerprint Fingerprint(string sql, bool partial = false) => _fingerprinter.Compute(Encoding.UTF8.GetBytes(sql), partial);
}
