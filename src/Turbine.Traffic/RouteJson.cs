using System.Text.Json;
using Turbine.Core.Repository;

namespace Turbine.Traffic;

/// <summary>
/// Reads and writes routes as JSON, the same form in a request body and in the state folder:
/// <c>{"name":"fraud","variants":[{"model":"fraud_a","version":"2","weight":90},{"model":"fraud_b","weight":10}],"sticky_parameter":"user_id"}</c>.
/// Reading validates everything a route must satisfy on its own (names, weights, counts).
/// </summary>
public static class RouteJson
{
    /// <summary>Most variants a route may have.</summary>
    public const int MaxVariants = 16;

    /// <summary>Reads a route; <paramref name="name"/> (from the URL) wins over, and must agree with, any name in the body.</summary>
    public static InferenceError? Read(ReadOnlySpan<byte> json, string name, int maxDepth, out RouteDefinition? route)
    {
        route = null;
        if (!ModelNames.IsValid(name))
        {
            return InferenceError.Invalid($"'{ClientText.Quote(name)}' is not a valid route name");
        }

        try
        {
            // Comments and trailing commas are allowed, as in config.json: routes are written by hand.
            using var document = JsonDocument.Parse(json.ToArray(), new JsonDocumentOptions { MaxDepth = maxDepth, CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true });
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                return InferenceError.Invalid("a route must be a JSON object with 'variants'");
            }

            if (root.TryGetProperty("name", out var named) && (named.ValueKind != JsonValueKind.String || named.GetString() != name))
            {
                return InferenceError.Invalid($"the body names another route than '{name}'");
            }

            if (!root.TryGetProperty("variants", out var variants) || variants.ValueKind != JsonValueKind.Array ||
                variants.GetArrayLength() is 0 or > MaxVariants)
            {
                return InferenceError.Invalid($"'variants' must be an array of 1 to {MaxVariants} variants");
            }

            var list = new List<RouteVariant>();
            foreach (var variant in variants.EnumerateArray())
            {
                var error = ReadVariant(variant, list.Count, out var parsed);
                if (error is not null)
                {
                    return error;
                }

                list.Add(parsed!);
            }

            if (list.Sum(v => v.Weight) <= 0)
            {
                return InferenceError.Invalid("at least one variant needs a positive weight");
            }

            if (list.Select(v => v.Name).Distinct(StringComparer.Ordinal).Count() != list.Count)
            {
                return InferenceError.Invalid("a variant (model and version) appears more than once");
            }

            string? sticky = null;
            if (root.TryGetProperty("sticky_parameter", out var stickyElement) && stickyElement.ValueKind != JsonValueKind.Null)
            {
                sticky = stickyElement.ValueKind == JsonValueKind.String ? stickyElement.GetString() : null;
                if (sticky is null || !ModelNames.IsValid(sticky))
                {
                    return InferenceError.Invalid("'sticky_parameter' must name a request parameter (letters, digits, '.', '_', '-')");
                }
            }

            string? stickyHeader = null;
            if (root.TryGetProperty("sticky_header", out var headerElement) && headerElement.ValueKind != JsonValueKind.Null)
            {
                stickyHeader = headerElement.ValueKind == JsonValueKind.String ? headerElement.GetString() : null;
                if (stickyHeader is not { Length: > 0 and <= 64 } || !stickyHeader.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_'))
                {
                    return InferenceError.Invalid("'sticky_header' must name a header: 1 to 64 letters, digits, '-' or '_'");
                }
            }

            ShadowTarget? shadow = null;
            if (root.TryGetProperty("shadow", out var shadowElement) && shadowElement.ValueKind != JsonValueKind.Null)
            {
                var shadowError = ReadVariant(shadowElement, 0, out var target);
                var share = shadowElement.TryGetProperty("share", out var shareElement) && shareElement.ValueKind == JsonValueKind.Number ? shareElement.GetDouble() : double.NaN;
                var maxCpu = Number(shadowElement, "max_cpu", ShadowTarget.DefaultMaxCpu);
                if (shadowError is not null || !(share is >= 0 and <= 1) || !(maxCpu is > 0 and <= 1))
                {
                    return InferenceError.Invalid("'shadow' needs a valid 'model', an optional 'version', a 'share' from 0 to 1 and an optional 'max_cpu' in (0, 1]");
                }

                shadow = new ShadowTarget(target!.Model, target.Version, share, maxCpu);
            }

            RouteResilience? resilience = null;
            if (root.TryGetProperty("resilience", out var resilienceElement) && resilienceElement.ValueKind != JsonValueKind.Null)
            {
                var resilienceError = ReadResilience(resilienceElement, out resilience);
                if (resilienceError is not null)
                {
                    return resilienceError;
                }
            }

            Canary.CanaryPlan? canary = null;
            if (root.TryGetProperty("canary", out var canaryElement) && canaryElement.ValueKind != JsonValueKind.Null)
            {
                var canaryError = list.Count != 2
                    ? InferenceError.Invalid("a route with a 'canary' needs exactly two variants: the baseline first, the canary second")
                    : ReadCanary(canaryElement, out canary);
                if (canaryError is not null)
                {
                    return canaryError;
                }
            }

            route = new RouteDefinition(name, list, sticky, shadow, resilience, canary, stickyHeader);
            return null;
        }
        catch (JsonException)
        {
            return InferenceError.Invalid("the route is not valid JSON");
        }
    }

    /// <summary>Reads an operator's rollout command body: empty, or <c>{"reason": "..."}</c> (up to 500 characters) for the audit log.</summary>
    public static InferenceError? ReadReason(ReadOnlySpan<byte> json, int maxDepth, out string? reason)
    {
        reason = null;
        if (json.IsEmpty)
        {
            return null;
        }

        try
        {
            using var document = JsonDocument.Parse(json.ToArray(), new JsonDocumentOptions { MaxDepth = maxDepth });
            if (document.RootElement.ValueKind != JsonValueKind.Object)
            {
                return InferenceError.Invalid("a rollout command body must be a JSON object, like {\"reason\": \"...\"}");
            }

            if (document.RootElement.TryGetProperty("reason", out var element) && element.ValueKind != JsonValueKind.Null)
            {
                reason = element.ValueKind == JsonValueKind.String ? element.GetString() : null;
                if (reason is null || reason.Length > 500)
                {
                    return InferenceError.Invalid("'reason' must be a string of up to 500 characters");
                }
            }

            return null;
        }
        catch (JsonException)
        {
            return InferenceError.Invalid("the rollout command body is not valid JSON");
        }
    }

    public static void Write(Utf8JsonWriter writer, RouteDefinition route)
    {
        ArgumentNullException.ThrowIfNull(writer);
        ArgumentNullException.ThrowIfNull(route);
        writer.WriteStartObject();
        writer.WriteString("name", route.Name);
        writer.WriteStartArray("variants");
        foreach (var variant in route.Variants)
        {
            writer.WriteStartObject();
            WriteTarget(writer, variant.Model, variant.Version);
            writer.WriteNumber("weight", variant.Weight);
            writer.WriteEndObject();
        }

        writer.WriteEndArray();
        if (route.StickyParameter is not null)
        {
            writer.WriteString("sticky_parameter", route.StickyParameter);
        }

        if (route.StickyHeader is not null)
        {
            writer.WriteString("sticky_header", route.StickyHeader);
        }

        if (route.Shadow is { } shadow)
        {
            writer.WriteStartObject("shadow");
            WriteTarget(writer, shadow.Model, shadow.Version);
            writer.WriteNumber("share", shadow.Share);
            writer.WriteNumber("max_cpu", shadow.MaxCpu);
            writer.WriteEndObject();
        }

        if (route.Resilience is { } resilience)
        {
            WriteResilience(writer, resilience);
        }

        if (route.Canary is { } canary)
        {
            WriteCanary(writer, canary);
        }

        writer.WriteEndObject();
    }

    private static InferenceError? ReadResilience(JsonElement element, out RouteResilience? resilience)
    {
        resilience = null;
        if (element.ValueKind != JsonValueKind.Object)
        {
            return InferenceError.Invalid("'resilience' must be an object");
        }

        var timeout = Number(element, "timeout_ms", 0);
        var retries = Number(element, "retries", 0);
        var concurrency = Number(element, "max_concurrency", 0);
        if (!(timeout == 0 || timeout is >= 10 and <= 600_000) || retries is < 0 or > 3 || retries != Math.Floor(retries) ||
            concurrency is < 0 or > 100_000 || concurrency != Math.Floor(concurrency))
        {
            return InferenceError.Invalid("'resilience' needs timeout_ms 0 or 10 to 600000, retries 0 to 3, max_concurrency 0 or more");
        }

        CircuitBreakerSettings? breaker = null;
        if (element.TryGetProperty("circuit_breaker", out var breakerElement) && breakerElement.ValueKind == JsonValueKind.Object)
        {
            breaker = new CircuitBreakerSettings(
                Number(breakerElement, "failure_ratio", 0.5), (int)Number(breakerElement, "minimum_throughput", 10),
                Number(breakerElement, "sampling_duration_s", 10), Number(breakerElement, "break_duration_s", 5));
            if (breaker.FailureRatio is <= 0 or > 1 || breaker.MinimumThroughput < 2 || breaker.SamplingSeconds is < 0.5 or > 86_400 || breaker.BreakSeconds is < 0.5 or > 86_400)
            {
                return InferenceError.Invalid("'circuit_breaker' needs failure_ratio in (0, 1], minimum_throughput 2 or more, sampling_duration_s and break_duration_s from 0.5");
            }
        }

        var fallbacks = new List<RouteVariant>();
        if (element.TryGetProperty("fallback", out var fallbackElement) && fallbackElement.ValueKind == JsonValueKind.Array)
        {
            foreach (var fallback in fallbackElement.EnumerateArray())
            {
                var error = ReadVariant(fallback, fallbacks.Count, out var target);
                if (error is not null || fallbacks.Count == MaxVariants)
                {
                    return InferenceError.Invalid($"'resilience.fallback' must list up to {MaxVariants} targets with a valid 'model' and an optional 'version'");
                }

                fallbacks.Add(target! with { Weight = 0 });
            }
        }

        IReadOnlyList<FixedTensor>? defaultResponse = null;
        if (element.TryGetProperty("default_response", out var defaultElement) && defaultElement.ValueKind != JsonValueKind.Null &&
            FixedResponse.Read(defaultElement, out defaultResponse) is { } defaultError)
        {
            return defaultError;
        }

        RouteHedge? hedge = null;
        if (element.TryGetProperty("hedge", out var hedgeElement) && hedgeElement.ValueKind != JsonValueKind.Null && ReadHedge(hedgeElement, out hedge) is { } hedgeError)
        {
            return hedgeError;
        }

        resilience = new RouteResilience(timeout, (int)retries, (int)concurrency, breaker, fallbacks, defaultResponse, hedge);
        return null;
    }

    private static InferenceError? ReadHedge(JsonElement element, out RouteHedge? hedge)
    {
        hedge = null;
        var percentile = element.ValueKind == JsonValueKind.Object ? Number(element, "after_percentile", 95) : double.NaN;
        var minimum = element.ValueKind == JsonValueKind.Object ? Number(element, "min_ms", 10) : double.NaN;
        if (element.ValueKind != JsonValueKind.Object || ReadVariant(element, 0, out var target) is not null || percentile is not (>= 50 and <= 99.9) || minimum is not (>= 1 and <= 60_000))
        {
            return InferenceError.Invalid("'resilience.hedge' needs a valid 'model' (and an optional 'version'), after_percentile from 50 to 99.9 and min_ms from 1 to 60000");
        }

        hedge = new RouteHedge(target! with { Weight = 0 }, percentile, minimum);
        return null;
    }

    /// <summary>Most steps a rollout may have.</summary>
    private const int MaxCanarySteps = 20;

    private static InferenceError? ReadCanary(JsonElement element, out Canary.CanaryPlan? plan)
    {
        plan = null;
        const string Rules = "'canary' needs 'steps' (1 to 20 rising percentages in (0, 100]), min_step_duration_s 0 to 604800, " +
            "min_step_requests 0 to 1e9, and optional gates max_error_rate and max_disagreement in [0, 1] and max_p99_ms above 0";
        if (element.ValueKind != JsonValueKind.Object || !element.TryGetProperty("steps", out var stepsElement) ||
            stepsElement.ValueKind != JsonValueKind.Array || stepsElement.GetArrayLength() is 0 or > MaxCanarySteps)
        {
            return InferenceError.Invalid(Rules);
        }

        var steps = new List<double>();
        foreach (var step in stepsElement.EnumerateArray())
        {
            var percent = step.ValueKind == JsonValueKind.Number && step.TryGetDouble(out var value) ? value : double.NaN;
            if (!(percent > 0 && percent <= 100) || (steps.Count > 0 && percent <= steps[^1]))
            {
                return InferenceError.Invalid(Rules);
            }

            steps.Add(percent);
        }

        var seconds = Number(element, "min_step_duration_s", 60);
        var requests = Number(element, "min_step_requests", 100);
        double? maxErrors = Optional(element, "max_error_rate");
        double? maxP99 = Optional(element, "max_p99_ms");
        double? maxDisagreement = Optional(element, "max_disagreement");
        if (!(seconds is >= 0 and <= 604_800) || !(requests is >= 0 and <= 1e9) || requests != Math.Floor(requests) ||
            maxErrors is not (null or (>= 0 and <= 1)) || maxP99 is not (null or (> 0 and <= 3_600_000)) || maxDisagreement is not (null or (>= 0 and <= 1)))
        {
            return InferenceError.Invalid(Rules);
        }

        plan = new Canary.CanaryPlan(steps, seconds, (long)requests, maxErrors, maxP99, maxDisagreement);
        return null;
    }

    /// <summary>A number that may be left out (null) but, when present, must be finite (NaN otherwise, which fails every range).</summary>
    private static double? Optional(JsonElement element, string name) =>
        element.TryGetProperty(name, out var value) && value.ValueKind != JsonValueKind.Null ? Number(element, name, double.NaN) : null;

    private static void WriteCanary(Utf8JsonWriter writer, Canary.CanaryPlan plan)
    {
        writer.WriteStartObject("canary");
        writer.WriteStartArray("steps");
        foreach (var step in plan.Steps)
        {
            writer.WriteNumberValue(step);
        }

        writer.WriteEndArray();
        writer.WriteNumber("min_step_duration_s", plan.MinStepSeconds);
        writer.WriteNumber("min_step_requests", plan.MinStepRequests);
        WriteOptional(writer, "max_error_rate", plan.MaxErrorRate);
        WriteOptional(writer, "max_p99_ms", plan.MaxP99Milliseconds);
        WriteOptional(writer, "max_disagreement", plan.MaxDisagreement);
        writer.WriteEndObject();
    }

    private static void WriteOptional(Utf8JsonWriter writer, string name, double? value)
    {
        if (value is { } number)
        {
            writer.WriteNumber(name, number);
        }
    }

    private static double Number(JsonElement element, string name, double fallback) =>
        element.TryGetProperty(name, out var value) ? (value.ValueKind == JsonValueKind.Number && value.TryGetDouble(out var number) && double.IsFinite(number) ? number : double.NaN) : fallback;

    private static void WriteResilience(Utf8JsonWriter writer, RouteResilience resilience)
    {
        writer.WriteStartObject("resilience");
        writer.WriteNumber("timeout_ms", resilience.TimeoutMilliseconds);
        writer.WriteNumber("retries", resilience.Retries);
        writer.WriteNumber("max_concurrency", resilience.MaxConcurrency);
        if (resilience.CircuitBreaker is { } breaker)
        {
            writer.WriteStartObject("circuit_breaker");
            writer.WriteNumber("failure_ratio", breaker.FailureRatio);
            writer.WriteNumber("minimum_throughput", breaker.MinimumThroughput);
            writer.WriteNumber("sampling_duration_s", breaker.SamplingSeconds);
            writer.WriteNumber("break_duration_s", breaker.BreakSeconds);
            writer.WriteEndObject();
        }

        writer.WriteStartArray("fallback");
        foreach (var fallback in resilience.Fallbacks)
        {
            writer.WriteStartObject();
            WriteTarget(writer, fallback.Model, fallback.Version);
            writer.WriteEndObject();
        }

        writer.WriteEndArray();
        if (resilience.DefaultResponse is { } defaultResponse)
        {
            FixedResponse.Write(writer, defaultResponse);
        }

        if (resilience.Hedge is { } hedge)
        {
            writer.WriteStartObject("hedge");
            WriteTarget(writer, hedge.Target.Model, hedge.Target.Version);
            writer.WriteNumber("after_percentile", hedge.AfterPercentile);
            writer.WriteNumber("min_ms", hedge.MinMilliseconds);
            writer.WriteEndObject();
        }

        writer.WriteEndObject();
    }

    private static void WriteTarget(Utf8JsonWriter writer, string model, string? version)
    {
        writer.WriteString("model", model);
        if (version is not null)
        {
            writer.WriteString("version", version);
        }
    }

    private static InferenceError? ReadVariant(JsonElement variant, int index, out RouteVariant? parsed)
    {
        parsed = null;
        var error = ModelReferenceJson.Read(variant, $"'variants[{index}]'", out var model, out var version);
        if (error is not null)
        {
            return error;
        }

        var where = $"variants[{index}]";
        var weight = 1.0;
        if (variant.TryGetProperty("weight", out var weightElement) &&
            (weightElement.ValueKind != JsonValueKind.Number || !weightElement.TryGetDouble(out weight) || !double.IsFinite(weight) || weight < 0 || weight > 1e9))
        {
            return InferenceError.Invalid($"'{where}.weight' must be a number from 0 to 1e9");
        }

        parsed = new RouteVariant(model!, version, weight);
        return null;
    }
}
