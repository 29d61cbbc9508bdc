using System.CommandLine;
using System.Globalization;
using Turbine.Cli.Deployment;

namespace Turbine.Cli.Commands;

/// <summary>
/// <c>turbine deploy MODEL --version N</c>: validate, scan, benchmark, canary on a running server, promote (docs/DEPLOYMENT.md).
/// Exit codes: 0 promoted, 3 a stage failed (its reason printed and recorded), 2 the registry or server refused, 1 usage.
/// </summary>
internal static class DeployCommand
{
    public const int StageFailed = 3;

    public static Command Create()
    {
        var location = new RegistryLocation();
        var model = new Argument<string>("model") { Description = "The registered model" };
        var version = new Option<long>("--version") { Description = "The candidate version", Required = true };
        var alias = new Option<string>("--alias") { Description = "The alias a successful deploy moves to the candidate", DefaultValueFactory = _ => "champion" };
        var budget = new Option<double?>("--latency-budget-ms") { Description = "The p99 a one-row request may take in process (validate and benchmark)" };
        var slowdown = new Option<double>("--max-slowdown") { Description = "How much slower than the alias's current version the candidate may be (1.25: 25%; measured side by side in this process, so noise on a busy machine counts)", DefaultValueFactory = _ => 1.25 };
        var url = new Option<string?>("--url") { Description = "A running server to roll the candidate out on through a canary route (it should follow MODEL@ALIAS)" };
        var route = new Option<string?>("--route") { Description = "The route clients call, whose canary moves traffic to the candidate" };
        var steps = new Option<string>("--canary-steps") { Description = "The candidate's share at each step, percent", DefaultValueFactory = _ => "10,50,100" };
        var minRequests = new Option<int>("--canary-min-requests") { Description = "Canary requests a step must see before it passes", DefaultValueFactory = _ => 200 };
        var minSeconds = new Option<double>("--canary-min-step-s") { Description = "How long each step lasts at least", DefaultValueFactory = _ => 30 };
        var errorRate = new Option<double>("--canary-max-error-rate") { Description = "The error-rate gate", DefaultValueFactory = _ => 0.01 };
        var p99 = new Option<double?>("--canary-max-p99-ms") { Description = "The p99 gate" };
        var timeout = new Option<double>("--canary-timeout-s") { Description = "How long the rollout may take before it is rolled back", DefaultValueFactory = _ => 1800 };
        var optimize = new Option<string?>("--optimize") { Description = "Run the optimize stage with these candidates (as turbine optimize --passes); a kept one is registered and deployed instead" };
        var data = new Option<FileInfo?>("--data") { Description = "The optimize stage's data file (KServe v2 requests, one a line)" };
        var maxDrop = new Option<double>("--max-accuracy-drop") { Description = "The optimize stage's accuracy bound", DefaultValueFactory = _ => 0.01 };
        var minSpeedup = new Option<double>("--optimize-min-speedup") { Description = "The optimize stage's latency goal at every batch size", DefaultValueFactory = _ => 1.05 };
        var command = new Command("deploy", "Take a registered version through validate, scan, benchmark, a canary rollout and promotion, recording every stage")
        {
            model, version, alias, budget, slowdown, url, route, steps, minRequests, minSeconds, errorRate, p99, timeout, optimize, data, maxDrop, minSpeedup,
        };
        location.AddTo(command);
        command.SetAction(async (parse, token) =>
        {
            var shares = parse.GetValue(steps)!.Split(',').Select(s => int.TryParse(s, NumberStyles.None, CultureInfo.InvariantCulture, out var v) ? v : 0).ToList();
            if (shares.Any(s => s is <= 0 or > 100) || shares[^1] != 100)
            {
                Console.Error.WriteLine("error: --canary-steps takes increasing percentages ending at 100, e.g. 10,50,100");
                return 1;
            }

            Uri? server = null;
            if (parse.GetValue(optimize) is not null && parse.GetValue(data) is null)
            {
                Console.Error.WriteLine("error: --optimize needs --data, the rows candidates are compared on");
                return 1;
            }

            if (parse.GetValue(url) is { } address && (!Uri.TryCreate(address, UriKind.Absolute, out server) || parse.GetValue(route) is null))
            {
                Console.Error.WriteLine("error: --url takes a server's address (http://host:8000) and needs --route, the route clients call");
                return 1;
            }

            var outcome = 0;
            var code = await location.RunAsync(parse, async registry =>
            {
                var settings = new DeploySettings(
                    parse.GetValue(model)!, parse.GetValue(version), parse.GetValue(alias)!, location.Actor(parse), parse.GetValue(budget), parse.GetValue(slowdown),
                    server, parse.GetValue(route), shares, parse.GetValue(minRequests), parse.GetValue(minSeconds), parse.GetValue(errorRate), parse.GetValue(p99),
                    TimeSpan.FromSeconds(parse.GetValue(timeout)),
                    parse.GetValue(optimize)?.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries), parse.GetValue(data)?.FullName,
                    parse.GetValue(maxDrop), parse.GetValue(minSpeedup));
                try
                {
                    var results = await new DeployPipeline(registry, settings, Console.Out, TimeProvider.System).RunAsync(token);
                    outcome = results[^1].Passed ? 0 : StageFailed;
                    Console.WriteLine(outcome == 0 ? $"deployed {settings.Model} version {settings.Version} as @{settings.Alias}" : $"not deployed: {results[^1].Stage} failed");
                }
                catch (Exception e) when (e is Turbine.Client.TurbineClientException or HttpRequestException)
                {
                    Console.Error.WriteLine($"error: the server refused: {e.Message}");
                    outcome = 2;
                }
                catch (InferenceException e)
                {
                    Console.Error.WriteLine($"error: {e.Message}");
                    outcome = 2;
                }
            });
            return code != 0 ? code : outcome;
        });
        return command;
    }
}
