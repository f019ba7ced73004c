using System.Collections.Concurrent;
using System.Globalization;
using System.Numerics;
using Dapper;
using OpenMint.Chain;

namespace OpenMint.TestSupport.ScaleOut;

public sealed partial class ScaleOutRun
{
    private static readonly string TransferTopic = Hex.Encode(Abi.EventTopic("Transfer(address,address,uint256)"));
    private const int ListedProblems = 10;

    /// <summary>
    /// Every request succeeded with its own token; every token is on chain once with its owner (ownerOf, balanceOf,
    /// and exactly one Transfer log per token from the zero address since the first block); every wallet's chain
    /// nonce advanced by exactly the txs the store sent, with no gap; every kill moved the lease. Returns txs per wallet.
    /// </summary>
    private async Task<IReadOnlyDictionary<string, int>> CheckAsync(IReadOnlyDictionary<string, long> startNonces, long firstBlock,
        IReadOnlyList<Takeover> takeovers, List<string> problems, CancellationToken ct)
    {
        var tokens = await CheckRequestsAsync(problems);
        await CheckOwnersAsync(tokens, problems, ct);
        await CheckTransferLogsAsync(tokens, firstBlock, problems);
        var txs = new Dictionary<string, int>();
        foreach (var (wallet, start) in startNonces)
        {
            txs[wallet] = await CheckNoncesAsync(wallet, start, problems);
        }
        if (takeovers.Count != _o.Kills)
        {
            problems.Add($"{takeovers.Count} kills done, {_o.Kills} planned");
        }
        foreach (var t in takeovers.Where(t => t.NewOwner is null || t.NewOwner == t.KilledOwner))
        {
            problems.Add($"the lease of {t.Wallet} did not move after kill -9 of {t.KilledOwner}");
        }
        return txs;
    }

    /// <summary>Token id -> owner of every request; adds a problem for each request not succeeded and each token given twice.</summary>
    private async Task<Dictionary<BigInteger, string>> CheckRequestsAsync(List<string> problems)
    {
        await using var c = await _store.Database.OpenConnectionAsync(CancellationToken.None);
        var rows = (await c.QueryAsync<(string Reference, string Status, string? TokenId, string? Error)>(
            "SELECT reference_id, status, token_id, error_message FROM mint_request WHERE collection_id = @Id", new { Id = _collectionId }))
            .ToDictionary(r => r.Reference);
        var tokens = new Dictionary<BigInteger, string>();
        var bad = new List<string>();
        foreach (var (reference, owner) in _requests)
        {
            if (!rows.TryGetValue(reference, out var r))
            {
                bad.Add($"{reference}: not in the store");
            }
            else if (r.Status != "succeeded" || r.TokenId is null)
            {
                bad.Add($"{reference}: {r.Status} {r.Error}");
            }
            else if (!tokens.TryAdd(BigInteger.Parse(r.TokenId, CultureInfo.InvariantCulture), owner))
            {
                bad.Add($"{reference}: token {r.TokenId} given to two requests");
            }
        }
        AddAll(problems, "requests", bad);
        var events = await c.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM mint_event WHERE status = 'succeeded'");
        if (events != _requests.Count)
        {
            problems.Add($"{events} succeeded events for {_requests.Count} requests");
        }
        return tokens;
    }

    private async Task CheckOwnersAsync(Dictionary<BigInteger, string> tokens, List<string> problems, CancellationToken ct)
    {
        var bad = new ConcurrentBag<string>();
        await Parallel.ForEachAsync(tokens, new ParallelOptions { MaxDegreeOfParallelism = 8, CancellationToken = ct }, async (t, _) =>
        {
            var owner = "0x" + (await CallAsync("ownerOf(uint256)", t.Key))[^40..];
            if (owner != t.Value)
            {
                bad.Add($"ownerOf({t.Key}) = {owner}, expected {t.Value}");
            }
        });
        foreach (var group in tokens.GroupBy(t => t.Value))
        {
            var balance = HexQuantity.Parse("0x" + await CallAsync("balanceOf(address)", group.Key));
            if (balance != group.Count())
            {
                bad.Add($"balanceOf({group.Key}) = {balance}, expected {group.Count()}");
            }
        }
        AddAll(problems, "owners", bad.ToList());
    }

    /// <summary>Exactly one Transfer per minted token, each from the zero address to its owner, and no other Transfer.</summary>
    private async Task CheckTransferLogsAsync(Dictionary<BigInteger, string> tokens, long firstBlock, List<string> problems)
    {
        var logs = await RawRpc.CallAsync(_rpc, "eth_getLogs",
            new { address = _collection, fromBlock = HexQuantity.Encode(firstBlock), toBlock = "latest", topics = new[] { TransferTopic } });
        var seen = new HashSet<BigInteger>();
        var bad = new List<string>();
        foreach (var log in logs.EnumerateArray())
        {
            var topics = log.GetProperty("topics").EnumerateArray().Select(t => t.GetString()!).ToArray();
            var id = HexQuantity.Parse(topics[3]);
            var to = "0x" + topics[2][^40..];
            if (HexQuantity.Parse(topics[1]) != 0 || !tokens.TryGetValue(id, out var owner) || owner != to || !seen.Add(id))
            {
                bad.Add($"extra Transfer {topics[1][^40..]} -> {to} of {id} (tx {log.GetProperty("transactionHash").GetString()})");
            }
        }
        bad.AddRange(tokens.Keys.Where(id => !seen.Contains(id)).Select(id => $"no Transfer log for token {id}"));
        AddAll(problems, "Transfer logs", bad);
    }

    /// <summary>The store's txs of <paramref name="wallet"/> hold exactly the nonces start..chain nonce - 1, all done. Returns their count.</summary>
    private async Task<int> CheckNoncesAsync(string wallet, long start, List<string> problems)
    {
        var latest = await NonceAsync(wallet, "latest");
        var pending = await NonceAsync(wallet, "pending");
        await using var c = await _store.Database.OpenConnectionAsync(CancellationToken.None);
        var txs = (await c.QueryAsync<(long Nonce, string State)>(
            "SELECT nonce, state FROM tx WHERE chain_name = @ChainName AND signer_address = @wallet ORDER BY nonce", new { ChainName, wallet })).ToList();
        var next = await c.ExecuteScalarAsync<long?>("SELECT next_nonce FROM signer_lease WHERE chain_name = @ChainName AND signer_address = @wallet",
            new { ChainName, wallet });
        var expected = Enumerable.Range(0, (int)(latest - start)).Select(i => start + i);
        if (!txs.Select(t => t.Nonce).SequenceEqual(expected))
        {
            problems.Add($"{wallet}: chain nonce went {start} -> {latest}, the store sent {txs.Count} txs with nonces {Ranges(txs.Select(t => t.Nonce))}");
        }
        if (pending != latest || next != latest)
        {
            problems.Add($"{wallet}: chain nonce {latest} (pending {pending}), store next_nonce {next}");
        }
        AddAll(problems, wallet, txs.Where(t => t.State != "done").Select(t => $"tx nonce {t.Nonce} left {t.State}").ToList());
        return txs.Count;
    }

    private static string Ranges(IEnumerable<long> nonces) =>
        string.Join(",", nonces.Select((n, i) => (n, i)).GroupBy(x => x.n - x.i).Select(g => g.First().n == g.Last().n ? $"{g.First().n}" : $"{g.First().n}-{g.Last().n}"));

    private static void AddAll(List<string> problems, string what, List<string> found)
    {
        problems.AddRange(found.Take(ListedProblems).Select(p => what + ": " + p));
        if (found.Count > ListedProblems)
        {
            problems.Add($"{what}: {found.Count - ListedProblems} more");
        }
    }

    /// <summary>eth_call of a one-argument view on the collection; the result as hex without 0x.</summary>
    private async Task<string> CallAsync(string signature, object argument)
    {
        var result = await RawRpc.CallAsync(_rpc, "eth_call", new { to = _collection, data = Hex.Encode(Abi.EncodeCall(signature, argument)) }, "latest");
        return result.GetString()![2..];
    }
}
