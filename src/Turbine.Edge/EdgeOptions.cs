using System.Globalization;
using System.Net;

namespace Turbine.Edge;

/// <summary>
/// What the edge server runs with, from its command line (no configuration binding: it reflects, and the edge build
/// is compiled ahead of time): the repository, where it listens, and how many threads the models may use.
/// </summary>
internal sealed record EdgeOptions(string Repository, IPAddress Host, int HttpPort, int Threads, long MaxRequestBytes, bool AllowRoot)
{
    public const string Usage = "usage: turbine-edge --model-repository DIR [--host 127.0.0.1] [--http-port 8000] [--threads N] [--max-request-bytes 67108864] [--allow-root]\n       turbine-edge agent provision|run|status|rollback ... (turbine-edge agent for its usage)";

    /// <summary>Reads the arguments; null with <paramref name="error"/> set when they do not make sense.</summary>
    public static EdgeOptions? Parse(IReadOnlyList<string> args, out string? error)
    {
        string? repository = null;
        var host = IPAddress.Loopback;
        int port = 8000, threads = Math.Min(Environment.ProcessorCount, 4);
        long maxRequest = 64L << 20;
        var allowRoot = false;
        error = null;
        for (var i = 0; i < args.Count; i++)
        {
            if (args[i] == "--allow-root")
            {
                allowRoot = true;
                continue;
            }

            var value = i + 1 < args.Count ? args[i + 1] : null;
            var ok = args[i] switch
            {
                "--model-repository" or "-m" => (repository = value) is not null,
                "--host" => IPAddress.TryParse(value, out host!),
                "--http-port" => int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out port) && port is >= 0 and <= 65535,
                "--threads" => int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out threads) && threads is >= 1 and <= 1024,
                "--max-request-bytes" => long.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out maxRequest) && maxRequest >= 1024,
                _ => false,
            };
            if (!ok)
            {
                error = value is null || !args[i].StartsWith("--", StringComparison.Ordinal) && args[i] != "-m"
                    ? $"unknown or incomplete argument '{args[i]}'"
                    : $"'{value}' is not a valid value for {args[i]}";
                return null;
            }

            i++;
        }

        if (repository is null || !Directory.Exists(repository))
        {
            error = repository is null ? "--model-repository is required" : $"the model repository '{repository}' does not exist";
            return null;
        }

        return new EdgeOptions(Path.GetFullPath(repository), host, port, threads, maxRequest, allowRoot);
    }
}
