Console.WriteLine("usage: dotnet run --project bench/OpenMint.Bench -c Release -- <intake|pipeline|refresh>");
return 1;
