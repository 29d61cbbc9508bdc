using System.Text.Json;
using System.Text.Json.Serialization;

namespace Turbine.Edge.Updates;

/// <summary>What a slot holds: a bundle's version and the target it came from.</summary>
/// <param name="Version">The bundle's version.</param>
/// <param name="Target">The target's path in the repository.</param>
/// <param name="Sha256">The target's digest.</param>
public sealed record SlotContent(long Version, string Target, string Sha256);

/// <summary>A slot switched to and not yet committed: how many times its server has started, since when on trial.</summary>
/// <param name="Slot">The slot on trial (the active one).</param>
/// <param name="Starts">Server starts so far, counted before each start so that a crash of the whole device counts too.</param>
/// <param name="Since">When the switch happened.</param>
public sealed record TrialState(string Slot, int Starts, DateTimeOffset Since);

/// <summary>A slot being unpacked: if the agent finds this on start, the unpacking died and the slot is emptied.</summary>
/// <param name="Slot">The slot.</param>
/// <param name="Version">The bundle's version.</param>
public sealed record InstallingState(string Slot, long Version);

/// <summary>
/// The agent's durable state, written whole and atomically (<see cref="DurableFile"/>) at each step of an update: the
/// switch from one slot to the other is the single write that changes <see cref="Active"/>.
/// </summary>
public sealed record AgentState
{
    /// <summary>The two slots' names.</summary>
    public static readonly string[] SlotNames = ["a", "b"];

    /// <summary>The slot the server runs from; null before the first bundle is installed.</summary>
    public string? Active { get; init; }

    /// <summary>The slot to roll back to; null when there is none.</summary>
    public string? Previous { get; init; }

    /// <summary>What each slot holds (absent: empty).</summary>
    public Dictionary<string, SlotContent> Slots { get; init; } = new(StringComparer.Ordinal);

    /// <summary>The slot on trial after a switch, until its health check passes and its probation ends.</summary>
    public TrialState? Trial { get; init; }

    /// <summary>The slot being unpacked, if any.</summary>
    public InstallingState? Installing { get; init; }

    /// <summary>Versions that failed on this device and are never installed again.</summary>
    public List<long> Rejected { get; init; } = [];

    /// <summary>The version the active slot holds (0 when none).</summary>
    [JsonIgnore]
    public long ActiveVersion => Active is not null && Slots.TryGetValue(Active, out var content) ? content.Version : 0;

    /// <summary>The slot an update goes into: the one not active.</summary>
    [JsonIgnore]
    public string Inactive => Active == "a" ? "b" : "a";

    /// <summary>
    /// The state after a rollback: the previous slot active again (none when there was none), no trial, and the
    /// version that failed rejected for good.
    /// </summary>
    public AgentState RolledBack() => this with
    {
        Active = Previous is not null && Slots.ContainsKey(Previous) ? Previous : null,
        Previous = null,
        Trial = null,
        Rejected = [.. Rejected, ActiveVersion],
    };

    /// <summary>Reads the state (the empty state when there is no file yet).</summary>
    public static AgentState Load(string path)
    {
        if (!File.Exists(path))
        {
            return new AgentState();
        }

        try
        {
            return JsonSerializer.Deserialize(File.ReadAllBytes(path), AgentStateJson.Default.AgentState) ?? new AgentState();
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{path} is damaged ({e.Message}); it is only ever replaced whole, so something else wrote it", e);
        }
    }

    /// <summary>Writes the state atomically and durably.</summary>
    public void Save(string path) => DurableFile.Write(path, JsonSerializer.SerializeToUtf8Bytes(this, AgentStateJson.Default.AgentState));
}

/// <summary>Source-generated JSON for the state (no reflection: the agent compiles ahead of time).</summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, WriteIndented = true, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(AgentState))]
internal sealed partial class AgentStateJson : JsonSerializerContext;
