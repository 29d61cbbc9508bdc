using System.CommandLine;
using Turbine.Cli.Demo;
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
        var command = new Command("serve", "Serve a model repository") { repository, host, httpPort, grpcPort, metricsPort, logLevel };
        command.SetAction(async (parse, cancellationToken) =>
        {
            // Flags win; settings from appsettings or TURBINE__* variables apply where no flag was given.
            var folder = parse.GetValue(repository);
            if (folder is null && Environment.GetEnvironmentVariable("TURBINE__MODELREPOSITORY") is null)
            {
                folder = DemoRepository.DefaultPath();
                DemoRepository.Ensure(folder, Console.Out);
            }

            await using var server = TurbineServer.Create(
                ["--Logging:LogLevel:Default=" + parse.GetValue(logLevel), "--Logging:LogLevel:Microsoft.AspNetCore=Warning"],
                options =>
                {
                    options.ModelRepository = folder ?? options.ModelRepository;
                    options.Host = Given(parse, host) ?? options.Host;
                    options.HttpPort = Given(parse, httpPort) ?? options.HttpPort;
                    options.GrpcPort = Given(parse, grpcPort) ?? options.GrpcPort;
                    options.MetricsPort = Given(parse, metricsPort) ?? options.MetricsPort;
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
        });
        return command;
    }

    /// <summary>The flag's value when it was typed, null when only its default applies.</summary>
    private static T? Given<T>(ParseResult parse, Option<T> option)
        where T : struct =>
        parse.GetResult(option) is { Implicit: false } ? parse.GetValue(option) : null;

    private static string? Given(ParseResult parse, Option<string> option) =>
        parse.GetResult(option) is { Implicit: false } ? parse.GetValue(option) : null;
}
