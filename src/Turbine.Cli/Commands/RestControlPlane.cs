using System.CommandLine;
using System.Text.Json;
using Turbine.Client;

namespace Turbine.Cli.Commands;

/// <summary>What the commands over Turbine's REST-only control plane (routes, pipelines) share.</summary>
internal static class RestControlPlane
{
    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };

    /// <summary>Connects over REST and runs <paramref name="action"/>; gRPC has no control plane for these.</summary>
    public static Task<int> RunAsync(ConnectionOptions connection, ParseResult parse, Func<TurbineHttpClient, Task> action) =>
        connection.RunAsync(parse, client => client is TurbineHttpClient http
            ? action(http)
            : throw new FormatException("routes and pipelines are managed over REST; drop --protocol grpc"));

    /// <summary>The server's JSON, indented for people.</summary>
    public static string Pretty(string json)
    {
        using var document = JsonDocument.Parse(json);
        return JsonSerializer.Serialize(document.RootElement, Indented);
    }
}
