using System.Text.Json;

namespace Turbine.Traffic;

/// <summary>
/// Feedback in, reports out. Feedback is <c>{"request_id": "...", "converted": true}</c> and/or <c>"value": 12.5</c>,
/// attributed to the arm that served that request id (or to <c>"variant"</c> when given). The report gives each arm
/// its requests, conversion rate and mean value with 95% intervals, and compares each arm with the first one (the
/// baseline): two-proportion z-test for rates, Welch's t-test for values.
/// </summary>
public static class RouteReport
{
    /// <summary>
    /// Records feedback on the arm that served a request (by its <c>request_id</c>) or on a named <c>variant</c>. With a
    /// store that replicas share, feedback for an id this replica did not serve goes to the others, and counts where the
    /// id was served.
    /// </summary>
    public static InferenceError? RecordFeedback(CompiledRoute route, ReadOnlySpan<byte> json, int maxDepth)
    {
        ArgumentNullException.ThrowIfNull(route);
        try
        {
            using var document = JsonDocument.Parse(json.ToArray(), new JsonDocumentOptions { MaxDepth = maxDepth });
            var error = Read(route, document.RootElement, out var arm, out var converted, out var value);
            if (error is { Code: StatusCode.NotFound } && arm == UnknownId && route.ForwardsFeedback)
            {
                route.ForwardFeedback(json);
                return null;
            }

            if (error is null)
            {
                Apply(route, arm, converted, value);
            }

            return error;
        }
        catch (JsonException)
        {
            return InferenceError.Invalid("feedback is not valid JSON");
        }
        catch (IOException)
        {
            return InferenceError.Unavailable("the feedback is for a request another replica served, and the state store cannot be reached to hand it on; try again");
        }
    }

    /// <summary>Applies feedback another replica forwarded, when its request id was served here.</summary>
    internal static bool ApplyForwarded(CompiledRoute route, byte[] json, int maxDepth)
    {
        try
        {
            using var document = JsonDocument.Parse(json, new JsonDocumentOptions { MaxDepth = maxDepth });
            if (Read(route, document.RootElement, out var arm, out var converted, out var value) is not null)
            {
                return false;
            }

            Apply(route, arm, converted, value);
            return true;
        }
        catch (JsonException)
        {
            return false;
        }
    }

    /// <summary>What <see cref="Read"/> leaves in its arm when the request id is not one this replica remembers.</summary>
    private const int UnknownId = -2;

    private static InferenceError? Read(CompiledRoute route, JsonElement root, out int arm, out bool? converted, out double? value)
    {
        (arm, converted, value) = (-1, null, null);
        if (root.ValueKind != JsonValueKind.Object)
        {
            return InferenceError.Invalid("feedback must be a JSON object");
        }

        converted = root.TryGetProperty("converted", out var c) && c.ValueKind is JsonValueKind.True or JsonValueKind.False ? c.GetBoolean() : null;
        value = root.TryGetProperty("value", out var v) && v.ValueKind == JsonValueKind.Number && v.TryGetDouble(out var number) && double.IsFinite(number) ? number : null;
        if (converted is null && value is null)
        {
            return InferenceError.Invalid("feedback needs 'converted' (true or false) or a finite numeric 'value'");
        }

        return FindArm(route, root, out arm);
    }

    private static void Apply(CompiledRoute route, int arm, bool? converted, double? value)
    {
        var outcomes = route.Experiment.Arm(arm);
        if (converted is { } yes)
        {
            outcomes.AddConversion(yes);
        }

        if (value is { } measured)
        {
            outcomes.AddValue(measured);
        }
    }

    public static void Write(Utf8JsonWriter writer, CompiledRoute route)
    {
        ArgumentNullException.ThrowIfNull(writer);
        ArgumentNullException.ThrowIfNull(route);
        var variants = route.Definition.Variants;
        var totals = route.Totals();
        var baseline = totals.Arms[0];
        writer.WriteStartObject();
        writer.WriteString("route", route.Definition.Name);
        writer.WriteStartArray("arms");
        for (var i = 0; i < variants.Count; i++)
        {
            var arm = totals.Arms[i];
            writer.WriteStartObject();
            writer.WriteString("variant", variants[i].Name);
            writer.WriteNumber("weight", route.Weight(i));
            writer.WriteNumber("requests", totals.Served[i]);

            var (rateLow, rateHigh) = TwoSampleTests.WilsonInterval(arm.Successes, arm.Trials);
            writer.WriteStartObject("conversions");
            writer.WriteNumber("trials", arm.Trials);
            writer.WriteNumber("successes", arm.Successes);
            WriteNumber(writer, "rate", arm.Trials == 0 ? double.NaN : (double)arm.Successes / arm.Trials);
            WriteNumber(writer, "ci95_low", rateLow);
            WriteNumber(writer, "ci95_high", rateHigh);
            if (i > 0)
            {
                var (z, p) = TwoSampleTests.TwoProportionZ(baseline.Successes, baseline.Trials, arm.Successes, arm.Trials);
                WriteNumber(writer, "z_vs_baseline", z);
                WriteNumber(writer, "p_vs_baseline", p);
            }

            writer.WriteEndObject();

            var (meanLow, meanHigh) = TwoSampleTests.MeanInterval(arm.Count, arm.Mean, arm.Variance);
            writer.WriteStartObject("values");
            writer.WriteNumber("count", arm.Count);
            WriteNumber(writer, "mean", arm.Count == 0 ? double.NaN : arm.Mean);
            WriteNumber(writer, "ci95_low", meanLow);
            WriteNumber(writer, "ci95_high", meanHigh);
            if (i > 0)
            {
                var (t, df, p) = TwoSampleTests.WelchT(baseline.Count, baseline.Mean, baseline.Variance, arm.Count, arm.Mean, arm.Variance);
                WriteNumber(writer, "t_vs_baseline", t);
                WriteNumber(writer, "df", df);
                WriteNumber(writer, "p_vs_baseline", p);
            }

            writer.WriteEndObject();
            writer.WriteEndObject();
        }

        writer.WriteEndArray();
        if (route.Definition.Shadow is { } target)
        {
            var shadow = route.Shadow.Snapshot();
            writer.WriteStartObject("shadow");
            writer.WriteString("variant", target.Name);
            writer.WriteNumber("share", target.Share);
            writer.WriteNumber("mirrored", shadow.Mirrored);
            writer.WriteNumber("dropped", shadow.Dropped);
            writer.WriteNumber("shed", shadow.Shed);
            writer.WriteNumber("failed", shadow.Failed);
            writer.WriteNumber("compared", shadow.Compared);
            writer.WriteNumber("exact_matches", shadow.ExactMatches);
            WriteNumber(writer, "exact_match_rate", shadow.Compared == 0 ? double.NaN : (double)shadow.ExactMatches / shadow.Compared);
            WriteNumber(writer, "max_abs_diff", shadow.MaxAbsDiff);
            WriteNumber(writer, "mean_abs_diff", shadow.MeanAbsDiff);
            WriteNumber(writer, "top1_agreement", shadow.Top1Compared == 0 ? double.NaN : (double)shadow.Top1Agreed / shadow.Top1Compared);
            WriteNumber(writer, "primary_mean_ms", shadow.PrimaryMeanSeconds * 1000);
            WriteNumber(writer, "shadow_mean_ms", shadow.ShadowMeanSeconds * 1000);
            writer.WriteEndObject();
        }

        writer.WriteEndObject();
    }

    private static InferenceError? FindArm(CompiledRoute route, JsonElement root, out int arm)
    {
        arm = -1;
        if (root.TryGetProperty("variant", out var named) && named.ValueKind == JsonValueKind.String)
        {
            var name = named.GetString();
            for (var i = 0; i < route.Definition.Variants.Count; i++)
            {
                if (route.Definition.Variants[i].Name == name)
                {
                    arm = i;
                    return null;
                }
            }

            return InferenceError.NotFound($"route '{route.Definition.Name}' has no variant '{ClientText.Quote(name)}'");
        }

        if (!root.TryGetProperty("request_id", out var id) || id.ValueKind != JsonValueKind.String)
        {
            return InferenceError.Invalid("feedback needs 'request_id' (the id of the response) or 'variant'");
        }

        if (route.Experiment.TryFind(id.GetString()!, out arm))
        {
            return null;
        }

        arm = UnknownId;
        return InferenceError.NotFound($"request id '{ClientText.Quote(id.GetString())}' was not served by route '{route.Definition.Name}' (or is too old to remember)");
    }

    /// <summary>JSON has no NaN or infinity: an undefined figure is written as null.</summary>
    private static void WriteNumber(Utf8JsonWriter writer, string name, double value)
    {
        if (double.IsFinite(value))
        {
            writer.WriteNumber(name, value);
        }
        else
        {
            writer.WriteNull(name);
        }
    }
}
