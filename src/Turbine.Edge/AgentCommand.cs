using System.Globalization;
using System.Runtime.InteropServices;
using Turbine.Edge.Updates;

namespace Turbine.Edge;

/// <summary>
/// <c>turbine-edge agent run|provision|status|rollback</c>: the update agent's command line (docs/EDGE.md, "Updates"),
/// parsed by hand like the server's (no reflection in an ahead-of-time build).
/// </summary>
internal static class AgentCommand
{
    public const string Usage = """
        usage: turbine-edge agent provision --root DIR --trusted-root root.json [--bundle factory.tar.gz]
               turbine-edge agent run --root DIR [--metadata-url URL] [--targets-url URL] [--check-interval 1h]
                   [--host 127.0.0.1] [--http-port 8000] [--threads N] [--probation 5m] [--max-trial-starts 3]
                   [--ready-timeout 60s] [--telemetry-url URL] [--telemetry-interval 1m] [--telemetry-max-bytes 16777216]
                   [--device-id NAME] [--allow-root]
               turbine-edge agent status --root DIR
               turbine-edge agent rollback --root DIR
        """;

    public static async Task<int> RunAsync(IReadOnlyList<string> args)
    {
        if (args.Count == 0)
        {
            return Fail("a subcommand is needed");
        }

        if (!TryParse([.. args.Skip(1)], out var values, out var error))
        {
            return Fail(error!);
        }

        if (!values.TryGetValue("--root", out var root))
        {
            return Fail("--root is required");
        }

        var layout = new AgentLayout(root);
        try
        {
            switch (args[0])
            {
                case "provision":
                    if (!values.TryGetValue("--trusted-root", out var trusted))
                    {
                        return Fail("--trusted-root is required");
                    }

                    UpdateAgent.Provision(layout, trusted, values.GetValueOrDefault("--bundle"), new BundleLimits());
                    var provisioned = AgentState.Load(layout.State);
                    Console.WriteLine(provisioned.Active is null
                        ? $"provisioned {layout.Root}: no bundle yet, the first update installs one"
                        : $"provisioned {layout.Root}: slot {provisioned.Active} holds version {provisioned.ActiveVersion}");
                    return 0;
                case "status":
                    Console.WriteLine(File.Exists(layout.State) ? File.ReadAllText(layout.State) : "{}");
                    return 0;
                case "rollback":
                    var state = UpdateAgent.RollBack(layout);
                    Console.WriteLine($"slot {state.Active} (version {state.ActiveVersion}) is active again; restart the agent");
                    return 0;
                case "run":
                    return await RunAgentAsync(layout, values);
                default:
                    return Fail($"unknown subcommand '{args[0]}'");
            }
        }
        catch (Exception e) when (e is InvalidOperationException or InvalidDataException or IOException or Updates.Tuf.TufException or UnauthorizedAccessException)
        {
            await Console.Error.WriteLineAsync($"turbine-edge agent: {e.Message}");
            return 1;
        }
    }

    private static async Task<int> RunAgentAsync(AgentLayout layout, Dictionary<string, string> values)
    {
        if (Posix.IsRoot && !values.ContainsKey("--allow-root"))
        {
            return Fail("refusing to run as root (a compromised model server would own the device); run as an unprivileged user, or give --allow-root");
        }

        AgentOptions options;
        try
        {
            options = new AgentOptions
            {
                Root = layout.Root,
                MetadataUrl = values.TryGetValue("--metadata-url", out var metadata) ? Folder(metadata) : null,
                TargetsUrl = values.TryGetValue("--targets-url", out var targets) ? Folder(targets) : null,
                CheckInterval = Duration(values, "--check-interval", TimeSpan.FromHours(1)),
                Host = values.GetValueOrDefault("--host", "127.0.0.1"),
                HttpPort = Integer(values, "--http-port", 8000),
                Threads = Integer(values, "--threads", 0),
                Probation = Duration(values, "--probation", TimeSpan.FromMinutes(5)),
                MaxTrialStarts = Math.Max(1, Integer(values, "--max-trial-starts", 3)),
                ReadyTimeout = Duration(values, "--ready-timeout", TimeSpan.FromSeconds(60)),
                TelemetryUrl = values.TryGetValue("--telemetry-url", out var telemetry) ? new Uri(telemetry) : null,
                TelemetryInterval = Duration(values, "--telemetry-interval", TimeSpan.FromMinutes(1)),
                TelemetryMaxBytes = Math.Max(16 * 1024, Integer(values, "--telemetry-max-bytes", 16 * 1024 * 1024)),
                DeviceId = values.GetValueOrDefault("--device-id", Environment.MachineName),
                AllowRoot = values.ContainsKey("--allow-root"),
            };
        }
        catch (FormatException e)
        {
            return Fail(e.Message);
        }

        if (!File.Exists(Path.Combine(layout.Trust, "root.json")) && options.MetadataUrl is not null)
        {
            return Fail($"{layout.Root} is not provisioned: run 'turbine-edge agent provision' with the repository's root.json first");
        }

        using var stop = new CancellationTokenSource();
        using var term = PosixSignalRegistration.Create(PosixSignal.SIGTERM, context => { context.Cancel = true; stop.Cancel(); });
        using var interrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, context => { context.Cancel = true; stop.Cancel(); });
        using var agent = new UpdateAgent(options, TimeProvider.System, line => Console.WriteLine($"turbine-edge agent: {line}"));
        await agent.RunAsync(stop.Token);
        return 0;
    }

    private static bool TryParse(List<string> args, out Dictionary<string, string> values, out string? error)
    {
        values = new Dictionary<string, string>(StringComparer.Ordinal);
        error = null;
        for (var i = 0; i < args.Count; i++)
        {
            if (args[i] == "--allow-root")
            {
                values[args[i]] = "true";
                continue;
            }

            if (!args[i].StartsWith("--", StringComparison.Ordinal) || i + 1 >= args.Count)
            {
                error = $"unknown or incomplete argument '{args[i]}'";
                return false;
            }

            values[args[i]] = args[++i];
        }

        return true;
    }

    private static Uri Folder(string url) =>
        Uri.TryCreate(url.EndsWith('/') ? url : url + "/", UriKind.Absolute, out var uri) && uri.Scheme is "https" or "http"
            ? uri
            : throw new FormatException($"'{url}' is not an http(s) URL");

    private static int Integer(Dictionary<string, string> values, string name, int fallback) =>
        !values.TryGetValue(name, out var text) ? fallback
        : int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var value) ? value
        : throw new FormatException($"'{text}' is not a valid value for {name}");

    /// <summary>A duration as <c>500ms</c>, <c>30s</c>, <c>5m</c> or <c>1h</c>.</summary>
    private static TimeSpan Duration(Dictionary<string, string> values, string name, TimeSpan fallback)
    {
        if (!values.TryGetValue(name, out var text))
        {
            return fallback;
        }

        var unit = text.TrimStart("0123456789.".ToCharArray());
        if (double.TryParse(text[..^unit.Length], NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var amount))
        {
            switch (unit)
            {
                case "ms": return TimeSpan.FromMilliseconds(amount);
                case "s": return TimeSpan.FromSeconds(amount);
                case "m": return TimeSpan.FromMinutes(amount);
                case "h": return TimeSpan.FromHours(amount);
            }
        }

        throw new FormatException($"'{text}' is not a duration for {name} (500ms, 30s, 5m, 1h)");
    }

    private static int Fail(string message)
    {
        Console.Error.WriteLine($"turbine-edge agent: {message}\n{Usage}");
        return 2;
    }
}
