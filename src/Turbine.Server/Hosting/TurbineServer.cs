using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;
using Turbine.Core.Caching;
using Turbine.Core.Execution;
using Turbine.Core.Lifecycle;
using Turbine.Core.Observation;
using Turbine.Core.Repository;
using Turbine.Core.State;
using Turbine.Onnx;
using Turbine.Server.Caching;
using Turbine.Server.Grpc;
using Turbine.Server.Http;
using Turbine.Server.Metrics;
using Turbine.Server.Observability;
using Turbine.Server.State;
using Turbine.Server.Transport;
using Turbine.Traffic;
using Turbine.Traffic.Pipelines;

namespace Turbine.Server.Hosting;

/// <summary>
/// The Turbine server: Kestrel with three listeners (KServe REST on HTTP/1.1, gRPC on HTTP/2, Prometheus metrics),
/// composed over the model manager. <c>turbine serve</c> and the integration tests host it in-process.
/// </summary>
public sealed class TurbineServer : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly Dictionary<ListenerKind, ListenOptions> _listeners;

    private TurbineServer(WebApplication app, Dictionary<ListenerKind, ListenOptions> listeners)
    {
        _app = app;
        _listeners = listeners;
    }

    /// <summary>The services, for tests and the CLI.</summary>
    public IServiceProvider Services => _app.Services;

    /// <summary>The REST port actually bound (after <see cref="StartAsync"/>).</summary>
    public int HttpPort => Port(ListenerKind.Http);

    /// <summary>The gRPC port actually bound.</summary>
    public int GrpcPort => Port(ListenerKind.Grpc);

    /// <summary>The metrics port actually bound, or -1 when metrics are off.</summary>
    public int MetricsPort => _listeners.ContainsKey(ListenerKind.Metrics) ? Port(ListenerKind.Metrics) : -1;

    /// <summary>Builds a server from command-line style arguments and configuration, then applies <paramref name="configure"/>.</summary>
    public static TurbineServer Create(string[] args, Action<TurbineServerOptions>? configure = null, Action<IServiceCollection>? services = null)
    {
        var builder = WebApplication.CreateSlimBuilder(args);
        var runtime = new RuntimeConfiguration();
        ((IConfigurationBuilder)builder.Configuration).Add(runtime); // last: settings changed at run time win
        builder.Services.AddSingleton(runtime);
        var options = new TurbineServerOptions();
        builder.Configuration.GetSection(TurbineServerOptions.Section).Bind(options);
        configure?.Invoke(options);
        TurbineServerOptionsValidator.ThrowIfInvalid(options);

        var listeners = new Dictionary<ListenerKind, ListenOptions>();
        builder.WebHost.ConfigureKestrel(kestrel => ConfigureKestrel(kestrel, options, listeners));
        builder.Services.Configure<HostOptions>(host => host.ShutdownTimeout = options.ExitTimeout);
        AddTurbine(builder.Services, options);
        services?.Invoke(builder.Services);

        var app = builder.Build();
        _ = app.Services.GetRequiredService<TurbineMetrics>(); // publishes the meter's instruments from the start
        _ = app.Services.GetRequiredService<InferenceAccess>(); // reads key files now: a missing or short key fails the start, not the first request
        app.Use(RestrictToListener);
        if (app.Services.GetRequiredService<RestrictedApis>() is { IsEmpty: false } restrictions)
        {
            app.Use((context, next) => RestrictedApiMiddleware.InvokeAsync(context, next, restrictions)); // absent unless configured
        }

        app.Use(ApiKeyMiddleware.InvokeAsync);
        app.MapKServe();
        app.MapGenerate();
        OpenAi.OpenAiEndpoints.MapOpenAi(app);
        OpenAi.Batches.BatchEndpoints.MapOpenAiBatches(app);
        app.MapObservability();
        Dashboard.DashboardEndpoints.MapDashboard(app);
        app.MapSharedMemory();
        app.MapGrpcService<InferenceGrpcService>();
        app.MapGrpcReflectionService();
        app.MapGrpcHealthChecksService();
        app.MapGet("/metrics", (PrometheusExporter exporter) => Results.Text(exporter.Scrape(), "text/plain; version=0.0.4"));
        return new TurbineServer(app, listeners);
    }

    /// <summary>Starts listening and loads the repository's models.</summary>
    public Task StartAsync(CancellationToken cancellationToken = default) => _app.StartAsync(cancellationToken);

    /// <summary>Stops gracefully: readiness turns false, requests in flight finish, models drain.</summary>
    public Task StopAsync(CancellationToken cancellationToken = default) => _app.StopAsync(cancellationToken);

    /// <summary>After <see cref="StartAsync"/>: waits until the process is asked to stop (Ctrl+C, SIGTERM), then stops gracefully.</summary>
    public Task WaitForShutdownAsync(CancellationToken cancellationToken = default) => _app.WaitForShutdownAsync(cancellationToken);

    /// <inheritdoc />
    public ValueTask DisposeAsync() => _app.DisposeAsync();

    /// <summary>What the repository index says of a model nothing loaded, in each model control mode.</summary>
    private static string NotLoadedReason(ModelControlMode mode) => mode switch
    {
        ModelControlMode.Explicit => "not loaded: the model control mode is explicit and no load asked for it (POST /v2/repository/models/{name}/load)",
        ModelControlMode.Poll => "not loaded yet: the repository poll loads it once its files stay unchanged between two scans",
        _ => "not loaded: it came into the repository after the server started, and the model control mode none loads models only at startup",
    };

    private static void AddTurbine(IServiceCollection services, TurbineServerOptions options)
    {
        PinnedBufferPool.Shared.BudgetBytes = options.PinnedPoolBytes;
        OnnxThreadBudget.Configure(options.OnnxRuntimeThreads); // before any model loads; the first server of a process sets it
        PinnedBufferPool.Shared.IdleAfter = options.PinnedPoolIdle;
        services.AddSingleton(Options.Create(options));
        services.TryAddSingleton(TimeProvider.System);
        services.AddSingleton<TransportBlockPoolFactory>();
        services.AddSingleton<IMemoryPoolFactory<byte>>(provider => provider.GetRequiredService<TransportBlockPoolFactory>());
        var onnx = new OnnxBackend(options.ModelScan);
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IModelBackend, OnnxBackend>(_ => onnx));
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IModelBackend, Turbine.Llm.Serving.LlmBackend>(_ => new Turbine.Llm.Serving.LlmBackend(onnx)));
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IModelBackend, Turbine.Onnx.Trees.TreeBackend>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IModelBackend, Turbine.MLNet.MlNetBackend>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IModelBackend, Turbine.Remote.RemoteBackend>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IModelBackend, Turbine.Custom.CustomBackend>(provider =>
            new Turbine.Custom.CustomBackend(options.CustomModels.Enabled, () => new ServerModelClient(provider.GetRequiredService<InferenceService>()))));
        services.AddSingleton(provider => new BackendRegistry(provider.GetServices<IModelBackend>()));
        services.AddSingleton<OpenAi.EmbeddingEndpoint>();
        // The Batch API keeps its files and batches under the jobs folder; without one its endpoints say so.
        static string JobsFolder(IServiceProvider provider) =>
            provider.GetRequiredService<IOptions<TurbineServerOptions>>().Value.Jobs.Folder is { } folder ? Path.GetFullPath(folder) : string.Empty;
        services.AddSingleton(provider => new OpenAi.Batches.OpenAiFiles(JobsFolder(provider), provider.GetRequiredService<TimeProvider>()));
        services.AddSingleton(provider => new OpenAi.Batches.OpenAiBatches(
            JobsFolder(provider), provider.GetRequiredService<Jobs.JobsProvider>(), provider.GetRequiredService<Turbine.Core.Lifecycle.ModelManager>(),
            provider.GetRequiredService<OpenAi.Batches.OpenAiFiles>(), provider.GetRequiredService<OpenAi.EmbeddingEndpoint>(), provider.GetRequiredService<TimeProvider>()));
        var repository = new ModelRepository(options.ModelRepository);
        services.AddSingleton(repository);
        AddStateStore(services, options, repository);
        services.AddSingleton(provider => new VersionRoutingStore(provider.GetRequiredService<IStateStore>()));
        // Built by the container (not handed to it) so they get the injected clock and are disposed at shutdown.
        services.AddSingleton(provider => new RouteTable(provider.GetRequiredService<IStateStore>(), provider.GetRequiredService<TimeProvider>()));
        services.AddSingleton(provider => new PipelineTable(provider.GetRequiredService<IStateStore>(), provider.GetRequiredService<TimeProvider>()));
        services.AddSingleton<TrafficValidator>();
        services.AddSingleton<Core.State.StateStoreHealth>();
        if (options.ResponseCacheRedis is { Length: > 0 } redis)
        {
            services.AddSingleton(new RedisResponseStore(redis, options.ResponseCacheRedisTtl));
            services.AddSingleton<ISharedResponseStore>(provider => provider.GetRequiredService<RedisResponseStore>());
        }

        services.AddSingleton(provider => new ResponseCache(options.ResponseCacheBytes, provider.GetService<ISharedResponseStore>()));
        AddMonitoring(services, options);
        services.AddSingleton(provider =>
        {
            var models = ActivatorUtilities.CreateInstance<ModelManager>(provider);
            models.NotLoadedReason = options.ModelPaging.Enabled
                ? "not loaded: models are paged (ModelPaging) and no request asked for it yet; the first request loads it"
                : NotLoadedReason(options.ModelControlMode);
            return models;
        });
        if (options.ModelPaging.Enabled)
        {
            services.AddSingleton(provider => new ModelPager(
                provider.GetRequiredService<ModelManager>(), options.ModelPaging.ToSettings(), provider.GetRequiredService<TimeProvider>(), provider.GetRequiredService<ILogger<ModelPager>>()));
        }

        services.AddSingleton<ModelControl>();
        services.AddSingleton<EnsembleCatalog>();
        services.AddSingleton(provider => new InferenceTap(
            provider.GetServices<IInferenceObserver>(), options.Observer.SampleRate, options.Observer.Capacity,
            provider.GetRequiredService<TimeProvider>(), provider.GetRequiredService<ILogger<InferenceTap>>()));
        services.AddSingleton<InferenceService>();
        AddTracing(services, options.Tracing);
        services.AddSingleton<ServerReadiness>();
        services.AddSingleton<InferHandler>();
        services.AddSingleton<ManagementAccess>();
        services.AddSingleton<InferenceAccess>();
        services.AddSingleton<RestrictedApis>();
        if (options.SharedMemory.Enabled)
        {
            services.AddSingleton(new Turbine.Server.SharedMemory.SystemSharedMemory(options.SharedMemory.Folder));
            services.AddSingleton<ISharedMemory>(provider => provider.GetRequiredService<Turbine.Server.SharedMemory.SystemSharedMemory>());
        }
        services.AddSingleton<TurbineMetrics>();
        services.AddSingleton<LoggingSettings>();
        services.AddSingleton(new TraceSettings(options.Tracing.Enabled));
        services.AddSingleton<PrometheusExporter>();
        if (options.Management.Enabled && options.Dashboard.Enabled)
        {
            services.AddSingleton(new Dashboard.SnapshotHistory(options.Dashboard.Capacity));
            services.AddSingleton<Dashboard.SnapshotTaker>();
            services.AddHostedService<Dashboard.DashboardSampler>();
        }
        services.AddHostedService<ModelLoaderService>();
        services.AddSingleton<Registry.RegistryProvider>();
        services.AddSingleton<Jobs.JobsProvider>();
        if (options.Jobs.Folder is not null && options.Jobs.Workers > 0)
        {
            services.AddHostedService<Jobs.JobWorkerService>();
        }
        if (options.Registry.Follow.Count > 0)
        {
            services.AddSingleton<Registry.RegistryFollower>();
            services.AddHostedService(provider => provider.GetRequiredService<Registry.RegistryFollower>());
        }

        services.AddHostedService<ShutdownDelay>();
        services.AddSingleton<StateSyncService>();
        services.AddHostedService(provider => provider.GetRequiredService<StateSyncService>());
        if (options.ModelControlMode == ModelControlMode.Poll)
        {
            services.AddSingleton<RepositoryPoller>();
            services.AddHostedService(provider => provider.GetRequiredService<RepositoryPoller>());
        }

        services.AddGrpc(grpc =>
        {
            grpc.MaxReceiveMessageSize = options.MaxGrpcMessageBytes;
            grpc.MaxSendMessageSize = options.MaxGrpcMessageBytes;
            grpc.EnableDetailedErrors = false;
        });
        services.AddGrpcReflection();
        services.AddGrpcHealthChecks().AddCheck<ReadinessHealthCheck>("ready");
    }

    /// <summary>
    /// Monitoring (docs/MONITORING.md): the hub watches every version's load, screens requests against quality rules
    /// and observes the tap; the cost ledger meters every request and settles on a timer.
    /// </summary>
    private static void AddMonitoring(IServiceCollection services, TurbineServerOptions options)
    {
        services.AddSingleton(provider => new Turbine.Monitoring.MonitoringHub(provider.GetRequiredService<TimeProvider>(), provider.GetRequiredService<ILogger<Turbine.Monitoring.MonitoringHub>>()));
        services.AddSingleton<Core.Lifecycle.IVersionWatcher>(provider => provider.GetRequiredService<Turbine.Monitoring.MonitoringHub>());
        services.AddSingleton<Core.Execution.IRequestScreen>(provider => provider.GetRequiredService<Turbine.Monitoring.MonitoringHub>());
        services.AddSingleton<IInferenceObserver>(provider => provider.GetRequiredService<Turbine.Monitoring.MonitoringHub>());
        if (!options.Cost.Enabled)
        {
            return;
        }

        // The versions are read through the service provider at each settlement: the ledger is made before the models.
        services.AddSingleton(provider => new Turbine.Monitoring.Cost.CostLedger(options.Cost, () => VersionCompute(provider)));
        services.AddSingleton<Core.Observation.IUsageMeter>(provider => provider.GetRequiredService<Turbine.Monitoring.Cost.CostLedger>());
        services.AddHostedService<CostSettler>();
    }

    /// <summary>
    /// Each served version's execution time so far: its statistics' compute time, or for a generative version the
    /// engine's busy time (its statistics time whole requests, which overlap in a continuous batch).
    /// </summary>
    private static IEnumerable<Turbine.Monitoring.Cost.VersionCompute> VersionCompute(IServiceProvider provider)
    {
        var inference = provider.GetRequiredService<InferenceService>();
        inference.Executor.Statistics(null, null, out var versions);
        foreach (var version in versions)
        {
            var statistics = version.Statistics;
            var compute = inference.Models.Resolve(version.Config.Name, version.Version, out var runner) is null && runner is Turbine.Llm.Serving.GenerationRunner generation
                ? generation.Model.Engine.Statistics.BusyNanoseconds
                : statistics.ComputeInput.Nanoseconds + statistics.ComputeInfer.Nanoseconds + statistics.ComputeOutput.Nanoseconds;
            yield return new(version.Config.Name, version.Version, compute, statistics.InferenceCount, version.Config.Settings.InstanceKind == "KIND_GPU");
        }
    }

    /// <summary>OpenTelemetry's tracer over Turbine's activity source, exporting over OTLP; nothing is registered while tracing is off.</summary>
    private static void AddTracing(IServiceCollection services, TracingOptions tracing)
    {
        if (!tracing.Enabled)
        {
            return;
        }

        services.AddOpenTelemetry()
            .ConfigureResource(resource => resource.AddService(tracing.ServiceName))
            .WithTracing(builder =>
            {
                builder.AddSource(TurbineTracing.SourceName).SetSampler(new ParentBasedSampler(new TraceIdRatioBasedSampler(tracing.SampleRatio)));
                builder.AddOtlpExporter(exporter =>
                {
                    if (tracing.OtlpEndpoint is { Length: > 0 } endpoint)
                    {
                        exporter.Endpoint = new Uri(endpoint);
                    }
                });
            });
    }

    /// <summary>The state store: PostgreSQL shared by replicas when configured, else the state directory (default <c>&lt;repository&gt;/.turbine</c>).</summary>
    private static void AddStateStore(IServiceCollection services, TurbineServerOptions options, ModelRepository repository)
    {
        if (options.StatePostgres is { Length: > 0 } postgres)
        {
            var replica = options.ReplicaId ?? DefaultReplicaId();
            services.AddSingleton<IStateStore>(provider => new PostgresStateStore(
                postgres, replica, provider.GetRequiredService<TimeProvider>(), provider.GetRequiredService<ILogger<PostgresStateStore>>()));
        }
        else
        {
            var folder = options.StateDirectory ?? Path.Combine(repository.Root, ".turbine");
            services.AddSingleton<IStateStore>(new FileStateStore(folder, options.ReplicaId ?? "local"));
        }
    }

    /// <summary>The host name (unique per pod on Kubernetes) and the process id, made to fit the name rules.</summary>
    private static string DefaultReplicaId()
    {
        var host = new string([.. Environment.MachineName.Select(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-' ? c : '-')]).TrimStart('.', '_', '-');
        return (host.Length == 0 ? "replica" : host[..Math.Min(host.Length, 100)]) + "-" + Environment.ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture);
    }

    private static void ConfigureKestrel(KestrelServerOptions kestrel, TurbineServerOptions options, Dictionary<ListenerKind, ListenOptions> listeners)
    {
        // Every limit is set on purpose (SECURITY.md A10), not left to whatever the defaults are today.
        kestrel.AddServerHeader = false;
        kestrel.Limits.MaxRequestBodySize = options.MaxRequestBodyBytes;
        kestrel.Limits.MaxRequestHeadersTotalSize = 32 * 1024;
        kestrel.Limits.MaxRequestHeaderCount = 100;
        kestrel.Limits.RequestHeadersTimeout = options.RequestHeadersTimeout;
        kestrel.Limits.KeepAliveTimeout = TimeSpan.FromSeconds(130);
        kestrel.Limits.MinRequestBodyDataRate = new MinDataRate(bytesPerSecond: 240, gracePeriod: TimeSpan.FromSeconds(5));
        kestrel.Limits.MinResponseDataRate = new MinDataRate(bytesPerSecond: 240, gracePeriod: TimeSpan.FromSeconds(5));
        kestrel.Limits.MaxConcurrentConnections = 10_000;
        kestrel.Limits.Http2.MaxStreamsPerConnection = 256;
        kestrel.Limits.Http2.MaxRequestHeaderFieldSize = 32 * 1024;
        var address = IPAddress.Parse(options.Host);
        Listen(kestrel, address, options.HttpPort, ListenerKind.Http, HttpProtocols.Http1, listeners, options.Tls);
        Listen(kestrel, address, options.GrpcPort, ListenerKind.Grpc, HttpProtocols.Http2, listeners, options.Tls);
        if (options.MetricsPort >= 0)
        {
            Listen(kestrel, address, options.MetricsPort, ListenerKind.Metrics, HttpProtocols.Http1, listeners, options.Tls);
        }
    }

    private static void Listen(KestrelServerOptions kestrel, IPAddress address, int port, ListenerKind kind, HttpProtocols protocols, Dictionary<ListenerKind, ListenOptions> listeners, TlsOptions tls) =>
        kestrel.Listen(address, port, listen =>
        {
            listen.Protocols = protocols;
            // Metrics stay plain: Prometheus scrapes them inside the cluster, and they carry no request data.
            if (kind != ListenerKind.Metrics && tls.CertificateFile is { Length: > 0 })
            {
                TlsSetup.Apply(listen, tls);
            }

            listen.Use(next => connection =>
            {
                ListenerKinds.Tag(connection.Items, kind);
                return next(connection);
            });
            listeners[kind] = listen;
        });

    /// <summary>The metrics port serves only /metrics, and /metrics is served only there.</summary>
    private static Task RestrictToListener(HttpContext context, RequestDelegate next)
    {
        var onMetricsPort = ListenerKinds.Of(context) == ListenerKind.Metrics;
        var isMetricsPath = context.Request.Path.Equals("/metrics", StringComparison.Ordinal);
        if (onMetricsPort != isMetricsPath)
        {
            context.Response.StatusCode = StatusCodes.Status404NotFound;
            return Task.CompletedTask;
        }

        return next(context);
    }

    private int Port(ListenerKind kind) => _listeners[kind].IPEndPoint!.Port;
}
