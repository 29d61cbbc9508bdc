using System.CommandLine;

namespace Turbine.Cli.Commands;

/// <summary>
/// <c>turbine health [--ready]</c>: exit 0 when the server is live (or ready), 1 when it is not or cannot be reached.
/// What a container's health check runs: the runtime images carry no curl.
/// </summary>
internal static class HealthCommand
{
    public static Command Create()
    {
        var connection = new ConnectionOptions();
        var ready = new Option<bool>("--ready") { Description = "Ask for readiness (every model loaded, not draining) instead of liveness" };
        var command = new Command("health", "Exit 0 when the server is live (or with --ready, ready)") { ready };
        connection.AddTo(command);
        command.SetAction(async (parse, token) =>
        {
            using var client = connection.CreateClient(parse);
            try
            {
                var healthy = parse.GetValue(ready) ? await client.IsServerReadyAsync(token) : await client.IsServerLiveAsync(token);
                Console.WriteLine(healthy ? (parse.GetValue(ready) ? "ready" : "live") : "not " + (parse.GetValue(ready) ? "ready" : "live"));
                return healthy ? 0 : 1;
            }
            catch (Exception e) when (e is HttpRequestException or Grpc.Core.RpcException or TaskCanceledException)
            {
                Console.Error.WriteLine($"unreachable: {e.Message}");
                return 1;
            }
        });
        return command;
    }
}
