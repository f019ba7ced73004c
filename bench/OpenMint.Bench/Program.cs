using OpenMint.Bench;

// dotnet run --project bench/OpenMint.Bench -c Release -- <intake|pipeline|pipeline-writes|latency|refresh|refresh-fairness|webhooks|scaleout> [options]
var which = args.Length > 0 ? args[0] : "";
var rest = args.Skip(1).ToArray();
return which switch
{
    "intake" => await IntakeBench.RunAsync(rest),
    "pipeline" => await PipelineBench.RunAsync(rest),
    "pipeline-writes" => await PipelineWritesBench.RunAsync(rest),
    "latency" => await LatencyBench.RunAsync(rest),
    "refresh" => await RefreshBench.RunAsync(rest),
    "refresh-fairness" => await RefreshFairnessBench.RunAsync(rest),
    "webhooks" => await WebhookBench.RunAsync(rest),
    "scaleout" => await ScaleoutBench.RunAsync(rest),
    _ => Usage(),
};

static int Usage()
{
    Console.Error.WriteLine("usage: dotnet run --project bench/OpenMint.Bench -c Release -- <intake|pipeline|pipeline-writes|latency|refresh|refresh-fairness|webhooks|scaleout> [options]");
    return 2;
}
