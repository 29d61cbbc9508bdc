using System.Text.Json;

namespace Turbine;

/// <summary>
/// Settings that belong to one backend, read and validated by that backend (<see cref="IModelBackend.ReadSettings(System.Text.Json.JsonElement?, List{string})"/>)
/// from the configuration section named after it (<c>"onnxruntime": {...}</c>), so that the shared contract knows
/// nothing of any one runtime. Each backend derives its own record.
/// </summary>
public abstract record BackendSettings
{
    /// <summary>No settings: the backend has none, or the configuration gave none and the backend needs none.</summary>
    public static BackendSettings None { get; } = new NoSettings();

    /// <summary>The instance kind the model runs on, as Triton's <c>instance_group.kind</c> names it.</summary>
    public virtual string InstanceKind => "KIND_CPU";

    /// <summary>Whether there is anything to show in a model configuration response.</summary>
    public virtual bool IsEmpty => false;

    /// <summary>The settings as Triton's model <c>parameters</c> (string values), for the gRPC model configuration.</summary>
    public abstract IReadOnlyList<KeyValuePair<string, string>> Parameters();

    /// <summary>Writes the settings as the properties of the section object that the caller has opened.</summary>
    public abstract void WriteProperties(Utf8JsonWriter writer);

    private sealed record NoSettings : BackendSettings
    {
        public override bool IsEmpty => true;

        public override IReadOnlyList<KeyValuePair<string, string>> Parameters() => [];

        public override void WriteProperties(Utf8JsonWriter writer)
        {
        }
    }
}
