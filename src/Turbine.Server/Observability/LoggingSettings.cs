using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging;

namespace Turbine.Server.Observability;

/// <summary>
/// Triton's logging extension over .NET logging: <c>log_info</c>, <c>log_warning</c>, <c>log_error</c> and
/// <c>log_verbose_level</c> become the minimum level of the default and Turbine categories (verbose 1: Debug, 2 and
/// up: Trace), <c>log_format</c> <c>ISO8601</c> puts a UTC ISO 8601 timestamp on each console line. Logs go to the
/// console the platform collects, so <c>log_file</c> stays empty. Changes apply at once, through the host's
/// configuration.
/// </summary>
internal sealed class LoggingSettings(RuntimeConfiguration runtime, IConfiguration configuration)
{
    public const string File = "log_file";
    public const string Info = "log_info";
    public const string Warning = "log_warning";
    public const string Error = "log_error";
    public const string Verbose = "log_verbose_level";
    public const string Format = "log_format";

    private const string DefaultLevelKey = "Logging:LogLevel:Default";
    private const string TurbineLevelKey = "Logging:LogLevel:Turbine";
    private const string TimestampKey = "Logging:Console:FormatterOptions:TimestampFormat";
    private const string UtcKey = "Logging:Console:FormatterOptions:UseUtcTimestamp";

    private readonly Lock _gate = new();

    /// <summary>The settings now, as Triton's JSON writes them (strings, booleans and one integer).</summary>
    public IReadOnlyDictionary<string, object> Describe()
    {
        var level = Enum.TryParse<LogLevel>(configuration[DefaultLevelKey], ignoreCase: true, out var parsed) ? parsed : LogLevel.Information;
        return new Dictionary<string, object>
        {
            [File] = "",
            [Info] = level <= LogLevel.Information,
            [Warning] = level <= LogLevel.Warning,
            [Error] = level <= LogLevel.Error,
            [Verbose] = level switch { LogLevel.Trace => 2, LogLevel.Debug => 1, _ => 0 },
            [Format] = configuration[TimestampKey] is null ? "default" : "ISO8601",
        };
    }

    /// <summary>Applies the changed settings; nothing changes when any of them is refused.</summary>
    public InferenceError? Update(IReadOnlyDictionary<string, object> changes)
    {
        ArgumentNullException.ThrowIfNull(changes);
        lock (_gate)
        {
            var now = Describe();
            var merged = new Dictionary<string, object>(now);
            foreach (var (name, value) in changes)
            {
                var expected = now.TryGetValue(name, out var current) ? current.GetType() : null;
                if (expected is null)
                {
                    return InferenceError.Invalid($"unknown logging setting '{ClientText.Quote(name)}'");
                }

                if (value.GetType() != expected)
                {
                    return InferenceError.Invalid($"logging setting '{name}' must be a {(expected == typeof(bool) ? "boolean" : expected == typeof(int) ? "non-negative integer" : "string")}");
                }

                merged[name] = value;
            }

            if (merged[File] is not "")
            {
                return InferenceError.Invalid($"{File} cannot be set: Turbine logs to the console, which the platform collects");
            }

            if (merged[Format] is not ("default" or "ISO8601"))
            {
                return InferenceError.Invalid($"{Format} must be 'default' or 'ISO8601'");
            }

            var (info, warning, error, verbose) = ((bool)merged[Info], (bool)merged[Warning], (bool)merged[Error], (int)merged[Verbose]);
            if ((info && !warning) || (warning && !error) || verbose < 0 || (verbose > 0 && !info))
            {
                return InferenceError.Invalid("Turbine filters logs by a minimum level: turning on a lower severity (verbose, info, warning) needs every higher one on too");
            }

            var level = verbose >= 2 ? LogLevel.Trace : verbose == 1 ? LogLevel.Debug : info ? LogLevel.Information : warning ? LogLevel.Warning : error ? LogLevel.Error : LogLevel.None;
            var iso = merged[Format] is "ISO8601";
            runtime.Apply(new Dictionary<string, string?>
            {
                [DefaultLevelKey] = level.ToString(),
                [TurbineLevelKey] = level.ToString(),
                [TimestampKey] = iso ? "yyyy-MM-ddTHH:mm:ss.fffZ " : null,
                [UtcKey] = iso ? "true" : null,
            });
            return null;
        }
    }
}
