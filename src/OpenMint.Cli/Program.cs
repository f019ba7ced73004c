using System.CommandLine;
using OpenMint.Cli;

var root = new RootCommand("openmint: self-hosted NFT minting and metadata refresh (Immutable Minting API compatible)");
foreach (var command in Commands.All())
{
    root.Subcommands.Add(command);
}
return await root.Parse(args).InvokeAsync().ConfigureAwait(false);
