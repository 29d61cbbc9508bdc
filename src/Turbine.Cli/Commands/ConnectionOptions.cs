using System.CommandLine;
using Turbine.Client;

namespace Turbine.Cli.Commands;

/// <summary>The options every client command shares: where the server is, which protocol, which token.</summary>
internal sealed class ConnectionOptions
{
    public Option<string> Protocol { get; } = new("--protocol", "-p")
    {
        Description = "http (KServe v2 REST) or grpc",
        DefaultValueFactory = _ => "http",
    };

    public Option<string?> Url { get; } = new("--url", "-u")
    {
        Description = "Server address; defaults to http://localhost:8000 (http) or http://localhost:8001 (grpc)",
    };

    public Option<string?> Token { get; } = new("--token")
    {
        Description = "Management bearer token for repository calls (or TURBINE_TOKEN)",
    };

    public void AddTo(Command command)
    {
        command.Options.Add(Protocol);
        command.Options.Add(Url);
        command.Options.Add(Token);
    }

    public ITurbineClient CreateClient(ParseResult parse)
    {
        var protocol = parse.GetValue(Protocol)!.ToLowerInvariant();
        var token = parse.GetValue(Token) ?? Environment.GetEnvironmentVariable("TURBINE_TOKEN");
        return protocol switch
        {
            "grpc" => new TurbineGrpcClient(new Uri(parse.GetValue(Url) ?? "http://localhost:8001"), token),
            "http" => new TurbineHttpClient(new Uri(parse.GetValue(Url) ?? "http://localhost:8000"), token),
            _ => throw new ArgumentException($"unknown protocol '{protocol}'; use http or grpc"),
        };
    }

    /// <summary>Runs <paramref name="action"/> with a client; server errors print their message and exit 1, bad arguments exit 2.</summary>
    public async Task<int> RunAsync(ParseResult parse, Func<ITurbineClient, Task> action)
    {
        using var client = CreateClient(parse);
        try
        {
            await action(client);
            return 0;
        }
        catch (TurbineClientException e)
        {
            await Console.Error.WriteLineAsync($"error ({e.Code}): {e.Message}");
            return 1;
        }
        catch (HttpRequestException e)
        {
            await Console.Error.WriteLineAsync($"error: cannot reach the server: {e.Message}");
            return 1;
        }
        catch (FormatException e)
        {
            await Console.Error.WriteLineAsync($"error: {e.Message}");
            return 2;
        }
    }
}
