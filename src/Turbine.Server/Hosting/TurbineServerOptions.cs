namespace Turbine.Server.Hosting;

/// <summary>Server settings, bound from the <c>Turbine</c> configuration section (appsettings, <c>TURBINE__*</c> variables, flags).</summary>
public sealed class TurbineServerOptions
{
    /// <summary>The configuration section name.</summary>
    public const string Section = "Turbine";

    /// <summary>The model repository folder.</summary>
    public string ModelRepository { get; set; } = "models";

    /// <summary>The address every port binds to.</summary>
    public string Host { get; set; } = "0.0.0.0";

    /// <summary>KServe v2 REST port (HTTP/1.1); 0 picks a free port.</summary>
    public int HttpPort { get; set; } = 8000;

    /// <summary>gRPC port (HTTP/2 cleartext); 0 picks a free port.</summary>
    public int GrpcPort { get; set; } = 8001;

    /// <summary>Prometheus metrics port; 0 picks a free port, -1 turns metrics off.</summary>
    public int MetricsPort { get; set; } = 8002;

    /// <summary>Largest request body after decompression (SECURITY.md A7).</summary>
    public long MaxRequestBodyBytes { get; set; } = 64L * 1024 * 1024;

    /// <summary>Largest gRPC message received or sent.</summary>
    public int MaxGrpcMessageBytes { get; set; } = 64 * 1024 * 1024;

    /// <summary>Most bytes of tensor buffers the pinned pool keeps for reuse between requests; more is given back at once.</summary>
    public long PinnedPoolBytes { get; set; } = 256L * 1024 * 1024;

    /// <summary>How long a buffer size may go unused before the pinned pool gives its buffers back.</summary>
    public TimeSpan PinnedPoolIdle { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Memory for the response cache of the models that enable it (<c>response_cache.enable</c>); 0 turns it off.</summary>
    public long ResponseCacheBytes { get; set; } = 64L * 1024 * 1024;

    /// <summary>
    /// A Redis server shared by replicas as a second response cache tier (a StackExchange.Redis configuration string,
    /// like <c>redis:6379</c> or <c>redis:6379,password=...,ssl=true</c>); null for the in-memory cache only.
    /// </summary>
    public string? ResponseCacheRedis { get; set; }

    /// <summary>How long an answer lives in the Redis cache.</summary>
    public TimeSpan ResponseCacheRedisTtl { get; set; } = TimeSpan.FromHours(1);

    /// <summary>Deepest JSON nesting accepted (SECURITY.md A11).</summary>
    public int MaxJsonDepth { get; set; } = 64;

    /// <summary>How long a client may take to send its request headers before the connection is closed (SECURITY.md A10).</summary>
    public TimeSpan RequestHeadersTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>The one countdown of a shutdown: the delay, draining requests in flight and releasing models all fit in it.</summary>
    public TimeSpan ExitTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// How long the server keeps listening after SIGTERM with readiness false, answering new inference requests with
    /// 503, so that load balancers stop sending traffic before the sockets close (set it near the readiness probe
    /// period on Kubernetes); 0 closes the listeners at once.
    /// </summary>
    public TimeSpan ShutdownDelay { get; set; } = TimeSpan.Zero;

    /// <summary>When true the server is ready only if every model loaded (Triton's strict readiness).</summary>
    public bool StrictReadiness { get; set; }

    /// <summary>Who may call the repository (control-plane) endpoints.</summary>
    public ManagementOptions Management { get; set; } = new();

    /// <summary>Distributed tracing with OpenTelemetry; off unless enabled.</summary>
    public TracingOptions Tracing { get; set; } = new();

    /// <summary>Triton's system shared-memory extension, for clients on the same machine; off unless enabled.</summary>
    public SharedMemoryOptions SharedMemory { get; set; } = new();

    /// <summary>The sample of completed requests handed to inference observers (drift monitoring, dashboards).</summary>
    public ObserverOptions Observer { get; set; } = new();

    /// <summary>Cost attribution: prices per core-hour and GPU-hour (docs/MONITORING.md).</summary>
    public Turbine.Monitoring.Cost.CostOptions Cost { get; set; } = new();

    /// <summary>Serving from a model registry: the models to follow by alias, and the keys their versions must be signed with.</summary>
    public RegistryOptions Registry { get; set; } = new();

    /// <summary>Batch jobs (docs/BATCH.md): the REST API under <c>/v2/jobs</c> and the workers that run them.</summary>
    public JobsOptions Jobs { get; set; } = new();

    /// <summary>
    /// The security scan every ONNX model passes before its session is created (docs/OPTIMIZATION.md, SECURITY.md
    /// A23): caps, further allowed operator domains, and finding kinds that only warn.
    /// </summary>
    public Turbine.Onnx.Scanning.ModelScanPolicy ModelScan { get; set; } = new();

    /// <summary>
    /// API keys for the model endpoints (inference, metadata, config, readiness, statistics). Empty: those endpoints
    /// are open. Otherwise every call needs <c>Authorization: Bearer &lt;key&gt;</c> with a key that covers the model.
    /// </summary>
    public List<ApiKeyOptions> ApiKeys { get; set; } = [];

    /// <summary>
    /// Triton's restricted APIs, each <c>&lt;api&gt;[,&lt;api&gt;...]:&lt;header&gt;=&lt;value&gt;</c>: the named groups
    /// (health, metadata, inference, shared-memory, model-config, model-repository, statistics, trace, logging) answer
    /// only requests that carry the header with the value, over REST and gRPC alike.
    /// </summary>
    public List<string> RestrictedApi { get; set; } = [];

    /// <summary>TLS for the REST and gRPC listeners; off unless a certificate is given.</summary>
    public TlsOptions Tls { get; set; } = new();

    /// <summary>How models get loaded and unloaded (Triton's <c>--model-control-mode</c>).</summary>
    public ModelControlMode ModelControlMode { get; set; } = ModelControlMode.None;

    /// <summary>With <see cref="ModelControlMode.Poll"/>: how often the repository is scanned for changes.</summary>
    public TimeSpan RepositoryPollInterval { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>With <see cref="ModelControlMode.Explicit"/>: the models loaded at startup; <c>*</c> loads them all.</summary>
    public List<string> LoadModels { get; set; } = [];

    /// <summary>The web dashboard at <c>/dashboard/</c>, behind the management rules (docs/DASHBOARD.md).</summary>
    public DashboardOptions Dashboard { get; set; } = new();

    /// <summary>Custom C# models (the <c>dotnet</c> backend), which run repository code in the server; off unless enabled.</summary>
    public CustomModelOptions CustomModels { get; set; } = new();

    /// <summary>Models loaded on their first request within a memory budget, idle ones unloaded to make room; off unless a budget is set.</summary>
    public ModelPagingOptions ModelPaging { get; set; } = new();

    /// <summary>
    /// Where the server keeps what it must remember across restarts (default versions and labels); the default is
    /// <c>.turbine</c> inside the model repository, a name no model can have.
    /// </summary>
    public string? StateDirectory { get; set; }

    /// <summary>
    /// ONNX Runtime's compute threads for the whole process, shared by every session whose model does not set threads
    /// of its own (docs/OPERATIONS.md, "Memory and threads"); 0: the machine's cores. Set once per process.
    /// </summary>
    public int OnnxRuntimeThreads { get; set; }

    /// <summary>
    /// A PostgreSQL database that the replicas of one service share for their state (an Npgsql connection string, like
    /// <c>Host=db;Database=turbine;Username=turbine;Password=...</c>): routes, pipelines, version routing, canary
    /// progress and audit, A/B figures and feedback. Null keeps state in <see cref="StateDirectory"/> for this server alone.
    /// </summary>
    public string? StatePostgres { get; set; }

    /// <summary>
    /// This server's name among the replicas sharing <see cref="StatePostgres"/>: letters, digits, '.', '_' and '-'.
    /// Default: the host name (a Kubernetes pod's name) and the process id.
    /// </summary>
    public string? ReplicaId { get; set; }

    /// <summary>
    /// How often figures are saved and, with a shared store, canary figures published, forwarded feedback applied and
    /// rollouts judged by the leader. Default: 2 s with PostgreSQL, 10 s with the state directory.
    /// </summary>
    public TimeSpan? StateSyncInterval { get; set; }
}

/// <summary>One API key and the models it opens.</summary>
public sealed class ApiKeyOptions
{
    /// <summary>The key's name in cost reports and metrics (never the key itself); <c>key-N</c> by its position when unset.</summary>
    public string? Name { get; set; }

    /// <summary>The key itself; prefer <see cref="KeyFile"/>, which keeps it out of configuration files and environment listings.</summary>
    public string? Key { get; set; }

    /// <summary>A file holding the key (trailing whitespace ignored), e.g. a mounted Kubernetes secret.</summary>
    public string? KeyFile { get; set; }

    /// <summary>The models this key may call; empty means every model (and the all-models statistics).</summary>
    public List<string> Models { get; set; } = [];
}

/// <summary>TLS certificates, from PEM files.</summary>
public sealed class TlsOptions
{
    /// <summary>The server certificate (PEM, chain allowed); TLS is on when set.</summary>
    public string? CertificateFile { get; set; }

    /// <summary>The server certificate's private key (PEM).</summary>
    public string? KeyFile { get; set; }

    /// <summary>
    /// Mutual TLS: the certificate authority (PEM) that client certificates must chain to. When set, a client without
    /// a certificate issued by it cannot connect.
    /// </summary>
    public string? ClientCertificateAuthorityFile { get; set; }
}

/// <summary>How models get loaded and unloaded.</summary>
public enum ModelControlMode
{
    /// <summary>Every model loads at startup; the load and unload API is refused.</summary>
    None,

    /// <summary>Every model loads at startup, and the repository is watched: changed models reload, removed ones unload.</summary>
    Poll,

    /// <summary>Only the <see cref="TurbineServerOptions.LoadModels"/> load at startup; the API loads and unloads the rest.</summary>
    Explicit,
}

/// <summary>Tracing (docs/OPERATIONS.md, "Tracing"): Turbine's spans exported with OpenTelemetry's OTLP exporter.</summary>
public sealed class TracingOptions
{
    /// <summary>Whether spans are recorded and exported at all.</summary>
    public bool Enabled { get; set; }

    /// <summary>Where the OTLP exporter sends spans (e.g. <c>http://otel-collector:4317</c>); null: OpenTelemetry's default or its <c>OTEL_EXPORTER_OTLP_ENDPOINT</c>.</summary>
    public string? OtlpEndpoint { get; set; }

    /// <summary>The share of traces started here that are recorded (0 to 1); a caller's sampled flag is followed either way.</summary>
    public double SampleRatio { get; set; } = 1;

    /// <summary>The <c>service.name</c> the spans carry.</summary>
    public string ServiceName { get; set; } = "turbine";
}

/// <summary>The system shared-memory extension.</summary>
public sealed class SharedMemoryOptions
{
    /// <summary>Whether clients may register shared-memory regions (behind the management rules) and place tensors in them.</summary>
    public bool Enabled { get; set; }

    /// <summary>Where POSIX shared-memory objects live (<c>/dev/shm</c> on Linux); keys name files in it.</summary>
    public string Folder { get; set; } = "/dev/shm";
}

/// <summary>The web dashboard (docs/DASHBOARD.md): served when the management API is, unless turned off here.</summary>
public sealed class DashboardOptions
{
    /// <summary>Whether the dashboard is served (it never is while the management API is off).</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>How often a snapshot of the figures is taken and streamed.</summary>
    public TimeSpan Interval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>How much history the server keeps in memory for charts opened late.</summary>
    public TimeSpan History { get; set; } = TimeSpan.FromHours(1);

    /// <summary>Snapshots the history holds.</summary>
    public int Capacity => (int)Math.Clamp(History / Interval, 1, 100_000);
}

/// <summary>Custom C# models (docs/BACKENDS.md, SECURITY.md A35).</summary>
public sealed class CustomModelOptions
{
    /// <summary>
    /// Whether model folders with <c>"backend": "dotnet"</c> may load: their assembly or source runs inside the server
    /// with its rights, so enable it only where whoever can write the repository is trusted as much as the server.
    /// </summary>
    public bool Enabled { get; set; }
}

/// <summary>Memory-aware model paging (docs/BACKENDS.md): on when <see cref="BudgetBytes"/> is positive.</summary>
public sealed class ModelPagingOptions
{
    /// <summary>Bytes of host memory the loaded models may take, counted by their files' size; 0 turns paging off.</summary>
    public long BudgetBytes { get; set; }

    /// <summary>Bytes of GPU memory for models whose instances run on a GPU; 0 counts them against <see cref="BudgetBytes"/>.</summary>
    public long GpuBudgetBytes { get; set; }

    /// <summary>Models loaded at startup that are never paged out.</summary>
    public List<string> Pinned { get; set; } = [];

    /// <summary>How long a request waits for its model to load before it gets 503 with Retry-After (the load goes on).</summary>
    public TimeSpan MaxWait { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Which idle model leaves first: <c>lru</c> (least recently used) or <c>lfu</c> (least often used).</summary>
    public Turbine.Core.Lifecycle.PagingPolicy Policy { get; set; } = Turbine.Core.Lifecycle.PagingPolicy.Lru;

    /// <summary>Whether paging is on.</summary>
    public bool Enabled => BudgetBytes > 0;

    /// <summary>The pager's settings.</summary>
    public Turbine.Core.Lifecycle.ModelPagingSettings ToSettings() => new()
    {
        BudgetBytes = BudgetBytes,
        GpuBudgetBytes = GpuBudgetBytes,
        Pinned = new HashSet<string>(Pinned, StringComparer.Ordinal),
        MaxWait = MaxWait,
        Policy = Policy,
    };
}

/// <summary>How many completed requests the inference observers see.</summary>
public sealed class ObserverOptions
{
    /// <summary>The share of requests copied for the observers (0 to 1); nothing is copied while no observer is registered.</summary>
    public double SampleRate { get; set; } = 0.1;

    /// <summary>Observations waiting for slow observers at most; more are dropped and counted.</summary>
    public int Capacity { get; set; } = 1024;
}

/// <summary>Access to the repository API: load, unload, index (SECURITY.md A1).</summary>
public sealed class ManagementOptions
{
    /// <summary>Whether the repository API is served at all; off unless enabled (SECURITY.md A1).</summary>
    public bool Enabled { get; set; }

    /// <summary>
    /// A bearer token that callers must present (<c>Authorization: Bearer ...</c>). When empty, only clients on the
    /// loopback interface may call the repository API.
    /// </summary>
    public string? Token { get; set; }

    /// <summary>A file holding the token (trailing whitespace ignored), e.g. a mounted Kubernetes secret; used when <see cref="Token"/> is unset.</summary>
    public string? TokenFile { get; set; }

    /// <summary>The token: <see cref="Token"/>, else the content of <see cref="TokenFile"/>, else none.</summary>
    public string? EffectiveToken() => !string.IsNullOrEmpty(Token) ? Token : TokenFile is { Length: > 0 } file ? File.ReadAllText(file).TrimEnd() : null;
}

/// <summary>
/// Serving models from a registry (docs/REGISTRY.md): each followed <c>model@alias</c> is materialized into the model
/// repository and loaded, and reloaded when its alias moves.
/// </summary>
public sealed class RegistryOptions
{
    /// <summary>The registry folder (its artifacts, and its SQLite metadata unless <see cref="Postgres"/> is set); off when null.</summary>
    public string? Folder { get; set; }

    /// <summary>A PostgreSQL connection string for the registry's metadata (shared registries).</summary>
    public string? Postgres { get; set; }

    /// <summary>A bucket of S3-compatible storage holding the registry's artifacts instead of the folder's.</summary>
    public string? S3Bucket { get; set; }

    /// <summary>The S3-compatible service's URL (MinIO, Ceph, ...); AWS itself when null.</summary>
    public string? S3Endpoint { get; set; }

    /// <summary>A key prefix in the bucket.</summary>
    public string S3Prefix { get; set; } = string.Empty;

    /// <summary>The artifacts' S3 location, when a bucket is set.</summary>
    internal Turbine.Server.Registry.S3ArtifactLocation? S3 => S3Bucket is null ? null : new(S3Bucket, S3Endpoint, S3Prefix);

    /// <summary>What to serve, each <c>model@alias</c> (or <c>model@3</c> for a fixed version).</summary>
    public List<string> Follow { get; set; } = [];

    /// <summary>How often the aliases are read; an alias move serves within this plus the new version's load.</summary>
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>PEM public keys; when any is given, only versions signed by one of them are served.</summary>
    public List<string> TrustedKeys { get; set; } = [];
}

/// <summary>
/// Batch jobs (docs/BATCH.md): submitted over <c>/v2/jobs</c> behind the management rules, run by workers in this server
/// on the background lane of each model's queue. Jobs read and write local files only under <see cref="Folder"/>, and
/// objects in S3-compatible storage.
/// </summary>
public sealed class JobsOptions
{
    /// <summary>The jobs' data folder: local inputs and outputs are relative paths under it, and it holds the SQLite store unless <see cref="Postgres"/> is set; off when null.</summary>
    public string? Folder { get; set; }

    /// <summary>A PostgreSQL connection string for the job store, shared with other servers and <c>turbine batch worker</c> pods.</summary>
    public string? Postgres { get; set; }

    /// <summary>
    /// Workers in this server, each scoring one partition at a time: two keep a model busy while one of them moves from a
    /// finished partition to the next; 0 serves the API only (workers run elsewhere).
    /// </summary>
    public int Workers { get; set; } = 2;

    /// <summary>How often an idle worker looks for work.</summary>
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>The S3-compatible service's URL for <c>s3://</c> locations; AWS itself when null.</summary>
    public string? S3Endpoint { get; set; }

    /// <summary>The S3 signing region.</summary>
    public string S3Region { get; set; } = "us-east-1";

    /// <summary>The buckets jobs may read and write; empty allows any bucket the server's credentials reach.</summary>
    public List<string> S3Buckets { get; set; } = [];
}
