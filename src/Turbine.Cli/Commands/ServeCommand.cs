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
            var folder = parse.GetValue(repository);
            if (folder is null)
            {
                folder = DemoRepository.DefaultPath();
                DemoRepository.Ensure(folder, Console.Out);
            }

            await using var server = TurbineServer.Create(
                ["--Logging:LogLevel:Default=" + parse.GetValue(logLevel), "--Logging:LogLevel:Microsoft.AspNetCore=Warning"],
                options =>
                {
                    options.ModelRepository = folder;
                    options.Host = parse.GetValue(host)!;
                    options.HttpPort = parse.GetValue(httpPort);
                    options.GrpcPort = parse.GetValue(grpcPort);
                    options.MetricsPort = parse.GetValue(metricsPort);
                });
            await server.StartAsync(cancellationToken);
            Console.WriteLine($"Turbine is serving {folder}");
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
}
