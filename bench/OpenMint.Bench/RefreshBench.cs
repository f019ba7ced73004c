namespace OpenMint.Bench;

internal static class RefreshBench
{
    public static Task<int> RunAsync(string[] args)
    {
        Console.Error.WriteLine("refresh benchmark: not written yet");
        return Task.FromResult(1);
    }
}
