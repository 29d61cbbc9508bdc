using System.Text.Json;
using Turbine.Monitoring.Drift;
using Turbine.Monitoring.Quality;

namespace Turbine.Monitoring;

/// <summary>
/// A model's <c>monitoring</c> section (docs/MONITORING.md): where its reference profile is, which output holds class
/// probabilities, the drift window, per-feature drift methods, and data-quality rules. Read from the configuration as
/// written, at each load; a section with errors fails the load like any other configuration error.
/// </summary>
public sealed record MonitoringSettings
{
    /// <summary>The section's name in a model configuration.</summary>
    public const string Section = "monitoring";

    /// <summary>The settings of a model without the section: drift when a profile is there, no rules.</summary>
    public static MonitoringSettings Default { get; } = new();

    /// <summary>Whether monitoring is on for the model (it is unless <c>"enabled": false</c>).</summary>
    public bool Enabled { get; init; } = true;

    /// <summary>The profile's file in the version folder.</summary>
    public string ProfileFile { get; init; } = Profiles.ReferenceProfile.FileName;

    /// <summary>The output holding class probabilities: its argmax is the predicted class, its maximum the confidence.</summary>
    public string? Probabilities { get; init; }

    /// <summary>Rows the drift window holds at most (the latest ones).</summary>
    public int WindowRows { get; init; } = 1000;

    /// <summary>How far back the window reaches; zero for no limit but <see cref="WindowRows"/>.</summary>
    public TimeSpan WindowTime { get; init; }

    /// <summary>Rows the window needs before drift is judged.</summary>
    public int MinRows { get; init; } = 100;

    /// <summary>The share of drifted features at which the whole dataset counts as drifted.</summary>
    public double DriftShare { get; init; } = 0.5;

    /// <summary>Per-feature drift methods and thresholds.</summary>
    public IReadOnlyDictionary<string, FeatureDriftOptions> Features { get; init; } = new Dictionary<string, FeatureDriftOptions>();

    /// <summary>The p99 latency the model should keep, for the alert rules; zero when none is set.</summary>
    public TimeSpan LatencyTarget { get; init; }

    /// <summary>The data-quality rules.</summary>
    public QualitySettings Quality { get; init; } = QualitySettings.None;

    /// <summary>Reads the section of a configuration written as JSON; problems go to <paramref name="errors"/>.</summary>
    public static MonitoringSettings Read(string? configJson, List<string> errors)
    {
        ArgumentNullException.ThrowIfNull(errors);
        if (string.IsNullOrEmpty(configJson))
        {
            return Default;
        }

        using var document = JsonDocument.Parse(configJson);
        return document.RootElement.ValueKind == JsonValueKind.Object && document.RootElement.TryGetProperty(Section, out var section)
            ? Read(section, errors)
            : Default;
    }

    /// <summary>Reads the section itself; problems go to <paramref name="errors"/>.</summary>
    public static MonitoringSettings Read(JsonElement section, List<string> errors)
    {
        ArgumentNullException.ThrowIfNull(errors);
        if (section.ValueKind != JsonValueKind.Object)
        {
            errors.Add("'monitoring' must be an object");
            return Default;
        }

        var settings = new MonitoringSettings
        {
            Enabled = ConfigJson.Bool(section, "enabled", errors, Section) ?? true,
            ProfileFile = ConfigJson.String(section, "profile", errors, Section) ?? Default.ProfileFile,
            Probabilities = ConfigJson.String(section, "probabilities", errors, Section),
            WindowRows = ConfigJson.Int(section, "window_rows", errors, Section) ?? Default.WindowRows,
            WindowTime = TimeSpan.FromSeconds(ConfigJson.Double(section, "window_seconds", errors, Section) ?? 0),
            MinRows = ConfigJson.Int(section, "min_rows", errors, Section) ?? Default.MinRows,
            DriftShare = ConfigJson.Double(section, "drift_share", errors, Section) ?? Default.DriftShare,
            LatencyTarget = TimeSpan.FromMilliseconds(ConfigJson.Double(section, "latency_target_ms", errors, Section) ?? 0),
            Features = section.TryGetProperty("features", out var features) ? ReadFeatures(features, errors) : Default.Features,
            Quality = section.TryGetProperty("quality", out var quality) ? QualitySettings.Read(quality, errors) : QualitySettings.None,
        };
        if (settings.ProfileFile.Length == 0 || settings.ProfileFile.Contains('/', StringComparison.Ordinal) || settings.ProfileFile.Contains('\\', StringComparison.Ordinal) || settings.ProfileFile.StartsWith('.'))
        {
            errors.Add("'monitoring.profile' must be a file name in the version folder");
        }

        if (settings.WindowRows is < 10 or > 1_000_000)
        {
            errors.Add("'monitoring.window_rows' must be between 10 and 1000000");
        }

        if (settings.MinRows < 1 || settings.MinRows > settings.WindowRows)
        {
            errors.Add("'monitoring.min_rows' must be between 1 and window_rows");
        }

        if (settings.WindowTime < TimeSpan.Zero || settings.LatencyTarget < TimeSpan.Zero)
        {
            errors.Add("'monitoring.window_seconds' and 'monitoring.latency_target_ms' must not be negative");
        }

        if (settings.DriftShare is <= 0 or > 1)
        {
            errors.Add("'monitoring.drift_share' must be above 0 and at most 1");
        }

        return settings;
    }

    private static Dictionary<string, FeatureDriftOptions> ReadFeatures(JsonElement features, List<string> errors)
    {
        var result = new Dictionary<string, FeatureDriftOptions>(StringComparer.Ordinal);
        if (features.ValueKind != JsonValueKind.Object)
        {
            errors.Add("'monitoring.features' must map feature names to {\"method\", \"threshold\"}");
            return result;
        }

        foreach (var feature in features.EnumerateObject())
        {
            var at = $"monitoring.features.{ClientText.Quote(feature.Name)}";
            if (feature.Value.ValueKind != JsonValueKind.Object)
            {
                errors.Add($"'{at}' must be an object");
                continue;
            }

            var name = ConfigJson.String(feature.Value, "method", errors, at);
            DriftMethod? method = null;
            if (name is not null)
            {
                if (DriftMethods.TryParse(name, out var parsed))
                {
                    method = parsed;
                }
                else
                {
                    errors.Add($"'{at}.method' must be ks, wasserstein, psi, jensenshannon, chisquare or z, not '{ClientText.Quote(name)}'");
                }
            }

            var threshold = ConfigJson.Double(feature.Value, "threshold", errors, at);
            if (threshold is <= 0)
            {
                errors.Add($"'{at}.threshold' must be positive");
            }

            result[feature.Name] = new FeatureDriftOptions(method, threshold);
        }

        return result;
    }
}
