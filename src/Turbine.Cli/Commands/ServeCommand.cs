using System.CommandLine;
using Turbine.Cli.Demo;
using Microsoft.Extensions.Options;
using Turbine.Server.Hosting;

namespace Turbine.Cli.Commands;

/// <summary><c>turbine serve</c>: hosts the server in-process until Ctrl+C or SIGTERM.</summary>
internal static class ServeCommand
{
    public static Command Create()
    {
        var repository = new Option<string?>("--model-repository", "-m") { Description = "Model repository folder (default: the generated demo repository, samples/models)" };
        var host = new Option<string>("--host") { Description = "Address to bind", DefaultValueFactory = _ => "0.0.0.0" };
        var httpPort = new Option<int>("--http-port") { Description = "KServe v2 REST port", DefaultValueFactory = _ => 8000 };
        var grpcPort = new Option<int>("--grpc-port") { Description = "gRPC port", DefaultValueFactory = _ => 8001 };
        var metricsPort = new Option<int>("--metrics-port") { Description = "Prometheus metrics port (-1: off)", DefaultValueFactory = _ => 8002 };
        var logLevel = new Option<string>("--log-level") { Description = "Trace, Debug, Information, Warning, Error", DefaultValueFactory = _ => "Information" };
        var controlMode = new Option<ModelControlMode?>("--model-control-mode") { Description = "none (load all at start), poll (watch the repository) or explicit (load through the API)" };
        var loadModels = new Option<string[]>("--load-model") { Description = "With explicit control: a model to load at startup ('*' for all); repeatable", AllowMultipleArgumentsPerToken = true };
        var pollSeconds = new Option<double?>("--repository-poll-secs") { Description = "With poll control: seconds between repository scans (default 15)" };
        var management = new Option<bool>("--enable-management") { Description = "Serve the repository API (load, unload, versions); loopback clients only unless Turbine:Management:Token is set" };
        var restricted = new Option<string[]>("--restricted-api")
        {
            Description = "Triton's restricted API: '<api>[,<api>...]:<header>=<value>' (apis: health, metadata, inference, shared-memory, model-config, model-repository, statistics, trace, logging); repeatable",
            AllowMultipleArgumentsPerToken = true,
        };
        var redis = new Option<string?>("--response-cache-redis") { Description = "A Redis server (host:port) that replicas share as a second response cache tier" };
        var registry = new Option<string?>("--registry") { Description = "A registry folder to serve --follow models from (docs/REGISTRY.md)" };
        var follow = new Option<string[]>("--follow") { Description = "model@alias (or model@version) to serve from the registry, reloaded when the alias moves; repeatable", AllowMultipleArgumentsPerToken = true };
        var trust = new Option<string[]>("--trust") { Description = "A PEM public key; with any, only versions signed by one of them are served; repeatable", AllowMultipleArgumentsPerToken = true };
        var command = new Command("serve", "Serve a model repository; any setting also as --Turbine:Key=value (docs/CONFIGURATION.md)")
        {
            repository, host, httpPort, grpcPort, metricsPort, logLevel, controlMode, loadModels, pollSeconds, management, redis, restricted, registry, follow, trust,
        };
        command.TreatUnmatchedTokensAsErrors = false; // configuration keys (--Turbine:HttpPort=9000) pass through to the host
        command.SetAction(async (parse, cancellationToken) =>
        {
            if (ConfigurationArguments.Find(parse.UnmatchedTokens, out var settings) is { } unknown)
            {
                await Console.Error.WriteLineAsync($"turbine serve: unknown argument '{unknown}'; settings go as --Section:Key=value (e.g. --Turbine:HttpPort=9000)");
                return 2;
            }

            // Flags win; settings from appsettings or TURBINE__* variables apply where no flag was given.
            var folder = parse.GetValue(repository);
            if (folder is null && Environment.GetEnvironmentVariable("TURBINE__MODELREPOSITORY") is null)
            {
                folder = DemoRepository.DefaultPath();
                DemoRepository.Ensure(folder, Console.Out);
            }

            try
            {
                return await ServeAsync(parse, folder, settings, cancellationToken);
            }
            catch (OptionsValidationException e)
            {
                await Console.Error.WriteLineAsync("turbine serve: the settings are not valid:");
                foreach (var failure in e.Failures)
                {
                    await Console.Error.WriteLineAsync("  - " + failure);
                }

                return 2;
            }
            catch (Exception e) when (e is IOException or InvalidOperationException or FormatException)
            {
                // A port in use, a certificate that does not load, a setting of the wrong type: the reason, not a stack trace.
                await Console.Error.WriteLineAsync($"turbine serve: cannot start: {e.Message}");
                return 1;
            }
        });
        return command;

        async Task<int> ServeAsync(ParseResult parse, string? folder, IReadOnlyList<string> settings, CancellationToken cancellationToken)
        {
            await using var server = TurbineServer.Create(
                ["--Logging:LogLevel:Default=" + parse.GetValue(logLevel), "--Logging:LogLevel:Microsoft.AspNetCore=Warning", .. settings],
                options =>
                {
                    options.ModelRepository = folder ?? options.ModelRepository;
                    options.Host = Given(parse, host) ?? options.Host;
                    options.HttpPort = Given(parse, httpPort) ?? options.HttpPort;
                    options.GrpcPort = Given(parse, grpcPort) ?? options.GrpcPort;
                    options.MetricsPort = Given(parse, metricsPort) ?? options.MetricsPort;
                    options.ModelControlMode = parse.GetValue(controlMode) ?? options.ModelControlMode;
                    options.LoadModels = parse.GetValue(loadModels) is { Length: > 0 } models ? [.. models] : options.LoadModels;
                    options.RepositoryPollInterval = parse.GetValue(pollSeconds) is { } seconds ? TimeSpan.FromSeconds(seconds) : options.RepositoryPollInterval;
                    options.Management.Enabled |= parse.GetValue(management);
                    options.ResponseCacheRedis = parse.GetValue(redis) ?? options.ResponseCacheRedis;
                    options.RestrictedApi.AddRange(parse.GetValue(restricted) ?? []);
                    options.Registry.Folder = parse.GetValue(registry) is { } registryFolder ? Path.GetFullPath(registryFolder) : options.Registry.Folder;
                    options.Registry.Follow.AddRange(parse.GetValue(follow) ?? []);
                    options.Registry.TrustedKeys.AddRange((parse.GetValue(trust) ?? []).Select(Path.GetFullPath));
                });
            await server.StartAsync(cancellationToken);
            Console.WriteLine($"Turbine is serving {folder ?? Environment.GetEnvironmentVariable("TURBINE__MODELREPOSITORY")}");
            Console.WriteLine($"  KServe v2 REST  http://localhost:{server.HttpPort}/v2");
            Console.WriteLine($"  gRPC            localhost:{server.GrpcPort}");
            if (server.MetricsPort >= 0)
            {
                Console.WriteLine($"  metrics         http://localhost:{server.MetricsPort}/metrics");
            }

            await server.WaitForShutdownAsync(cancellationToken);
            return 0;
        }
    }

    /// <summary>The flag's value when it was typed, null when only its default applies.</summary>
    private static T? Given<T>(ParseResult parse, Option<T> option)
        where T : struct =>
        parse.GetResult(option) is { Implicit: false } ? parse.GetValue(option) : null;

    private static string? Given(ParseResult parse, Option<string> option) =>
        parse.GetResult(option) is { Implicit: false } ? parse.GetValue(option) : null;
}
