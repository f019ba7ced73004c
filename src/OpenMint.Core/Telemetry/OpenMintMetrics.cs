using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Numerics;

namespace OpenMint.Core.Telemetry;

/// <summary>
/// Every instrument of the <c>OpenMint</c> meter, in one place; <c>GET /metrics</c> exports them in Prometheus text
/// (dots become underscores, counters gain <c>_total</c>, the latency histogram's unit gives <c>_seconds</c>). The
/// parts that count call the one-line methods here. Gauges read the last value a sampler stored (signer balances,
/// the queue), so a scrape never touches the store or a chain. Names and labels: README "Health and metrics".
/// </summary>
public static class OpenMintMetrics
{
    public const string MeterName = "OpenMint";

    private static readonly Meter Meter = new(MeterName);

    private static readonly Counter<long> AssetsAccepted = Meter.CreateCounter<long>("openmint.mint.assets.accepted", description: "Assets accepted by the minting API (202)");

    private static readonly Counter<long> RequestsRejected = Meter.CreateCounter<long>("openmint.mint.requests.rejected", description: "Mint create requests refused, by error code");

    private static readonly Counter<long> Transactions = Meter.CreateCounter<long>("openmint.transactions", description: "Minting transactions by outcome: sent, mined, replaced, reverted, dropped");

    private static readonly Counter<long> TreasuryTopUps = Meter.CreateCounter<long>("openmint.treasury.top_ups", description: "Treasury top-ups of minter wallets mined, by chain");

    private static readonly Counter<long> GasUsed = Meter.CreateCounter<long>("openmint.gas.used", description: "Gas used by mined minting transactions");

    private static readonly Histogram<double> MintLatency = Meter.CreateHistogram<double>("openmint.mint.latency", unit: "s", description: "From accepted to succeeded, per asset",
        advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.5, 1, 2, 5, 10, 20, 30, 60, 120, 300, 600] });

    private static readonly Counter<long> RefreshTokens = Meter.CreateCounter<long>("openmint.refresh.tokens", description: "Metadata refresh token fetches by outcome");

    private static readonly Counter<long> WebhookDeliveries = Meter.CreateCounter<long>("openmint.webhook.deliveries", description: "Webhook delivery attempts recorded, by outcome: delivered, retried, failed");

    private static readonly Histogram<double> WebhookLatency = Meter.CreateHistogram<double>("openmint.webhook.delivery.latency", unit: "s", description: "From a delivery being queued to the receiver's 2xx",
        advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 3600] });

    private static readonly ConcurrentDictionary<(string Chain, string Signer), double> Balances = new();

    private static readonly ConcurrentDictionary<(string Chain, string Signer), int> LowBalances = new();

    private static readonly ConcurrentDictionary<(string Chain, string Status), long> Queue = new();

    static OpenMintMetrics()
    {
        Meter.CreateObservableGauge("openmint.signer.balance.wei",
            () => Balances.Select(b => new Measurement<double>(b.Value, new("chain", b.Key.Chain), new("signer", b.Key.Signer))),
            description: "The minter's balance in wei, as last read from its chain");
        Meter.CreateObservableGauge("openmint.signer.low_balance",
            () => LowBalances.Select(b => new Measurement<int>(b.Value, new("chain", b.Key.Chain), new("signer", b.Key.Signer))),
            description: "1 while the minter's balance is below its chain's low balance (chain add|update --low-balance), else 0");
        Meter.CreateObservableGauge("openmint.mint.queue",
            () => Queue.Select(q => new Measurement<long>(q.Value, new("chain", q.Key.Chain), new("status", q.Key.Status))),
            description: "Pending mint requests by status: queued (not yet in a transaction) and in_flight");
    }

    public static void Accepted(string chain, string collection, int assets) =>
        AssetsAccepted.Add(assets, new TagList { { "chain", chain }, { "collection", collection } });

    public static void Rejected(string code) => RequestsRejected.Add(1, new KeyValuePair<string, object?>("code", code));

    /// <summary><paramref name="outcome"/>: one of <see cref="TxOutcome"/>'s constants.</summary>
    public static void Transaction(string chain, string outcome) =>
        Transactions.Add(1, new KeyValuePair<string, object?>("chain", chain), new KeyValuePair<string, object?>("outcome", outcome));

    public static void TreasuryTopUp(string chain) => TreasuryTopUps.Add(1, new KeyValuePair<string, object?>("chain", chain));

    public static void Gas(string chain, long gas) => GasUsed.Add(gas, new KeyValuePair<string, object?>("chain", chain));

    public static void MintSucceeded(string chain, string collection, TimeSpan sinceAccepted) =>
        MintLatency.Record(Math.Max(0, sinceAccepted.TotalSeconds), new KeyValuePair<string, object?>("chain", chain), new KeyValuePair<string, object?>("collection", collection));

    public static void RefreshToken(bool succeeded) => RefreshTokens.Add(1, new KeyValuePair<string, object?>("outcome", succeeded ? "succeeded" : "failed"));

    /// <summary><paramref name="outcome"/>: one of <see cref="WebhookOutcome"/>'s constants.</summary>
    public static void WebhookDelivery(string outcome) => WebhookDeliveries.Add(1, new KeyValuePair<string, object?>("outcome", outcome));

    public static void WebhookDeliveryLatency(TimeSpan sinceQueued) => WebhookLatency.Record(Math.Max(0, sinceQueued.TotalSeconds));

    public static void SignerBalance(string chain, string signer, BigInteger wei) => Balances[(chain, signer)] = (double)wei;

    public static void SignerLowBalance(string chain, string signer, bool low) => LowBalances[(chain, signer)] = low ? 1 : 0;

    public static void QueueSize(string chain, string status, long count) => Queue[(chain, status)] = count;

    /// <summary>The <c>outcome</c> label of <c>openmint_transactions_total</c>.</summary>
    public static class TxOutcome
    {
        public const string Sent = "sent";
        public const string Mined = "mined";
        public const string Replaced = "replaced";
        public const string Reverted = "reverted";
        public const string Dropped = "dropped";
    }

    /// <summary>The <c>outcome</c> label of <c>openmint_webhook_deliveries_total</c>.</summary>
    public static class WebhookOutcome
    {
        public const string Delivered = "delivered";
        public const string Retried = "retried";
        public const string Failed = "failed";
    }
}
