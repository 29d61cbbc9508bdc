using System.Text.Json;

namespace Turbine.Custom;

/// <summary>
/// The <c>dotnet</c> section of a custom model's configuration: <c>class</c>, the full name of the class to serve,
/// needed only when the assembly has more than one public <see cref="ICustomModel"/>.
/// </summary>
public sealed record CustomModelSettings : BackendSettings
{
    public static CustomModelSettings Default { get; } = new();

    /// <summary>The class's full name (<c>Namespace.Type</c>), or null for the assembly's only one.</summary>
    public string? ClassName { get; init; }

    /// <inheritdoc />
    public override bool IsEmpty => ClassName is null;

    public static CustomModelSettings Of(ModelConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        return config.Settings as CustomModelSettings ?? Default;
    }

    public static CustomModelSettings Read(JsonElement? section, List<string> errors)
    {
        if (!ConfigJson.TrySection(section, CustomBackend.BackendName, errors, out var value))
        {
            return Default;
        }

        string? className = null;
        foreach (var property in value.EnumerateObject())
        {
            if (property.Name == "class" && property.Value.ValueKind == JsonValueKind.String && property.Value.GetString() is { Length: > 0 and <= 512 } name)
            {
                className = name;
            }
            else if (property.Name == "class")
            {
                errors.Add("dotnet.class: expected the class's full name (Namespace.Type), at most 512 characters");
            }
            else
            {
                errors.Add($"dotnet.{property.Name}: unknown setting; the dotnet section takes class");
            }
        }

        return new CustomModelSettings { ClassName = className };
    }

    /// <inheritdoc />
    public override IReadOnlyList<KeyValuePair<string, string>> Parameters() =>
        ClassName is null ? [] : [KeyValuePair.Create("class", ClassName)];

    /// <inheritdoc />
    public override void WriteProperties(Utf8JsonWriter writer)
    {
        ArgumentNullException.ThrowIfNull(writer);
        if (ClassName is not null)
        {
            writer.WriteString("class", ClassName);
        }
    }
}
