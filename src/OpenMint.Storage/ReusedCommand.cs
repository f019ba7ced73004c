using System.Data.Common;

namespace OpenMint.Storage;

/// <summary>
/// A command of one transaction with its parameters named once, bound again and run for each row: inside a write
/// transaction (which holds SQLite's write lock) this is cheaper than a statement prepared anew per row.
/// </summary>
internal static class ReusedCommand
{
    public static DbCommand Create(DbConnection c, DbTransaction tx, string sql, params string[] names)
    {
        var command = c.CreateCommand();
        command.Transaction = tx;
        command.CommandText = sql;
        foreach (var name in names)
        {
            var p = command.CreateParameter();
            p.ParameterName = name;
            p.Value = DBNull.Value;
            command.Parameters.Add(p);
        }
        return command;
    }

    /// <summary>Runs <paramref name="command"/> with <paramref name="values"/> bound in the order its parameters were named.</summary>
    public static Task<int> RunAsync(this DbCommand command, CancellationToken ct, params object?[] values)
    {
        for (var i = 0; i < values.Length; i++)
        {
            command.Parameters[i].Value = values[i] ?? DBNull.Value;
        }
        return command.ExecuteNonQueryAsync(ct);
    }
}
