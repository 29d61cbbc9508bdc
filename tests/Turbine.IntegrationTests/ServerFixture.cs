using Microsoft.Extensions.DependencyInjection;
using Turbine.Cli.Demo;
using Turbine.Client;
using Turbine.Onnx.Tools;
using Turbine.Server.Hosting;
using Turbine.Tests;

namespace Turbine.IntegrationTests;

/// <summary>
/// A real Turbine server on 127.0.0.1 with OS-assigned ports, over a repository of small generated models: Triton's
/// <c>simple</c>, an MLP, an identity model per data type, a string model and a corrupt model.
/// </summary>
public sealed class ServerFixture : IAsyncLifetime
{
    private readonly TestRepository _repository = new();

    /// <summary>Batching with two priority levels; level 1 has its own queue bound.</summary>
    private const string SimpleConfig = """
        {
          "max_batch_size": 8,
          "dynamic_batching": {
            "preferred_batch_size": [4], "max_queue_delay_microseconds": 100,
            "priority_levels": 2, "default_priority_level": 2, "priority_queue_policy": { "1": { "max_queue_size": 64, "timeout_action": "DELAY" } }
          }
        }
        """;

    public TurbineServer Server { get; private set; } = null!;

    public string RepositoryRoot => _repository.Root;

    public HttpClient Http { get; private set; } = null!;

    public Uri HttpAddress => new($"http://127.0.0.1:{Server.HttpPort}/");

    public Uri GrpcAddress => new($"http://127.0.0.1:{Server.GrpcPort}/");

    /// <summary>Clients send and receive [batch, 2, 2]; the model itself sees [batch, 4].</summary>
    private const string ReshapedConfig = """
        {
          "max_batch_size": 4,
          "input": [ { "name": "INPUT0", "data_type": "TYPE_FP32", "dims": [2, 2], "reshape": { "shape": [4] } } ],
          "output": [ { "name": "OUTPUT0", "data_type": "TYPE_FP32", "dims": [2, 2], "reshape": { "shape": [4] } } ]
        }
        """;

    public static string IdentityName(DataType type) => "identity_" + type.ToWireName().ToLowerInvariant();

    public async Task InitializeAsync()
    {
        _repository
            .Add("simple", SampleModels.AddSub(DataType.Int32, 16), SimpleConfig)
            .Add("mlp", SampleModels.Mlp())
            .Add("string_upper", DemoRepository.StringUpper())
            .Add("corrupt", [0x0A, 0x03, 0x01, 0x02])
            .Add("reshaped", SampleModels.Identity(DataType.Fp32, -1, 4), ReshapedConfig);
        foreach (var type in DataTypes.All)
        {
            _repository.Add(IdentityName(type), SampleModels.Identity(type));
        }

        Server = await StartAsync(_repository.Root);
        Http = new HttpClient { BaseAddress = HttpAddress };
    }

    public static async Task<TurbineServer> StartAsync(
        string repository, Action<TurbineServerOptions>? configure = null, IModelBackend? backend = null, Action<IServiceCollection>? services = null,
        IReadOnlyList<string>? configuration = null)
    {
        var server = TurbineServer.Create(["--Logging:LogLevel:Default=Warning", .. configuration ?? []], options =>
        {
            options.ModelRepository = repository;
            options.Host = "127.0.0.1";
            options.HttpPort = 0;
            options.GrpcPort = 0;
            options.MetricsPort = 0;
            options.ExitTimeout = TimeSpan.FromSeconds(5);
            // The tests drive the repository API; a server's own defaults (API off, mode none) have tests of their own.
            options.Management.Enabled = true;
            options.ModelControlMode = ModelControlMode.Explicit;
            options.LoadModels = ["*"];
            configure?.Invoke(options);
        }, collection =>
        {
            if (backend is not null)
            {
                collection.AddSingleton(backend);
            }

            services?.Invoke(collection);
        });
        await server.StartAsync();
        return server;
    }

    public TurbineHttpClient RestClient(bool binary = true) => new(Http) { BinaryInputs = binary };

    public TurbineGrpcClient GrpcClient() => new(GrpcAddress);

    public async Task DisposeAsync()
    {
        Http.Dispose();
        await Server.StopAsync();
        await Server.DisposeAsync();
        _repository.Dispose();
    }
}

[CollectionDefinition(Name)]
public sealed class ServerCollection : ICollectionFixture<ServerFixture>
{
    public const string Name = "server";
}
