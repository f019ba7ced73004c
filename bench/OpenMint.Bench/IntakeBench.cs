namespace OpenMint.Bench;

internal static class IntakeBench
{
    public static Task<int> RunAsync(string[] args)
    {
        Console.Error.WriteLine("intake benchmark: not written yet");
        return Task.FromResult(1);
    }
}
