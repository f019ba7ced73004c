using OpenMint.Cli;

return await Commands.Root().Parse(args).InvokeAsync().ConfigureAwait(false);
