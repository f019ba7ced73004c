using System.Collections.Concurrent;
using System.Diagnostics;
using Dapper;
using OpenMint.Core.Minting;
using OpenMint.Core.Pipeline;
using OpenMint.Core.Tenancy;

namespace OpenMint.Storage.Tests;

/// <summary>
/// The pipeline's store, written once and run on each backend (tiny sealed subclasses below): the lease and the
/// write-ahead of signed txs. Tests share one database per class on PostgreSQL, so each uses its own chain name.
/// </summary>
public abstract class PipelineStoreTests<TBackend>(TBackend backend) : StoreSuite<TBackend>(backend) where TBackend : class, IStoreBackend
{
    protected static readonly DateTimeOffset T0 = DateTimeOffset.FromUnixTimeMilliseconds(DateTimeOffset.UtcNow.ToUnixTimeMilliseconds()); // the store keeps microseconds
    protected const string Signer = "0x00000000000000000000000000000000000000aa";
    [Fact]
    public async Task one_instance_holds_a_signer_lease_until_it_expires()
    {
        var c = Unique("c");
        var a = await Store.Pipeline.TryAcquireLeaseAsync(c, Signer, "a", T0, TimeSpan.FromSeconds(10), Ct);
        Assert.NotNull(a);
        Assert.Null(a.NextNonce);
        Assert.Null(await Store.Pipeline.TryAcquireLeaseAsync(c, Signer, "b", T0.AddSeconds(5), TimeSpan.FromSeconds(10), Ct));
        Assert.NotNull(await Store.Pipeline.TryAcquireLeaseAsync(c, Signer, "a", T0.AddSeconds(5), TimeSpan.FromSeconds(10), Ct)); // heartbeat
        Assert.Null(await Store.Pipeline.TryAcquireLeaseAsync(c, Signer, "b", T0.AddSeconds(12), TimeSpan.FromSeconds(10), Ct));
        Assert.NotNull(await Store.Pipeline.TryAcquireLeaseAsync(c, Signer, "b", T0.AddSeconds(16), TimeSpan.FromSeconds(10), Ct));
        Assert.Null(await Store.Pipeline.TryAcquireLeaseAsync(c, Signer, "a", T0.AddSeconds(17), TimeSpan.FromSeconds(10), Ct));
        Assert.NotNull(await Store.Pipeline.TryAcquireLeaseAsync(c, "0x00000000000000000000000000000000000000bb", "a", T0.AddSeconds(17), TimeSpan.FromSeconds(10), Ct));
    }

    [Fact]
    public async Task a_lease_keeps_its_next_nonce_and_pause_reason_across_holders_and_a_release_frees_it()
    {
        var c = Unique("c");
        Assert.NotNull(await Store.Pipeline.TryAcquireLeaseAsync(c, Signer, "a", T0, TimeSpan.FromSeconds(10), Ct));
        Assert.True(await Store.Pipeline.SetNextNonceAsync(c, Signer, "a", 41, Ct));
        Assert.False(await Store.Pipeline.SetNextNonceAsync(c, Signer, "b", 99, Ct));
        await Store.Pipeline.SetSignerNoticeAsync(c, Signer, "paused for a test", T0, Ct);
        await Store.Pipeline.ReleaseLeaseAsync(c, Signer, "b", Ct); // not the holder: nothing changes
        Assert.Null(await Store.Pipeline.TryAcquireLeaseAsync(c, Signer, "b", T0.AddSeconds(1), TimeSpan.FromSeconds(10), Ct));
        await Store.Pipeline.ReleaseLeaseAsync(c, Signer, "a", Ct);
        var b = await Store.Pipeline.TryAcquireLeaseAsync(c, Signer, "b", T0.AddSeconds(1), TimeSpan.FromSeconds(10), Ct);
        Assert.Equal(41, b!.NextNonce);
        Assert.Equal("paused for a test", b.PausedReason);
        Assert.Equal(T0.AddSeconds(11), b.ExpiresAt);
    }

    [Fact]
    public async Task signed_txs_are_written_ahead_only_with_the_lease_the_next_nonce_and_unclaimed_requests()
    {
        var (chain, collection, ids) = await QueueAsync(4);
        var c = chain.Name;

        Assert.NotNull(await Store.Pipeline.TryAcquireLeaseAsync(c, Signer, "a", T0, TimeSpan.FromMinutes(1), Ct));
        Assert.True(await Store.Pipeline.SetNextNonceAsync(c, Signer, "a", 7, Ct));
        // Wrong first nonce, or another instance: nothing is written.
        Assert.Null(await Store.Pipeline.RecordTxsAsync(Fence(c, "a"), [new NewTx(6, Batch(collection, ids[..2]), Attempt(1))], T0, Ct));
        Assert.Null(await Store.Pipeline.RecordTxsAsync(Fence(c, "b"), [new NewTx(7, Batch(collection, ids[..2]), Attempt(1))], T0, Ct));
        // An expired lease: nothing is written either.
        Assert.Null(await Store.Pipeline.RecordTxsAsync(Fence(c, "a"), [new NewTx(7, Batch(collection, ids[..2]), Attempt(1))], T0.AddMinutes(2), Ct));

        var recorded = await Store.Pipeline.RecordTxsAsync(Fence(c, "a"), [new NewTx(7, Batch(collection, ids[..2]), Attempt(1)), new NewTx(8, Batch(collection, ids[2..]), Attempt(2))], T0, Ct);
        Assert.Equal(2, recorded!.Count);
        Assert.Empty(await Store.Pipeline.ListQueuedAsync(collection.Id, 100, Ct));
        var open = await Store.Pipeline.ListOpenTxsAsync(c, Signer, Ct);
        Assert.Equal(new long[] { 7, 8 }, open.Select(t => t.Nonce));
        Assert.All(open, t => Assert.Null(Assert.Single(t.Attempts).BroadcastAt));
        Assert.Equal(9, (await Store.Pipeline.TryAcquireLeaseAsync(c, Signer, "a", T0, TimeSpan.FromMinutes(1), Ct))!.NextNonce);

        // A request already in a batch cannot be claimed again: all or nothing.
        Assert.Null(await Store.Pipeline.RecordTxsAsync(Fence(c, "a"), [new NewTx(9, Batch(collection, ids[..1]), Attempt(3))], T0, Ct));
        await using var connection = await Store.Database.OpenConnectionAsync(Ct);
        Assert.Equal(2, await connection.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM tx WHERE chain_name = @c", new { c }));
        Assert.Equal(9, (await Store.Pipeline.TryAcquireLeaseAsync(c, Signer, "a", T0, TimeSpan.FromMinutes(1), Ct))!.NextNonce);

        // Abandoned (nonce used elsewhere): the requests are queued again.
        await Store.Pipeline.AbandonTxAsync(Fence(c, "a"), open[0].Id, "nonce 7 was used by another transaction", T0, Ct);
        Assert.Equal(ids[..2], (await Store.Pipeline.ListQueuedAsync(collection.Id, 100, Ct)).Select(q => q.Id));
    }

    [Fact]
    public async Task a_wallet_without_funds_gives_back_only_the_top_txs_no_node_took_and_its_next_nonce_goes_back()
    {
        var (chain, collection, ids) = await QueueAsync(4);
        var c = chain.Name;
        Assert.NotNull(await Store.Pipeline.TryAcquireLeaseAsync(c, Signer, "a", T0, TimeSpan.FromMinutes(1), Ct));
        Assert.True(await Store.Pipeline.SetNextNonceAsync(c, Signer, "a", 3, Ct));
        var recorded = (await Store.Pipeline.RecordTxsAsync(Fence(c, "a"),
            [new NewTx(3, Batch(collection, ids[..1]), Attempt(61)), new NewTx(4, Batch(collection, ids[1..2]), Attempt(62)),
             new NewTx(5, Batch(collection, ids[2..3]), Attempt(63)), new NewTx(6, Batch(collection, ids[3..]), Attempt(64))], T0, Ct))!;
        // Nonce 3 was taken by a node; 4 reached one before a crash maybe (never answered); 5 was refused for funds; 6 never sent.
        await Store.Pipeline.MarkBroadcastAsync(Fence(c, "a"), recorded[0].AttemptId, SendOutcome.Accepted, true, T0, Ct);
        await Store.Pipeline.MarkBroadcastAsync(Fence(c, "a"), recorded[2].AttemptId, SendOutcome.InsufficientFunds, false, T0, Ct);

        Assert.Equal(0, await Store.Pipeline.WithdrawUnsentTxsAsync(Fence(c, "b"), T0, Ct)); // not the holder
        Assert.Equal(2, await Store.Pipeline.WithdrawUnsentTxsAsync(Fence(c, "a"), T0, Ct));
        Assert.Equal(new long[] { 3, 4 }, (await Store.Pipeline.ListOpenTxsAsync(c, Signer, Ct)).Select(t => t.Nonce));
        Assert.Equal(ids[2..], (await Store.Pipeline.ListQueuedAsync(collection.Id, 100, Ct)).Select(q => q.Id));
        Assert.Equal(5, (await Store.Pipeline.TryAcquireLeaseAsync(c, Signer, "a", T0, TimeSpan.FromMinutes(1), Ct))!.NextNonce);
        Assert.Equal(0, await Store.Pipeline.WithdrawUnsentTxsAsync(Fence(c, "a"), T0, Ct)); // 4 was never refused: it stays

        // The nonces given back are used again, by new txs.
        Assert.NotNull(await Store.Pipeline.RecordTxsAsync(Fence(c, "a"), [new NewTx(5, Batch(collection, ids[2..]), Attempt(65))], T0, Ct));
    }

    [Fact]
    public async Task the_chains_collections_with_queued_requests_come_oldest_queued_request_first()
    {
        var chain = new ChainConfig(Unique("c"), 1, ["http://127.0.0.1:1"], null, 0, T0);
        var other = chain with { Name = Unique("c") };
        await Store.Tenancy.UpsertChainAsync(chain, Ct);
        await Store.Tenancy.UpsertChainAsync(other, Ct);
        var project = Unique("p");
        await Store.Tenancy.CreateProjectAsync(new Project(project, "p", "0x" + new string('1', 40), 2000, 5, 30000, 1000, T0), Ct);
        async Task<Collection> Add(ChainConfig on) => await Store.Tenancy.AddCollectionAsync(new Collection(0, on.Name, "0x" + Guid.NewGuid().ToString("N") + "cccccccc",
            project, CollectionKind.Erc721, PresetVariant.Erc721V2, null, true, T0), Ct);
        var (a, b, done, elsewhere) = (await Add(chain), await Add(chain), await Add(chain), await Add(other));
        await using (var connection = await Store.Database.OpenConnectionAsync(Ct))
        {
            // Accepted in this order: elsewhere, done (already succeeded), b, a, b, a.
            foreach (var (collection, status) in new[] { (elsewhere, "pending"), (done, "succeeded"), (b, "pending"), (a, "pending"), (b, "pending"), (a, "pending") })
            {
                await connection.ExecuteAsync(
                    """
                    INSERT INTO mint_request (collection_id, project_id, reference_id, owner_address, by_quantity, status, created_at, updated_at)
                    VALUES (@id, @project, @reference, @owner, @byQuantity, @status, @now, @now)
                    """,
                    new { id = collection.Id, project, reference = Unique("r"), owner = "0x" + new string('a', 40), byQuantity = Store.Database.Dialect.Bool(true), status, now = OpenMint.Core.Time.ToWire(T0) });
            }
        }
        Assert.Equal([b.Id, a.Id], await Store.Pipeline.ListQueuedCollectionsAsync(chain.Name, Ct));
        Assert.Equal([elsewhere.Id], await Store.Pipeline.ListQueuedCollectionsAsync(other.Name, Ct));
    }

    [Fact]
    public async Task a_tx_reads_back_with_its_bytes_fees_and_attempts_and_completes_once()
    {
        var (chain, collection, ids) = await QueueAsync(3);
        var c = chain.Name;
        Assert.Equal([collection.Id], await Store.Pipeline.ListQueuedCollectionsAsync(c, Ct));
        Assert.NotNull(await Store.Pipeline.TryAcquireLeaseAsync(c, Signer, "a", T0, TimeSpan.FromMinutes(1), Ct));
        Assert.True(await Store.Pipeline.SetNextNonceAsync(c, Signer, "a", 0, Ct));
        var batch = Batch(collection, ids);
        var raw = Enumerable.Range(0, 300).Select(i => (byte)i).ToArray();
        var first = new NewAttempt(AttemptKind.Mint, raw, Hash(10), 1_500_000_000, System.Numerics.BigInteger.Parse("30000000000000000000000", System.Globalization.CultureInfo.InvariantCulture), 123_456);
        var recorded = (await Store.Pipeline.RecordTxsAsync(Fence(c, "a"), [new NewTx(0, batch, first)], T0, Ct))![0];
        Assert.Empty(await Store.Pipeline.ListQueuedCollectionsAsync(c, Ct));

        await Store.Pipeline.MarkBroadcastAsync(Fence(c, "a"), recorded.AttemptId, SendOutcome.Accepted, true, T0.AddSeconds(1), Ct);
        await Store.Pipeline.MarkBroadcastAsync(Fence(c, "a"), recorded.AttemptId, SendOutcome.Accepted, true, T0.AddSeconds(2), Ct); // first acknowledgement stays
        var bumped = first with { Raw = [1, 2, 3], Hash = Hash(11), MaxPriorityFeePerGas = 1_650_000_000, GasLimit = 130_000 };
        var bumpId = (await Store.Pipeline.AddAttemptAsync(Fence(c, "a"), recorded.TxId, bumped, T0.AddSeconds(3), Ct))!.Value;
        await Store.Pipeline.MarkBroadcastAsync(Fence(c, "a"), bumpId, SendOutcome.Unknown, false, T0.AddSeconds(3), Ct);

        var tx = Assert.Single(await Store.Pipeline.ListOpenTxsAsync(c, Signer, Ct));
        Assert.Equal((recorded.TxId, 0L, TxState.Pending, MintMethod.ByQuantity), (tx.Id, tx.Nonce, tx.State, tx.Method));
        Assert.Equal(batch.Calldata(), tx.Calldata);
        Assert.Equal(ids, tx.Entries.SelectMany(e => e.RequestIds));
        Assert.Equal(2, tx.Attempts.Count);
        var (a0, a1) = (tx.Attempts[0], tx.Attempts[1]);
        Assert.Equal(raw, a0.Raw);
        Assert.Equal((Hash(10), first.MaxPriorityFeePerGas, first.MaxFeePerGas, 123_456L), (a0.Hash, a0.MaxPriorityFeePerGas, a0.MaxFeePerGas, a0.GasLimit));
        Assert.Equal(T0.AddSeconds(1), a0.BroadcastAt);
        Assert.Equal("Accepted", a0.Outcome);
        Assert.Equal(new byte[] { 1, 2, 3 }, a1.Raw);
        Assert.Equal((bumpId, (System.Numerics.BigInteger)1_650_000_000, 130_000L), (a1.Id, a1.MaxPriorityFeePerGas, a1.GasLimit));
        Assert.Null(a1.BroadcastAt);
        Assert.Equal("Unknown", a1.Outcome);

        await Store.Pipeline.MarkMinedAsync(Fence(c, "a"), tx.Id, Hash(11), 5_000_000_000, null, T0, Ct);
        var mined = Assert.Single(await Store.Pipeline.ListOpenTxsAsync(c, Signer, Ct));
        Assert.Equal((TxState.Mined, Hash(11), 5_000_000_000L), (mined.State, mined.MinedHash, mined.MinedBlock));
        await Store.Pipeline.MarkUnminedAsync(Fence(c, "a"), tx.Id, T0, Ct);
        Assert.Equal(TxState.Pending, Assert.Single(await Store.Pipeline.ListOpenTxsAsync(c, Signer, Ct)).State);

        await Store.Pipeline.SetTxNoticeAsync(tx.Id, "fee cap reached", T0, Ct);
        Assert.All(await Requests(collection, ids), r => Assert.Equal("fee cap reached", r.ErrorMessage));
        await Store.Pipeline.SetTxNoticeAsync(tx.Id, null, T0, Ct);

        var tokens = ids.Select((id, i) => new TokenAssignment(id, (1000 + i).ToString(System.Globalization.CultureInfo.InvariantCulture))).ToList();
        await Store.Pipeline.CompleteTxAsync(Fence(c, "a"), tx.Id, Hash(11), tokens, collection, chain, T0.AddSeconds(4), null, Ct);
        await Store.Pipeline.CompleteTxAsync(Fence(c, "a"), tx.Id, Hash(11), tokens, collection, chain, T0.AddSeconds(5), null, Ct); // twice: no change
        Assert.Empty(await Store.Pipeline.ListOpenTxsAsync(c, Signer, Ct));
        Assert.Equal([bumpId], (await Store.Pipeline.ListDoneAttemptsFromNonceAsync(c, Signer, 0, Ct)).Select(a => a.Id)); // the version that was mined
        Assert.Empty(await Store.Pipeline.ListDoneAttemptsFromNonceAsync(c, Signer, 1, Ct));
        var done = await Requests(collection, ids);
        Assert.All(done, r => Assert.Equal((MintStatus.Succeeded, Hash(11), (string?)null), (r.Status, r.TransactionHash, r.ErrorMessage)));
        Assert.Equal(["1000", "1001", "1002"], done.Select(r => r.TokenId));
        var token = await Store.Minting.GetTokenAsync(collection.Id, "1001", Ct);
        Assert.Equal(("0x" + new string('a', 40), "{\"name\":\"r2\"}"), (token!.OwnerAddress, token.MetadataJson));
        await using var connection = await Store.Database.OpenConnectionAsync(Ct);
        Assert.Equal(3, await connection.ExecuteScalarAsync<long>(
            "SELECT COUNT(*) FROM mint_event WHERE project_id = @p AND status = 'succeeded'", new { p = collection.ProjectId }));
    }

    [Fact]
    public async Task a_reorg_correction_moves_changed_token_ids_with_one_event_each_and_a_requeue_puts_the_requests_back_in_the_queue()
    {
        var (chain, collection, ids) = await QueueAsync(3);
        var c = chain.Name;
        Assert.NotNull(await Store.Pipeline.TryAcquireLeaseAsync(c, Signer, "a", T0, TimeSpan.FromMinutes(1), Ct));
        Assert.True(await Store.Pipeline.SetNextNonceAsync(c, Signer, "a", 0, Ct));
        var txId = (await Store.Pipeline.RecordTxsAsync(Fence(c, "a"), [new NewTx(0, Batch(collection, ids), Attempt(40))], T0, Ct))![0].TxId;
        Assert.True(await Store.Pipeline.MarkMinedAsync(Fence(c, "a"), txId, Hash(40), 10, "0xb10c", T0, Ct));
        List<TokenAssignment> Tokens(int first) => ids.Select((id, i) => new TokenAssignment(id, (first + i).ToString(System.Globalization.CultureInfo.InvariantCulture))).ToList();
        Assert.True(await Store.Pipeline.CompleteTxAsync(Fence(c, "a"), txId, Hash(40), Tokens(100), collection, chain, T0, null, Ct));

        Assert.Equal([new ReconciledBlock(txId, 0, 10, "0xb10c")], await Store.Pipeline.ListReconciledBlocksAsync(c, Signer, 10, Ct));
        Assert.Empty(await Store.Pipeline.ListReconciledBlocksAsync(c, Signer, 11, Ct));
        var tx = (await Store.Pipeline.GetReconciledTxAsync(txId, Ct))!;
        Assert.Equal((Hash(40), 10L), (tx.MinedHash, tx.MinedBlock));
        Assert.Equal(ids, tx.Entries.SelectMany(e => e.RequestIds));
        Assert.Equal([Hash(40)], tx.Attempts.Select(a => a.Hash));

        // Found again in another block with the same ids: the tx moves, no request changes.
        Assert.Equal(0, await Store.Pipeline.CorrectReorgedTxAsync(Fence(c, "a"), txId, Hash(40), 12, "0xb12c", Tokens(100), collection, chain, T0.AddSeconds(1), Ct));
        Assert.Equal([new ReconciledBlock(txId, 0, 12, "0xb12c")], await Store.Pipeline.ListReconciledBlocksAsync(c, Signer, 0, Ct));
        // Another mint took the ids first: each request is corrected, its token row moved, one event each.
        Assert.Null(await Store.Pipeline.CorrectReorgedTxAsync(Fence(c, "b"), txId, Hash(40), 13, "0xb13c", Tokens(103), collection, chain, T0.AddSeconds(2), Ct));
        Assert.Equal(3, await Store.Pipeline.CorrectReorgedTxAsync(Fence(c, "a"), txId, Hash(40), 13, "0xb13c", Tokens(103), collection, chain, T0.AddSeconds(2), Ct));
        Assert.Equal(["103", "104", "105"], (await Requests(collection, ids)).Select(r => r.TokenId));
        Assert.Null(await Store.Minting.GetTokenAsync(collection.Id, "100", Ct));
        Assert.Equal("{\"name\":\"r2\"}", (await Store.Minting.GetTokenAsync(collection.Id, "104", Ct))!.MetadataJson);
        await using var connection = await Store.Database.OpenConnectionAsync(Ct);
        var succeeded = await connection.QueryAsync<string>("SELECT payload FROM mint_event WHERE project_id = @p AND status = 'succeeded' ORDER BY seq", new { p = collection.ProjectId });
        Assert.Equal(6, succeeded.Count());
        Assert.Contains("\"token_id\":\"105\"", succeeded.Last(), StringComparison.Ordinal);

        // Its nonce went to another tx: the requests go back to the queue, never failed.
        Assert.False(await Store.Pipeline.RequeueReorgedTxAsync(Fence(c, "b"), txId, "gone", collection, chain, T0.AddSeconds(3), Ct));
        Assert.True(await Store.Pipeline.RequeueReorgedTxAsync(Fence(c, "a"), txId, "gone", collection, chain, T0.AddSeconds(3), Ct));
        Assert.False(await Store.Pipeline.RequeueReorgedTxAsync(Fence(c, "a"), txId, "gone", collection, chain, T0.AddSeconds(3), Ct));
        Assert.All(await Requests(collection, ids), r => Assert.Equal((MintStatus.Pending, (string?)null, (string?)null, (long?)null, "gone"),
            (r.Status, r.TokenId, r.TransactionHash, r.BatchId, r.ErrorMessage)));
        Assert.Equal(ids, (await Store.Pipeline.ListQueuedAsync(collection.Id, 10, Ct)).Select(q => q.Id));
        Assert.Null(await Store.Minting.GetTokenAsync(collection.Id, "103", Ct));
        Assert.Empty(await Store.Pipeline.ListReconciledBlocksAsync(c, Signer, 0, Ct));
        Assert.Null(await Store.Pipeline.GetReconciledTxAsync(txId, Ct));
        Assert.Empty(await Store.Pipeline.ListDoneAttemptsFromNonceAsync(c, Signer, 0, Ct)); // never re-sent by a chain that goes back
        Assert.Equal(3, await connection.ExecuteScalarAsync<long>(
            "SELECT COUNT(*) FROM mint_event WHERE project_id = @p AND status = 'pending' AND payload IS NOT NULL", new { p = collection.ProjectId }));
        Assert.Equal(0, await connection.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM mint_event WHERE project_id = @p AND status = 'failed'", new { p = collection.ProjectId }));
    }

    [Fact]
    public async Task failing_a_tx_or_queued_requests_records_the_reason_once()
    {
        var (chain, collection, ids) = await QueueAsync(4);
        var c = chain.Name;
        Assert.NotNull(await Store.Pipeline.TryAcquireLeaseAsync(c, Signer, "a", T0, TimeSpan.FromMinutes(1), Ct));
        Assert.True(await Store.Pipeline.SetNextNonceAsync(c, Signer, "a", 3, Ct));
        var recorded = (await Store.Pipeline.RecordTxsAsync(Fence(c, "a"), [new NewTx(3, Batch(collection, ids[..2]), Attempt(20))], T0, Ct))![0];

        await Store.Pipeline.FailQueuedAsync([ids[2], ids[0]], "transaction failed to build: execution reverted: nope", collection, chain, T0, Ct);
        await Store.Pipeline.FailTxAsync(Fence(c, "a"), recorded.TxId, Hash(20), "execution reverted: boom", collection, chain, T0, Ct);
        await Store.Pipeline.FailTxAsync(Fence(c, "a"), recorded.TxId, Hash(20), "again", collection, chain, T0, Ct);

        var rows = await Requests(collection, ids);
        Assert.Equal([MintStatus.Failed, MintStatus.Failed, MintStatus.Failed, MintStatus.Pending], rows.Select(r => r.Status));
        Assert.Equal(["execution reverted: boom", "execution reverted: boom", "transaction failed to build: execution reverted: nope", null], rows.Select(r => r.ErrorMessage));
        Assert.Equal([Hash(20), Hash(20), null, null], rows.Select(r => r.TransactionHash));
        await using var connection = await Store.Database.OpenConnectionAsync(Ct);
        Assert.Equal(3, await connection.ExecuteScalarAsync<long>(
            "SELECT COUNT(*) FROM mint_event WHERE project_id = @p AND status = 'failed'", new { p = collection.ProjectId }));

        // A pause shows on every pending request of the chain, and is cleared from them on resume.
        await Store.Pipeline.SetSignerNoticeAsync(c, Signer, "minting on chain paused", T0, Ct);
        Assert.Equal("minting on chain paused", (await Requests(collection, ids))[3].ErrorMessage);
        await Store.Pipeline.SetSignerNoticeAsync(c, Signer, null, T0, Ct);
        Assert.Null((await Requests(collection, ids))[3].ErrorMessage);
    }

    [Fact]
    public async Task two_store_instances_racing_for_the_same_signer_lease_never_both_hold_it()
    {
        await using var other = await OpenMintStorage.OpenAsync(DatabaseValue, Ct);
        var c = Unique("race");
        var lease = TimeSpan.FromSeconds(10);

        // Many signers at once, each first taken by both instances in the same instant, then again once expired.
        var signers = Enumerable.Range(0, 24).Select(i => "0x" + i.ToString("x40", System.Globalization.CultureInfo.InvariantCulture)).ToList();
        foreach (var at in new[] { T0, T0 + lease + TimeSpan.FromSeconds(1) })
        {
            var rounds = await Task.WhenAll(signers.Select(async s =>
            {
                var both = await Task.WhenAll(
                    Task.Run(() => Store.Pipeline.TryAcquireLeaseAsync(c, s, "a", at, lease, Ct)),
                    Task.Run(() => other.Pipeline.TryAcquireLeaseAsync(c, s, "b", at, lease, Ct)));
                return both.Count(l => l is not null);
            }));
            Assert.All(rounds, won => Assert.Equal(1, won));
        }

        // Two loops on the real clock with a lease shorter than their pauses: the lease changes hands, and the
        // intervals [now, expiry) that the two instances were granted never overlap.
        var grants = new ConcurrentBag<(string Owner, DateTimeOffset From, DateTimeOffset Until)>();
        var shortLease = TimeSpan.FromMilliseconds(40);
        var stopwatch = Stopwatch.StartNew();
        async Task LoopAsync(OpenMintStorage store, string owner, int seed)
        {
            var random = new Random(seed);
            // At least 2 s, and on until both have held it (a starved machine may stall one loop's first acquire for long).
            while (stopwatch.Elapsed < TimeSpan.FromSeconds(2)
                || (grants.Select(g => g.Owner).Distinct().Count() < 2 && stopwatch.Elapsed < TimeSpan.FromSeconds(60)))
            {
                var now = DateTimeOffset.UtcNow;
                if (await store.Pipeline.TryAcquireLeaseAsync(c, Signer, owner, now, shortLease, Ct) is not null)
                {
                    grants.Add((owner, now, now + shortLease));
                }
                await Task.Delay(random.Next(0, 70));
            }
        }
        await Task.WhenAll(Task.Run(() => LoopAsync(Store, "a", 1)), Task.Run(() => LoopAsync(other, "b", 2)));
        var a = grants.Where(g => g.Owner == "a").ToList();
        var b = grants.Where(g => g.Owner == "b").ToList();
        Assert.NotEmpty(a);
        Assert.NotEmpty(b);
        foreach (var x in a)
        {
            Assert.DoesNotContain(b, y => y.From < x.Until && x.From < y.Until);
        }
    }

    [Fact]
    public async Task a_writer_that_lost_its_lease_changes_nothing_for_the_nonces_it_signed()
    {
        var (chain, collection, ids) = await QueueAsync(2);
        var c = chain.Name;
        var minute = TimeSpan.FromMinutes(1);
        var a = (await Store.Pipeline.TryAcquireLeaseAsync(c, Signer, "a", T0, minute, Ct))!.Fence;
        Assert.True(await Store.Pipeline.SetNextNonceAsync(c, Signer, "a", 0, Ct));
        var recorded = (await Store.Pipeline.RecordTxsAsync(a, [new NewTx(0, Batch(collection, ids), Attempt(30))], T0, Ct))![0];
        Assert.True(await Store.Pipeline.MarkBroadcastAsync(a, recorded.AttemptId, SendOutcome.Accepted, true, T0.AddSeconds(1), Ct));

        // Past its lease (frozen, say) "a" writes nothing, even before anyone else takes the lease.
        var late = T0 + minute + TimeSpan.FromSeconds(1);
        Assert.False(await Store.Pipeline.MarkMinedAsync(a, recorded.TxId, Hash(30), 7, null, late, Ct));
        // "b" takes over: a new epoch.
        var b = (await Store.Pipeline.TryAcquireLeaseAsync(c, Signer, "b", late, minute, Ct))!.Fence;
        Assert.Equal(a.Epoch + 1, b.Epoch);

        // Every write "a" makes for the nonce it signed is refused and changes nothing, at its old clock or the new one.
        foreach (var at in new[] { T0.AddSeconds(2), late })
        {
            Assert.Null(await Store.Pipeline.AddAttemptAsync(a, recorded.TxId, Attempt(31), at, Ct));
            Assert.False(await Store.Pipeline.MarkBroadcastAsync(a, recorded.AttemptId, SendOutcome.Rejected, false, at, Ct));
            Assert.False(await Store.Pipeline.MarkMinedAsync(a, recorded.TxId, Hash(30), 7, null, at, Ct));
            Assert.False(await Store.Pipeline.CompleteTxAsync(a, recorded.TxId, Hash(30), [new TokenAssignment(ids[0], "1"), new TokenAssignment(ids[1], "2")], collection, chain, at, null, Ct));
            Assert.False(await Store.Pipeline.FailTxAsync(a, recorded.TxId, Hash(30), "execution reverted: stale", collection, chain, at, Ct));
            Assert.False(await Store.Pipeline.AbandonTxAsync(a, recorded.TxId, "stale", at, Ct));
            Assert.Null(await Store.Pipeline.RecordTxsAsync(a, [new NewTx(1, Batch(collection, ids), Attempt(32))], at, Ct));
        }
        var tx = Assert.Single(await Store.Pipeline.ListOpenTxsAsync(c, Signer, Ct));
        Assert.Equal((TxState.Pending, (string?)null), (tx.State, tx.MinedHash));
        var attempt = Assert.Single(tx.Attempts);
        Assert.Equal(("Accepted", (DateTimeOffset?)T0.AddSeconds(1)), (attempt.Outcome, attempt.BroadcastAt));
        Assert.All(await Requests(collection, ids), r => Assert.Equal((MintStatus.Pending, (string?)null), (r.Status, r.TokenId)));

        // The holder's writes go through; "a" taking the lease back later gets yet another epoch, so its old fence stays dead.
        Assert.True(await Store.Pipeline.MarkMinedAsync(b, recorded.TxId, Hash(30), 7, null, late, Ct));
        Assert.True(await Store.Pipeline.CompleteTxAsync(b, recorded.TxId, Hash(30), [new TokenAssignment(ids[0], "1"), new TokenAssignment(ids[1], "2")], collection, chain, late, null, Ct));
        var again = late + minute + minute;
        var a2 = (await Store.Pipeline.TryAcquireLeaseAsync(c, Signer, "a", again, minute, Ct))!.Fence;
        Assert.Equal(b.Epoch + 1, a2.Epoch);
        Assert.Equal(a2.Epoch, (await Store.Pipeline.TryAcquireLeaseAsync(c, Signer, "a", again.AddSeconds(1), minute, Ct))!.Epoch); // a renewal keeps it
        Assert.Null(await Store.Pipeline.AddAttemptAsync(a, recorded.TxId, Attempt(33), again, Ct));
        Assert.Equal([MintStatus.Succeeded, MintStatus.Succeeded], (await Requests(collection, ids)).Select(r => r.Status));
    }

    [Fact]
    public async Task out_of_gas_queues_the_requests_again_once_with_a_gas_limit_floor_then_fails_them()
    {
        var (chain, collection, ids) = await QueueAsync(2);
        var c = chain.Name;
        var a = (await Store.Pipeline.TryAcquireLeaseAsync(c, Signer, "a", T0, TimeSpan.FromMinutes(1), Ct))!.Fence;
        Assert.True(await Store.Pipeline.SetNextNonceAsync(c, Signer, "a", 0, Ct));
        var first = (await Store.Pipeline.RecordTxsAsync(a, [new NewTx(0, Batch(collection, ids[..1]), Attempt(50))], T0, Ct))![0];
        Assert.Empty(await Store.Pipeline.GasLimitFloorsAsync(ids, Ct));
        Assert.True(await Store.Pipeline.RequeueOutOfGasAsync(a, first.TxId, Hash(50), 150_000, "execution reverted: out of gas", collection, chain, T0, Ct));
        Assert.Equal(new Dictionary<long, long> { [ids[0]] = 150_000 }, await Store.Pipeline.GasLimitFloorsAsync(ids, Ct));
        Assert.Equal(ids, (await Store.Pipeline.ListQueuedAsync(collection.Id, 10, Ct)).Select(r => r.Id));
        Assert.Equal(MintStatus.Pending, (await Requests(collection, ids))[0].Status);

        // Both in the next tx, out of gas again: the one queued before fails, the other is queued again once.
        var second = (await Store.Pipeline.RecordTxsAsync(a, [new NewTx(1, Batch(collection, ids), Attempt(51))], T0, Ct))![0];
        Assert.True(await Store.Pipeline.RequeueOutOfGasAsync(a, second.TxId, Hash(51), 225_000, "execution reverted: out of gas", collection, chain, T0, Ct));
        var rows = await Requests(collection, ids);
        Assert.Equal((MintStatus.Failed, "execution reverted: out of gas", Hash(51)), (rows[0].Status, rows[0].ErrorMessage, rows[0].TransactionHash));
        Assert.Equal((MintStatus.Pending, (long?)null), (rows[1].Status, rows[1].BatchId));
        Assert.Equal(225_000, (await Store.Pipeline.GasLimitFloorsAsync(ids, Ct))[ids[1]]);
        Assert.False(await Store.Pipeline.RequeueOutOfGasAsync(a, second.TxId, Hash(51), 225_000, "again", collection, chain, T0, Ct)); // closed already
    }

    [Fact]
    public async Task a_300_token_completion_succeeds_each_request_with_its_token_row_and_one_event_in_request_order()
    {
        var (chain, collection, ids) = await QueueAsync(300);
        var c = chain.Name;
        var a = (await Store.Pipeline.TryAcquireLeaseAsync(c, Signer, "a", T0, TimeSpan.FromMinutes(1), Ct))!.Fence;
        Assert.True(await Store.Pipeline.SetNextNonceAsync(c, Signer, "a", 0, Ct));
        var recorded = (await Store.Pipeline.RecordTxsAsync(a, [new NewTx(0, Batch(collection, ids), Attempt(60))], T0, Ct))![0];
        Assert.Empty(await Store.Pipeline.ListQueuedAsync(collection.Id, 1000, Ct));
        await using var connection = await Store.Database.OpenConnectionAsync(Ct);
        // The last two requests got the same id (as ERC1155 requests may): the later owner wins, the earlier metadata stays.
        await connection.ExecuteAsync("UPDATE mint_request SET owner_address = @owner, metadata = NULL WHERE id = @id", new { owner = "0x" + new string('b', 40), id = ids[^1] });
        var before = await Requests(collection, ids);
        Assert.All(before, r => Assert.NotNull(r.BatchId));
        var tokens = ids.Select((id, i) => new TokenAssignment(id, (5000 + Math.Min(i, 298)).ToString(System.Globalization.CultureInfo.InvariantCulture))).ToList();
        var lastSeq = await connection.ExecuteScalarAsync<long>("SELECT COALESCE(MAX(seq), 0) FROM mint_event");
        var now = T0.AddSeconds(4);

        // A crash before the commit leaves everything as it was, the tx still open.
        await Assert.ThrowsAsync<InvalidOperationException>(() => Store.Pipeline.CompleteTxAsync(a, recorded.TxId, Hash(60), tokens, collection, chain, now,
            () => throw new InvalidOperationException("crash"), Ct));
        Assert.Equal(before, await Requests(collection, ids));
        Assert.Empty(await Events(connection, collection, lastSeq));
        Assert.Single(await Store.Pipeline.ListOpenTxsAsync(c, Signer, Ct));

        Assert.True(await Store.Pipeline.CompleteTxAsync(a, recorded.TxId, Hash(60), tokens, collection, chain, now, null, Ct));
        var after = await Requests(collection, ids);
        var events = await Events(connection, collection, lastSeq);
        // Completed once: a second completion, and one by a fenced-out writer, change nothing.
        Assert.False(await Store.Pipeline.CompleteTxAsync(a, recorded.TxId, Hash(60), tokens, collection, chain, now.AddSeconds(1), null, Ct));
        Assert.False(await Store.Pipeline.CompleteTxAsync(Fence(c, "b"), recorded.TxId, Hash(60), tokens, collection, chain, now.AddSeconds(1), null, Ct));
        Assert.Equal(after, await Requests(collection, ids));
        Assert.Equal(events, await Events(connection, collection, lastSeq));

        Assert.Equal(before.Select((r, i) => r with
        {
            Status = MintStatus.Succeeded, TokenId = tokens[i].TokenId, TransactionHash = Hash(60), ErrorMessage = null, ActivityId = after[i].ActivityId, UpdatedAt = now,
        }), after);
        Assert.Equal(300, after.Select(r => Guid.Parse(r.ActivityId!)).Distinct().Count());
        Assert.Equal(ids, events.Select(e => e.RequestId));
        Assert.Equal(Enumerable.Range(0, 300).Select(i => events[0].Seq + i), events.Select(e => e.Seq));
        Assert.Equal(events.Select(e => e.EventId).Order(StringComparer.Ordinal), events.Select(e => e.EventId));
        Assert.All(events.Zip(after), p => Assert.Equal(
            ("succeeded", OpenMint.Core.Time.ToWire(now), (string?)null, MintEvents.Payload(Guid.Parse(p.First.EventId), p.Second, collection, chain)),
            (p.First.Status, p.First.CreatedAt, p.First.EventName, p.First.Payload)));

        var rows = (await connection.QueryAsync<(string TokenId, string? Owner, string? Metadata, string CreatedAt)>(
            "SELECT token_id, owner_address, metadata, created_at FROM token WHERE collection_id = @id ORDER BY token_id", new { id = collection.Id })).ToList();
        var at = OpenMint.Core.Time.ToWire(now);
        Assert.Equal(before.Take(298).Select((r, i) => ((5000 + i).ToString(System.Globalization.CultureInfo.InvariantCulture), (string?)r.OwnerAddress, r.MetadataJson, at))
            .Append(("5298", "0x" + new string('b', 40), before[298].MetadataJson, at)), rows);
    }

    [Fact]
    public async Task failing_a_tx_writes_one_failed_event_per_request_in_request_order_and_a_requeue_after_a_reorg_one_pending_event_each()
    {
        var (chain, collection, ids) = await QueueAsync(120);
        var c = chain.Name;
        var a = (await Store.Pipeline.TryAcquireLeaseAsync(c, Signer, "a", T0, TimeSpan.FromMinutes(1), Ct))!.Fence;
        Assert.True(await Store.Pipeline.SetNextNonceAsync(c, Signer, "a", 0, Ct));
        var recorded = await Store.Pipeline.RecordTxsAsync(a, [new NewTx(0, Batch(collection, ids[..60]), Attempt(70)), new NewTx(1, Batch(collection, ids[60..]), Attempt(71))], T0, Ct);
        await using var connection = await Store.Database.OpenConnectionAsync(Ct);
        var lastSeq = await connection.ExecuteScalarAsync<long>("SELECT COALESCE(MAX(seq), 0) FROM mint_event");

        Assert.True(await Store.Pipeline.FailTxAsync(a, recorded![0].TxId, Hash(70), "execution reverted: boom", collection, chain, T0.AddSeconds(1), Ct));
        Assert.True(await Store.Pipeline.MarkMinedAsync(a, recorded[1].TxId, Hash(71), 10, "0xb10c", T0, Ct));
        var tokens = ids[60..].Select((id, i) => new TokenAssignment(id, (7000 + i).ToString(System.Globalization.CultureInfo.InvariantCulture))).ToList();
        Assert.True(await Store.Pipeline.CompleteTxAsync(a, recorded[1].TxId, Hash(71), tokens, collection, chain, T0.AddSeconds(2), null, Ct));
        Assert.True(await Store.Pipeline.RequeueReorgedTxAsync(a, recorded[1].TxId, "gone", collection, chain, T0.AddSeconds(3), Ct));

        var rows = await Requests(collection, ids);
        var events = await Events(connection, collection, lastSeq);
        Assert.Equal(ids.Concat(ids[60..]), events.Select(e => e.RequestId));
        Assert.Equal([.. Enumerable.Repeat("failed", 60), .. Enumerable.Repeat("succeeded", 60), .. Enumerable.Repeat("pending", 60)], events.Select(e => e.Status));
        // The payloads of the last event of each request are those of its row as it is now.
        Assert.All(events[..60].Concat(events[120..]).Zip(rows), p => Assert.Equal(MintEvents.Payload(Guid.Parse(p.First.EventId), p.Second, collection, chain), p.First.Payload));
        Assert.All(rows[..60], r => Assert.Equal((MintStatus.Failed, "execution reverted: boom", Hash(70), T0.AddSeconds(1)), (r.Status, r.ErrorMessage, r.TransactionHash, r.UpdatedAt)));
        Assert.All(rows[60..], r => Assert.Equal((MintStatus.Pending, (string?)null, (string?)null, (string?)null, (long?)null, "gone", T0.AddSeconds(3)),
            (r.Status, r.TokenId, r.TransactionHash, r.ActivityId, r.BatchId, r.ErrorMessage, r.UpdatedAt)));
        Assert.Equal(0, await connection.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM token WHERE collection_id = @id", new { id = collection.Id }));
    }

    private sealed record EventRow(long Seq, string EventId, long RequestId, string Status, string? Payload, string CreatedAt, string? EventName);

    private static async Task<List<EventRow>> Events(System.Data.Common.DbConnection connection, Collection collection, long afterSeq) =>
        (await connection.QueryAsync<EventRow>(
            """
            SELECT seq AS Seq, event_id AS EventId, mint_request_id AS RequestId, status AS Status, payload AS Payload, created_at AS CreatedAt, event_name AS EventName
            FROM mint_event WHERE project_id = @p AND seq > @afterSeq ORDER BY seq
            """, new { p = collection.ProjectId, afterSeq })).ToList();

    private static LeaseFence Fence(string chain, string instance) => new(chain, Signer, instance, 1);

    protected async Task<(ChainConfig Chain, Collection Collection, List<long> Ids)> QueueAsync(int count)
    {
        var chain = new ChainConfig(Unique("c"), 1, ["http://127.0.0.1:1"], null, 0, T0);
        await Store.Tenancy.UpsertChainAsync(chain, Ct);
        var project = Unique("p");
        await Store.Tenancy.CreateProjectAsync(new Project(project, "p", "0x" + new string('1', 40), 2000, 5, 30000, 1000, T0), Ct);
        var address = "0x" + Guid.NewGuid().ToString("N") + "cccccccc";
        var collection = await Store.Tenancy.AddCollectionAsync(new Collection(0, chain.Name, address, project, CollectionKind.Erc721, PresetVariant.Erc721V2, null, true, T0), Ct);
        // Rows as intake leaves them, written directly: these tests are about the pipeline's queries only.
        await using (var connection = await Store.Database.OpenConnectionAsync(Ct))
        {
            for (var i = 1; i <= count; i++)
            {
                await connection.ExecuteAsync(
                    """
                    INSERT INTO mint_request (collection_id, project_id, reference_id, owner_address, by_quantity, metadata, status, created_at, updated_at)
                    VALUES (@id, @project, @reference, @owner, @byQuantity, @metadata, 'pending', @now, @now)
                    """,
                    new
                    {
                        id = collection.Id, project, reference = $"r{i}", owner = "0x" + new string('a', 40), metadata = $"{{\"name\":\"r{i}\"}}",
                        byQuantity = Store.Database.Dialect.Bool(true), now = OpenMint.Core.Time.ToWire(T0),
                    });
            }
        }
        var ids = (await Store.Pipeline.ListQueuedAsync(collection.Id, Math.Max(count, 100), Ct)).Select(q => q.Id).ToList();
        Assert.Equal(count, ids.Count);
        return (chain, collection, ids);
    }

    protected static MintBatch Batch(Collection collection, IEnumerable<long> requestIds) =>
        new(collection.Id, collection.Address, MintMethod.ByQuantity, [new MintEntry("0x" + new string('a', 40), requestIds.ToList(), null, null)], 100_000);

    protected NewAttempt Attempt(int n) => new(AttemptKind.Mint, [(byte)n], Hash(n), 1, 2, 100_000);

    /// <summary>A tx hash unique to this test (hashes are unique in the store, and PostgreSQL tests share a database).</summary>
    protected string Hash(int n) => "0x" + _hashSalt + n.ToString("x56", System.Globalization.CultureInfo.InvariantCulture);

    private readonly string _hashSalt = Guid.NewGuid().ToString("N")[..8];

    /// <summary>The requests QueueAsync made (reference ids r1..rN, in id order).</summary>
    private async Task<List<MintRequestRecord>> Requests(Collection collection, IReadOnlyList<long> ids)
    {
        var result = new List<MintRequestRecord>();
        for (var i = 1; i <= ids.Count; i++)
        {
            result.Add((await Store.Minting.GetMintRequestAsync(collection.Id, $"r{i}", Ct))!);
        }
        Assert.Equal(ids, result.Select(r => r.Id));
        return result;
    }
}

public sealed class SqlitePipelineStoreTests(SqliteBackend backend) : PipelineStoreTests<SqliteBackend>(backend);

public sealed class PostgresPipelineStoreTests(PostgresBackend backend) : PipelineStoreTests<PostgresBackend>(backend)
{
    [Fact]
    public async Task a_contender_does_not_wait_behind_a_transaction_that_has_the_lease_row_locked()
    {
        var c = Unique("c");
        Assert.NotNull(await Store.Pipeline.TryAcquireLeaseAsync(c, Signer, "a", T0, TimeSpan.FromSeconds(1), Ct));
        await using (var holder = await Store.Database.OpenConnectionAsync(Ct))
        {
            await using var tx = await holder.BeginTransactionAsync(Ct);
            // As a holder's write-ahead transaction does (RecordTxsAsync moves next_nonce under the row's lock).
            await holder.ExecuteAsync("UPDATE signer_lease SET next_nonce = 5 WHERE chain_name = @c", new { c }, tx);
            // The lease has expired, but its row is locked: the contender gets nothing now instead of waiting.
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
            Assert.Null(await Store.Pipeline.TryAcquireLeaseAsync(c, Signer, "b", T0.AddSeconds(5), TimeSpan.FromSeconds(10), timeout.Token));
            await tx.RollbackAsync(Ct);
        }
        Assert.NotNull(await Store.Pipeline.TryAcquireLeaseAsync(c, Signer, "b", T0.AddSeconds(5), TimeSpan.FromSeconds(10), Ct));
    }

    [Fact]
    public async Task a_takeover_cannot_slip_between_a_fenced_check_and_its_write()
    {
        var (chain, collection, ids) = await QueueAsync(1);
        var c = chain.Name;
        var a = (await Store.Pipeline.TryAcquireLeaseAsync(c, Signer, "a", T0, TimeSpan.FromSeconds(10), Ct))!.Fence;
        Assert.True(await Store.Pipeline.SetNextNonceAsync(c, Signer, "a", 0, Ct));
        var recorded = (await Store.Pipeline.RecordTxsAsync(a, [new NewTx(0, Batch(collection, ids), Attempt(40))], T0, Ct))![0];
        await using var other = await OpenMintStorage.OpenAsync(DatabaseValue, Ct);
        SignerLease? contender = null;
        // Inside the completion's transaction (the fence checked, the commit not yet made) the lease has expired at the
        // contender's clock, yet the share lock on the lease row keeps it from taking the lease until the write is over.
        Assert.True(await Store.Pipeline.CompleteTxAsync(a, recorded.TxId, Hash(40), [new TokenAssignment(ids[0], "1")], collection, chain, T0.AddSeconds(1),
            () => contender = other.Pipeline.TryAcquireLeaseAsync(c, Signer, "b", T0.AddSeconds(30), TimeSpan.FromSeconds(10), Ct).GetAwaiter().GetResult(), Ct));
        Assert.Null(contender);
        Assert.NotNull(await other.Pipeline.TryAcquireLeaseAsync(c, Signer, "b", T0.AddSeconds(30), TimeSpan.FromSeconds(10), Ct));
    }
}
