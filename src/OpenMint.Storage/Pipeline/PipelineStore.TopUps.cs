using System.Globalization;
using System.Numerics;
using Dapper;
using OpenMint.Core;
using OpenMint.Core.Pipeline;

namespace OpenMint.Storage.Pipeline;

/// <summary>
/// Treasury top-ups (ITopUpStore, docs/transactions.md "Treasury top-ups"): the top-up and its first signed attempt written
/// in one transaction before the broadcast, fee bumps, broadcasts marked and the end, each fenced by the treasury's lease
/// (<see cref="FenceHolds"/> on its own signer_lease row).
/// </summary>
internal sealed partial class PipelineStore
{
    private const string TopUpColumns =
        """
        id AS Id, chain_name AS ChainName, treasury_address AS Treasury, wallet_address AS Wallet, nonce AS Nonce, value_wei AS Value,
        balance_wei AS BalanceSeen, state AS State, mined_hash AS MinedHash, created_at AS CreatedAt
        """;

    public async Task<TopUpRecord?> RecordTopUpAsync(LeaseFence fence, NewTopUp topUp, DateTimeOffset now, CancellationToken ct)
    {
        var nowText = Time.ToWire(now);
        var wallet = topUp.Wallet.ToLowerInvariant();
        var a = topUp.Attempt;
        return await db.InTransactionAsync(async (c, tx) =>
        {
            // The pending check and the insert are one statement; the partial unique indexes are the last word under a race.
            var id = await c.ExecuteScalarAsync<long?>(new CommandDefinition(
                $"""
                INSERT INTO top_up (chain_name, treasury_address, wallet_address, nonce, value_wei, balance_wei, state, created_at, updated_at)
                SELECT @chain, @FenceSigner, @wallet, @Nonce, @value, @seen, 'pending', @now, @now
                WHERE {FenceHolds} AND NOT EXISTS (SELECT 1 FROM top_up WHERE chain_name = @chain AND state = 'pending'
                    AND (wallet_address = @wallet OR treasury_address = @FenceSigner))
                RETURNING id
                """,
                Fenced(fence, now, new { chain = topUp.ChainName, wallet, topUp.Nonce, value = Dec(topUp.Value), seen = Dec(topUp.BalanceSeen), now = nowText }),
                tx, cancellationToken: ct)).ConfigureAwait(false);
            if (id is null)
            {
                return null;
            }
            var attemptId = await InsertTopUpAttemptAsync(c, tx, id.Value, a, nowText, ct).ConfigureAwait(false);
            return new TopUpRecord(id.Value, topUp.ChainName, fence.Signer, wallet, topUp.Nonce, topUp.Value, topUp.BalanceSeen, TopUpState.Pending, null, now,
                [new TopUpAttempt(attemptId, id.Value, a.Raw, a.Hash, a.MaxPriorityFeePerGas, a.MaxFeePerGas, now, null, null)]);
        }, ct).ConfigureAwait(false);
    }

    private static Task<long> InsertTopUpAttemptAsync(System.Data.Common.DbConnection c, System.Data.Common.DbTransaction tx, long topUpId, NewAttempt a, string now, CancellationToken ct) =>
        c.ExecuteScalarAsync<long>(new CommandDefinition(
            """
            INSERT INTO top_up_attempt (top_up_id, raw, hash, max_priority_fee_per_gas, max_fee_per_gas, created_at)
            VALUES (@topUpId, @Raw, @Hash, @tip, @cap, @now) RETURNING id
            """,
            new { topUpId, a.Raw, a.Hash, tip = Dec(a.MaxPriorityFeePerGas), cap = Dec(a.MaxFeePerGas), now }, tx, cancellationToken: ct));

    public async Task<long?> AddTopUpAttemptAsync(LeaseFence fence, long topUpId, NewAttempt attempt, DateTimeOffset now, CancellationToken ct)
    {
        var a = attempt;
        var nowText = Time.ToWire(now);
        return await db.InTransactionAsync(async (c, tx) =>
        {
            var id = await c.ExecuteScalarAsync<long?>(new CommandDefinition(
                $"""
                INSERT INTO top_up_attempt (top_up_id, raw, hash, max_priority_fee_per_gas, max_fee_per_gas, created_at)
                SELECT @topUpId, @Raw, @Hash, @tip, @cap, @now WHERE {FenceHolds}
                    AND EXISTS (SELECT 1 FROM top_up WHERE id = @topUpId AND state = 'pending')
                RETURNING id
                """,
                Fenced(fence, now, new { topUpId, a.Raw, a.Hash, tip = Dec(a.MaxPriorityFeePerGas), cap = Dec(a.MaxFeePerGas), now = nowText }),
                tx, cancellationToken: ct)).ConfigureAwait(false);
            if (id is not null)
            {
                await c.ExecuteAsync(new CommandDefinition("UPDATE top_up SET updated_at = @now WHERE id = @topUpId", new { topUpId, now = nowText }, tx, cancellationToken: ct)).ConfigureAwait(false);
            }
            return id;
        }, ct).ConfigureAwait(false);
    }

    public Task<bool> MarkTopUpBroadcastAsync(LeaseFence fence, long attemptId, SendOutcome outcome, bool acknowledged, DateTimeOffset now, CancellationToken ct) =>
        MarkAttemptBroadcastAsync("top_up_attempt", fence, attemptId, outcome, acknowledged, now, ct);

    public async Task<bool> FinishTopUpAsync(LeaseFence fence, long topUpId, string state, string? hash, long? block, string? error, DateTimeOffset now, CancellationToken ct)
    {
        if (state is not (TopUpState.Done or TopUpState.Abandoned))
        {
            throw new ArgumentException($"a top-up ends done or abandoned, not {state}", nameof(state));
        }
        await using var c = await db.OpenConnectionAsync(ct).ConfigureAwait(false);
        var n = await c.ExecuteAsync(new CommandDefinition(
            $"""
            UPDATE top_up SET state = @state, mined_hash = @hash, mined_block = @block, last_error = @error, updated_at = @now
            WHERE id = @topUpId AND state = 'pending' AND {FenceHolds}
            """,
            Fenced(fence, now, new { topUpId, state, hash, block, error, now = Time.ToWire(now) }), cancellationToken: ct)).ConfigureAwait(false);
        return n == 1;
    }

    public async Task<IReadOnlyList<TopUpRecord>> ListPendingTopUpsAsync(string chain, CancellationToken ct)
    {
        await using var c = await db.OpenConnectionAsync(ct).ConfigureAwait(false);
        var rows = (await c.QueryAsync<TopUpRow>(new CommandDefinition(
            $"SELECT {TopUpColumns} FROM top_up WHERE chain_name = @chain AND state = 'pending' ORDER BY id", new { chain }, cancellationToken: ct)).ConfigureAwait(false)).ToList();
        if (rows.Count == 0)
        {
            return [];
        }
        var attempts = (await c.QueryAsync<TopUpAttemptRow>(new CommandDefinition(
            $"""
            SELECT id AS Id, top_up_id AS TopUpId, raw AS Raw, hash AS Hash, max_priority_fee_per_gas AS Tip, max_fee_per_gas AS Cap,
                   created_at AS CreatedAt, broadcast_at AS BroadcastAt, outcome AS Outcome
            FROM top_up_attempt WHERE {db.Dialect.In("top_up_id", "@ids")} ORDER BY id
            """,
            new { ids = db.Dialect.List(rows.Select(r => r.Id)) }, cancellationToken: ct)).ConfigureAwait(false)).Select(r => r.ToModel()).ToList();
        return rows.Select(r => r.ToModel(attempts.Where(a => a.TopUpId == r.Id).ToList())).Where(t => t.Attempts.Count > 0).ToList();
    }

    public async Task<IReadOnlyList<TopUpRecord>> ListTopUpsAsync(string chain, int limit, CancellationToken ct)
    {
        await using var c = await db.OpenConnectionAsync(ct).ConfigureAwait(false);
        var rows = await c.QueryAsync<TopUpRow>(new CommandDefinition(
            $"SELECT {TopUpColumns} FROM top_up WHERE chain_name = @chain ORDER BY id DESC LIMIT @limit", new { chain, limit }, cancellationToken: ct)).ConfigureAwait(false);
        return rows.Select(r => r.ToModel([])).ToList();
    }

    private sealed class TopUpRow
    {
        public long Id { get; set; }
        public string ChainName { get; set; } = "";
        public string Treasury { get; set; } = "";
        public string Wallet { get; set; } = "";
        public long Nonce { get; set; }
        public string Value { get; set; } = "0";
        public string BalanceSeen { get; set; } = "0";
        public string State { get; set; } = "";
        public string? MinedHash { get; set; }
        public string CreatedAt { get; set; } = "";

        public TopUpRecord ToModel(IReadOnlyList<TopUpAttempt> attempts) => new(Id, ChainName, Treasury, Wallet, Nonce, BigInteger.Parse(Value, CultureInfo.InvariantCulture),
            BigInteger.Parse(BalanceSeen, CultureInfo.InvariantCulture), State, MinedHash, Time.FromWire(CreatedAt), attempts);
    }

    private sealed class TopUpAttemptRow
    {
        public long Id { get; set; }
        public long TopUpId { get; set; }
        public byte[] Raw { get; set; } = [];
        public string Hash { get; set; } = "";
        public string Tip { get; set; } = "0";
        public string Cap { get; set; } = "0";
        public string CreatedAt { get; set; } = "";
        public string? BroadcastAt { get; set; }
        public string? Outcome { get; set; }

        public TopUpAttempt ToModel() => new(Id, TopUpId, Raw, Hash, BigInteger.Parse(Tip, CultureInfo.InvariantCulture), BigInteger.Parse(Cap, CultureInfo.InvariantCulture),
            Time.FromWire(CreatedAt), BroadcastAt is null ? null : Time.FromWire(BroadcastAt), Outcome);
    }
}
