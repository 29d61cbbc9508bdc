using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Turbine.Core.Execution;
using Turbine.Core.Lifecycle;
using Turbine.Core.Repository;
using Turbine.Edge;
using Turbine.Edge.Updates;
using Turbine.Onnx;

// turbine-edge: the inference path alone, compiled ahead of time (docs/EDGE.md). The models load before the port
// opens, so a process that listens is ready.
if (args is ["agent", .. var agentArgs])
{
    return await AgentCommand.RunAsync(agentArgs);
}

var options = EdgeOptions.Parse(args, out var error);
if (options is null)
{
    await Console.Error.WriteLineAsync($"turbine-edge: {error}\n{EdgeOptions.Usage}");
    return 2;
}

if (Posix.IsRoot && !options.AllowRoot)
{
    await Console.Error.WriteLineAsync("turbine-edge: refusing to run as root (a flaw in a model or in the server would own the device); run as an unprivileged user, or give --allow-root");
    return 2;
}

OnnxThreadBudget.Configure(options.Threads);
// The empty builder: no configuration files or environment sources, no hosting services it does not ask for; the
// slim builder spent 60 ms of a 100 ms start on them.
var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions());
builder.Logging.AddSimpleConsole(console => console.SingleLine = true).SetMinimumLevel(LogLevel.Warning);
builder.Services.AddRoutingCore();
builder.WebHost.UseKestrelCore().ConfigureKestrel(kestrel => kestrel.Listen(options.Host, options.HttpPort));
var app = builder.Build();
var loggers = app.Services.GetRequiredService<ILoggerFactory>();
await using var models = new ModelManager(
    new ModelRepository(options.Repository), BackendRegistry.Of(new OnnxBackend()), TimeProvider.System, loggers.CreateLogger<ModelManager>());
var executor = new ModelExecutor(models);
var loaded = false;
EdgeEndpoints.Map(app, executor, options, new InputSketches(TimeProvider.System), () => loaded && models.AllReady());
await models.LoadAllAsync(CancellationToken.None);
loaded = true;
await app.StartAsync();
var address = app.Urls.FirstOrDefault() ?? $"http://{options.Host}:{options.HttpPort}";
Console.WriteLine($"turbine-edge is serving {options.Repository} at {address}");
await app.WaitForShutdownAsync();
return 0;
