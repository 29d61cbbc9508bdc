using System.Collections.Concurrent;
using System.Globalization;

namespace Turbine.Core.Observation;

/// <summary>
/// Triton's trace extension over Turbine's OpenTelemetry spans: a global setting and one per model, each with a level
/// (<c>OFF</c> or <c>TIMESTAMPS</c>), a rate (trace one request in N) and a count (how many more to trace; -1: no
/// end). A request is traced when its model's setting (or the global one) says so; OpenTelemetry's own sampler and
/// exporter then apply. Spans go to the OTLP exporter, so Triton's file settings (<c>trace_file</c>,
/// <c>log_frequency</c>) and its <c>TENSORS</c> level are refused rather than accepted and ignored.
/// </summary>
public sealed class TraceSettings
{
    public const string Level = "trace_level";
    public const string Rate = "trace_rate";
    public const string Count = "trace_count";
    public const string LogFrequency = "log_frequency";
    public const string File = "trace_file";
    public const string Mode = "trace_mode";

    private readonly bool _exporting;
    private readonly ConcurrentDictionary<string, Scope> _models = new(StringComparer.Ordinal);
    private volatile Scope _global;

    /// <param name="exporting">Whether spans are exported (tracing is configured): only then may a level other than OFF be set.</param>
    public TraceSettings(bool exporting)
    {
        _exporting = exporting;
        _global = new Scope(new Setting(exporting, 1, -1));
    }

    /// <summary>The setting in effect for <paramref name="model"/> (null: the global one), as Triton's JSON writes it.</summary>
    public IReadOnlyDictionary<string, IReadOnlyList<string>> Describe(string? model)
    {
        var scope = model is not null && _models.TryGetValue(model, out var own) ? own : _global;
        var setting = scope.Setting;
        return new Dictionary<string, IReadOnlyList<string>>
        {
            [Level] = [setting.On ? "TIMESTAMPS" : "OFF"],
            [Rate] = [setting.Rate.ToString(CultureInfo.InvariantCulture)],
            [Count] = [(setting.Count < 0 ? -1 : Math.Max(0, Interlocked.Read(ref scope.Remaining))).ToString(CultureInfo.InvariantCulture)],
            [LogFrequency] = ["0"],
            [File] = [""],
            [Mode] = ["opentelemetry"],
        };
    }

    /// <summary>
    /// Changes the global setting (<paramref name="model"/> null) or a model's. A null value clears the field: a model's
    /// falls back to the global setting, the global one to its default. Nothing changes when any field is refused.
    /// </summary>
    public InferenceError? Update(string? model, IReadOnlyDictionary<string, IReadOnlyList<string>?> changes)
    {
        ArgumentNullException.ThrowIfNull(changes);
        var current = model is not null && _models.TryGetValue(model, out var own) ? own.Setting : _global.Setting;
        var fallback = model is null ? new Setting(_exporting, 1, -1) : _global.Setting;
        var on = current.On;
        var rate = current.Rate;
        var count = current.Count;
        foreach (var (name, values) in changes)
        {
            var error = name switch
            {
                Level => values is null ? Reset(ref on, fallback.On) : ReadLevel(values, out on),
                Rate => values is null ? Reset(ref rate, fallback.Rate) : ReadNumber(name, values, 1, out rate),
                Count => values is null ? Reset(ref count, fallback.Count) : ReadNumber(name, values, -1, out count),
                LogFrequency => values is null || values is ["0"] ? null : Refuse($"{LogFrequency} is not supported: spans go to the OpenTelemetry exporter, not to a file"),
                File => values is null || values is [""] ? null : Refuse($"{File} is not supported: spans go to the OpenTelemetry exporter (Turbine:Tracing:OtlpEndpoint)"),
                Mode => values is null || values is ["opentelemetry"] ? null : Refuse($"{Mode} must be 'opentelemetry': Turbine traces with OpenTelemetry only"),
                _ => Refuse($"unknown trace setting '{ClientText.Quote(name)}'"),
            };
            if (error is not null)
            {
                return error;
            }
        }

        if (on && !_exporting)
        {
            return Refuse("tracing is not configured on this server: start it with Turbine:Tracing:Enabled=true (and an OTLP endpoint)");
        }

        var scope = new Scope(new Setting(on, rate, count));
        if (model is null)
        {
            _global = scope;
        }
        else if (changes.Count > 0 && changes.Values.All(v => v is null))
        {
            _models.TryRemove(model, out _);
        }
        else
        {
            _models[model] = scope;
        }

        return null;
    }

    /// <summary>Whether to trace this request of <paramref name="model"/>: once per rate, while the count lasts.</summary>
    public bool ShouldTrace(string model)
    {
        if (!TurbineTracing.IsEnabled)
        {
            return false;
        }

        var scope = !_models.IsEmpty && _models.TryGetValue(model, out var own) ? own : _global;
        if (!scope.Setting.On || Interlocked.Increment(ref scope.Seen) % scope.Setting.Rate != 0)
        {
            return false;
        }

        return scope.Setting.Count < 0 || Interlocked.Decrement(ref scope.Remaining) >= 0;
    }

    private static InferenceError? ReadLevel(IReadOnlyList<string> values, out bool on)
    {
        on = false;
        switch (values)
        {
            case ["OFF"]:
                return null;
            case ["TIMESTAMPS"]:
                on = true;
                return null;
            default:
                return values.Contains("TENSORS")
                    ? Refuse($"{Level} TENSORS is not supported: spans carry timings and sizes, never tensor contents")
                    : Refuse($"{Level} must be [\"OFF\"] or [\"TIMESTAMPS\"]");
        }
    }

    private static InferenceError? ReadNumber(string name, IReadOnlyList<string> values, long minimum, out long value)
    {
        value = 0;
        return values is [var text] && long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out value) && value >= minimum
            ? null
            : Refuse($"{name} must be one integer of at least {minimum}, as a string");
    }

    private static InferenceError? Reset<T>(ref T field, T value)
    {
        field = value;
        return null;
    }

    private static InferenceError Refuse(string message) => InferenceError.Invalid(message);

    private sealed record Setting(bool On, long Rate, long Count);

    /// <summary>A setting and its counters: requests seen, traces left.</summary>
    private sealed class Scope(Setting setting)
    {
        public long Seen;
        public long Remaining = setting.Count;

        public Setting Setting { get; } = setting;
    }
}
