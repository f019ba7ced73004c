using System.CommandLine;
using System.Text.Json;
using System.Text.Json.Nodes;
using OpenMint.Core.Tenancy;
using OpenMint.Storage;

namespace OpenMint.Cli;

/// <summary>An operator mistake: the message says what to do instead. Exit code 1.</summary>
internal sealed class CliException(string message) : Exception(message);

/// <summary>What a command prints: a JSON node for <c>--json</c>, lines of text otherwise.</summary>
internal sealed record CliResult(JsonNode Json, string Text);

/// <summary>Plumbing shared by the operator commands: the store, <c>--json</c>, and errors that say how to fix them.</summary>
internal static class Cli
{
    public static readonly Option<bool> Json = new("--json")
    {
        Description = "Print the result as JSON (for scripts)",
        Recursive = true,
    };

    public static readonly JsonSerializerOptions JsonOptions = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        WriteIndented = true,
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        Converters = { new System.Text.Json.Serialization.JsonStringEnumConverter(JsonNamingPolicy.SnakeCaseLower), new WireTimeConverter() },
    };

    /// <summary>Instants as the API writes them (RFC 3339 UTC, microseconds).</summary>
    private sealed class WireTimeConverter : System.Text.Json.Serialization.JsonConverter<DateTimeOffset>
    {
        public override DateTimeOffset Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) => Core.Time.FromWire(reader.GetString()!);

        public override void Write(Utf8JsonWriter writer, DateTimeOffset value, JsonSerializerOptions options) => writer.WriteStringValue(Core.Time.ToWire(value));
    }

    public static JsonNode ToJson(object value) => JsonSerializer.SerializeToNode(value, JsonOptions)!;

    /// <summary>Sets <paramref name="run"/> as the command's action with the store opened (and migrated) from <c>--database</c>.</summary>
    public static Command WithStore(this Command command, Func<ParseResult, ITenancyStore, CancellationToken, Task<CliResult>> run) =>
        command.WithFullStore((parse, storage, ct) => run(parse, storage.Tenancy, ct));

    /// <summary>As <see cref="WithStore"/>, with the whole storage (areas beyond tenancy).</summary>
    public static Command WithFullStore(this Command command, Func<ParseResult, OpenMintStorage, CancellationToken, Task<CliResult>> run)
    {
        command.Options.Add(Commands.Database);
        command.Options.Add(Json);
        command.SetAction(async (parse, ct) =>
        {
            OpenMintStorage? store = null;
            try
            {
                store = await OpenMintStorage.OpenAsync(parse.GetValue(Commands.Database)!, ct).ConfigureAwait(false);
                var result = await run(parse, store, ct).ConfigureAwait(false);
                await Write(parse, result).ConfigureAwait(false);
                return 0;
            }
            catch (Exception ex) when (ex is CliException or ArgumentException or FormatException)
            {
                await Fail(parse, ex.Message).ConfigureAwait(false);
                return 1;
            }
            catch (System.Data.Common.DbException ex)
            {
                await Fail(parse, $"database error: {ex.Message} (check --database / OPENMINT_DATABASE)").ConfigureAwait(false);
                return 1;
            }
            finally
            {
                if (store is not null)
                {
                    await store.DisposeAsync().ConfigureAwait(false);
                }
            }
        });
        return command;
    }

    public static Task Write(ParseResult parse, CliResult result)
    {
        var output = parse.InvocationConfiguration.Output;
        return output.WriteLineAsync(parse.GetValue(Json) ? result.Json.ToJsonString(JsonOptions) : result.Text);
    }

    public static Task Fail(ParseResult parse, string message)
    {
        if (parse.GetValue(Json))
        {
            return parse.InvocationConfiguration.Output.WriteLineAsync(new JsonObject { ["error"] = message }.ToJsonString(JsonOptions));
        }
        return parse.InvocationConfiguration.Error.WriteLineAsync("error: " + message);
    }
}
