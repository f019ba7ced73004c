namespace OpenMint.Bench;

internal static class PipelineBench
{
    public static Task<int> RunAsync(string[] args)
    {
        Console.Error.WriteLine("pipeline benchmark: not written yet");
        return Task.FromResult(1);
    }
}
