namespace Turbine.Edge.Updates;

/// <summary>What the update agent runs with (docs/EDGE.md, "Updates").</summary>
public sealed record AgentOptions
{
    /// <summary>The agent's folder: state, trusted metadata, downloads, slots, telemetry.</summary>
    public required string Root { get; init; }

    /// <summary>The TUF metadata URL (null: no updates, the agent only supervises the active slot).</summary>
    public Uri? MetadataUrl { get; init; }

    /// <summary>The targets URL (default: next to the metadata, <c>../targets/</c>).</summary>
    public Uri? TargetsUrl { get; init; }

    /// <summary>How often it looks for an update.</summary>
    public TimeSpan CheckInterval { get; init; } = TimeSpan.FromHours(1);

    /// <summary>The server's listening address.</summary>
    public string Host { get; init; } = "127.0.0.1";

    /// <summary>The server's port (0: the system picks; the agent reads the address from the server).</summary>
    public int HttpPort { get; init; } = 8000;

    /// <summary>The server's compute threads (0: its default).</summary>
    public int Threads { get; init; }

    /// <summary>Starts of a slot on trial before it is rolled back as a crash loop.</summary>
    public int MaxTrialStarts { get; init; } = 3;

    /// <summary>How long a new slot must run after passing its health check before it is committed.</summary>
    public TimeSpan Probation { get; init; } = TimeSpan.FromMinutes(5);

    /// <summary>How long the server may take to load its models and listen.</summary>
    public TimeSpan ReadyTimeout { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>Where telemetry goes (null: it stays queued on disk, bounded).</summary>
    public Uri? TelemetryUrl { get; init; }

    /// <summary>How often the server's metrics are queued as telemetry and the queue is forwarded.</summary>
    public TimeSpan TelemetryInterval { get; init; } = TimeSpan.FromMinutes(1);

    /// <summary>The telemetry queue's bound on disk.</summary>
    public long TelemetryMaxBytes { get; init; } = 16L * 1024 * 1024;

    /// <summary>The device's name in telemetry ids.</summary>
    public string DeviceId { get; init; } = Environment.MachineName;

    /// <summary>What a bundle may unpack to.</summary>
    public BundleLimits BundleLimits { get; init; } = new();

    /// <summary>Whether the agent and its server may run as root (refused by default).</summary>
    public bool AllowRoot { get; init; }

    /// <summary>The server to run when a slot carries none (default: this executable).</summary>
    public string? DefaultServer { get; init; }
}
