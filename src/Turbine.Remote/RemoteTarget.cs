using System.Text.Json;

namespace Turbine.Remote;

/// <summary>
/// Where a remote model's version forwards (<c>remote.json</c> in the version folder): a KServe v2 server, the protocol
/// to speak, the model there, and how long to wait and how much to send at once.
/// </summary>
public sealed record RemoteTarget
{
    public const string FileName = "remote.json";

    /// <summary>The server: its gRPC address (<c>http://host:8001</c>) or REST base address (<c>http://host:8000</c>).</summary>
    public Uri Url { get; init; } = new("http://localhost:8001");

    /// <summary><c>grpc</c> (default) or <c>rest</c>.</summary>
    public string Protocol { get; init; } = "grpc";

    /// <summary>The model's name on the remote server.</summary>
    public string Model { get; init; } = string.Empty;

    /// <summary>Its version there; the remote's default when empty.</summary>
    public string? Version { get; init; }

    /// <summary>A request's deadline on the remote, in milliseconds.</summary>
    public int TimeoutMs { get; init; } = 10_000;

    /// <summary>Requests in flight to the remote at most; more wait here (they count as queued).</summary>
    public int MaxConcurrency { get; init; } = 64;

    /// <summary>Consecutive failures that open the breaker.</summary>
    public int BreakerFailures { get; init; } = 5;

    /// <summary>How long an open breaker refuses at once before one request tries the remote again.</summary>
    public int BreakerOpenMs { get; init; } = 10_000;

    /// <summary>How often the remote's readiness is asked while idle or broken.</summary>
    public int HealthIntervalMs { get; init; } = 5_000;

    /// <summary>A second server with the same model, asked too when the first is slow (a hedged request); none when null.</summary>
    public Uri? HedgeUrl { get; init; }

    /// <summary>The hedge's protocol; the first's when null.</summary>
    public string? HedgeProtocol { get; init; }

    /// <summary>The percentile of recent round trips after which the hedge is sent.</summary>
    public double HedgeAfterPercentile { get; init; } = 95;

    /// <summary>The hedge waits at least this long (and this long until enough round trips are known).</summary>
    public int HedgeMinMs { get; init; } = 10;

    /// <summary>The hedge target: the same model and settings at <see cref="HedgeUrl"/>.</summary>
    internal RemoteTarget? Hedge => HedgeUrl is null ? null : this with { Url = HedgeUrl, Protocol = HedgeProtocol ?? Protocol, HedgeUrl = null };

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };

    /// <summary>Reads and checks <c>remote.json</c>; every problem is reported at once.</summary>
    public static RemoteTarget Read(string path)
    {
        RemoteTarget target;
        try
        {
            target = JsonSerializer.Deserialize<RemoteTarget>(File.ReadAllText(path), Json) ?? throw new InferenceException($"{FileName} is empty");
        }
        catch (Exception e) when (e is JsonException or IOException or UriFormatException)
        {
            throw new InferenceException($"{FileName} is not a remote target: {e.Message}");
        }

        var errors = new List<string>();
        if (!target.Url.IsAbsoluteUri || target.Url.Scheme is not ("http" or "https"))
        {
            errors.Add($"url '{target.Url}' must be an absolute http or https address");
        }

        if (target.HedgeUrl is { } hedge && (!hedge.IsAbsoluteUri || hedge.Scheme is not ("http" or "https")))
        {
            errors.Add($"hedge_url '{hedge}' must be an absolute http or https address");
        }

        if (target.HedgeProtocol is not (null or "grpc" or "rest") || target.HedgeAfterPercentile is < 50 or > 99.9 || target.HedgeMinMs < 1)
        {
            errors.Add("hedge_protocol must be grpc or rest, hedge_after_percentile within 50 to 99.9, hedge_min_ms 1 or more");
        }

        if (target.Protocol is not ("grpc" or "rest"))
        {
            errors.Add($"protocol '{target.Protocol}' is not grpc or rest");
        }

        if (!Core.Repository.ModelNames.IsValid(target.Model))
        {
            errors.Add($"model '{target.Model}' is not a model name");
        }

        if (target.TimeoutMs is < 1 or > 600_000 || target.MaxConcurrency is < 1 or > 4096 || target.BreakerFailures < 1 || target.BreakerOpenMs < 0 || target.HealthIntervalMs < 100)
        {
            errors.Add("timeout_ms (1 to 600000), max_concurrency (1 to 4096), breaker_failures (1 or more), breaker_open_ms (0 or more) and health_interval_ms (100 or more) must be in range");
        }

        return errors.Count == 0 ? target : throw new InferenceException($"{FileName}: {string.Join("; ", errors)}");
    }
}
