using System.Text.Json;

namespace Turbine.Monitoring.Quality;

/// <summary>What happens to a request that breaks a data-quality rule.</summary>
public enum QualityPolicy
{
    /// <summary>Refused with 400, naming the rule and the value.</summary>
    Reject,

    /// <summary>Answered, and counted against the rule.</summary>
    Flag,

    /// <summary>Answered, counted, and logged (at most once a second per rule).</summary>
    Log,
}

/// <summary>One configured rule: a range, a set of allowed values, or no missing values, for one input feature.</summary>
/// <param name="Feature">The input feature (<c>x</c> or <c>x[2]</c>).</param>
/// <param name="Min">The smallest value allowed.</param>
/// <param name="Max">The largest value allowed.</param>
/// <param name="Allowed">The values allowed (text, or numbers written as text).</param>
/// <param name="ForbidMissing">Whether NaN, infinite or empty values break the rule.</param>
/// <param name="Policy">What a break does.</param>
public sealed record QualityRule(string Feature, double? Min, double? Max, IReadOnlyList<string>? Allowed, bool ForbidMissing, QualityPolicy Policy);

/// <summary>
/// The <c>monitoring.quality</c> section: explicit rules, and rules derived from the reference profile (each input
/// feature's observed range, widened by a tolerance; its categories; no missing values where the reference had none).
/// </summary>
public sealed record QualitySettings
{
    /// <summary>No rules.</summary>
    public static QualitySettings None { get; } = new();

    /// <summary>The explicit rules.</summary>
    public IReadOnlyList<QualityRule> Rules { get; init; } = [];

    /// <summary>The policy of the rules derived from the profile; null derives none.</summary>
    public QualityPolicy? FromProfile { get; init; }

    /// <summary>How far beyond the reference's range a value may be, as a share of the range.</summary>
    public double Tolerance { get; init; } = 0.1;

    /// <summary>Reads the section; problems go to <paramref name="errors"/>.</summary>
    public static QualitySettings Read(JsonElement section, List<string> errors)
    {
        ArgumentNullException.ThrowIfNull(errors);
        const string At = "monitoring.quality";
        if (section.ValueKind != JsonValueKind.Object)
        {
            errors.Add($"'{At}' must be an object");
            return None;
        }

        var settings = new QualitySettings
        {
            FromProfile = ConfigJson.String(section, "from_profile", errors, At) is { } policy ? Policy(policy, $"{At}.from_profile", errors) : null,
            Tolerance = ConfigJson.Double(section, "tolerance", errors, At) ?? None.Tolerance,
            Rules = section.TryGetProperty("rules", out var rules) ? ReadRules(rules, errors) : [],
        };
        if (settings.Tolerance is < 0 or > 100)
        {
            errors.Add($"'{At}.tolerance' must be between 0 and 100");
        }

        return settings;
    }

    private static List<QualityRule> ReadRules(JsonElement rules, List<string> errors)
    {
        var result = new List<QualityRule>();
        if (rules.ValueKind != JsonValueKind.Array)
        {
            errors.Add("'monitoring.quality.rules' must be an array");
            return result;
        }

        var index = 0;
        foreach (var rule in rules.EnumerateArray())
        {
            var at = $"monitoring.quality.rules[{index++}]";
            if (rule.ValueKind != JsonValueKind.Object)
            {
                errors.Add($"'{at}' must be an object");
                continue;
            }

            var feature = ConfigJson.String(rule, "feature", errors, at);
            var min = ConfigJson.Double(rule, "min", errors, at);
            var max = ConfigJson.Double(rule, "max", errors, at);
            var missing = ConfigJson.String(rule, "missing", errors, at);
            var allowed = rule.TryGetProperty("allowed", out var values) ? Allowed(values, $"{at}.allowed", errors) : null;
            var policy = ConfigJson.String(rule, "policy", errors, at) is { } name ? Policy(name, $"{at}.policy", errors) : QualityPolicy.Reject;
            if (string.IsNullOrEmpty(feature))
            {
                errors.Add($"'{at}' needs a 'feature'");
                continue;
            }

            if (missing is not (null or "allow" or "forbid"))
            {
                errors.Add($"'{at}.missing' must be allow or forbid");
            }

            if (min is null && max is null && allowed is null && missing != "forbid")
            {
                errors.Add($"'{at}' must set min, max, allowed or \"missing\": \"forbid\"");
            }

            if (min > max)
            {
                errors.Add($"'{at}': min is above max");
            }

            result.Add(new QualityRule(feature, min, max, allowed, missing == "forbid", policy ?? QualityPolicy.Reject));
        }

        return result;
    }

    private static List<string>? Allowed(JsonElement values, string at, List<string> errors)
    {
        if (values.ValueKind != JsonValueKind.Array || values.GetArrayLength() == 0)
        {
            errors.Add($"'{at}' must be a non-empty array of strings or numbers");
            return null;
        }

        var allowed = new List<string>();
        foreach (var value in values.EnumerateArray())
        {
            if (value.ValueKind == JsonValueKind.String)
            {
                allowed.Add(value.GetString()!);
            }
            else if (value.ValueKind == JsonValueKind.Number && value.TryGetDouble(out var number))
            {
                allowed.Add(number.ToString("R", System.Globalization.CultureInfo.InvariantCulture));
            }
            else
            {
                errors.Add($"'{at}' must hold strings or numbers");
                return null;
            }
        }

        return allowed;
    }

    private static QualityPolicy? Policy(string name, string at, List<string> errors)
    {
        switch (name)
        {
            case "reject":
                return QualityPolicy.Reject;
            case "flag":
                return QualityPolicy.Flag;
            case "log":
                return QualityPolicy.Log;
            default:
                errors.Add($"'{at}' must be reject, flag or log, not '{ClientText.Quote(name)}'");
                return null;
        }
    }
}
