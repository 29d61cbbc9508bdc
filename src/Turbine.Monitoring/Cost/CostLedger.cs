using System.Collections.Concurrent;
using Turbine.Core.Observation;

namespace Turbine.Monitoring.Cost;

/// <summary>
/// Attributes the process's measured CPU time to who used it. Each model version's execution time comes from its
/// statistics (every execution: clients', shadows', pipeline steps', warm-ups'); each request's share of execution
/// time comes with its usage record, under its route arm, batch job and API key. At each settlement the CPU time the
/// process used since the last one is split among the versions by their execution time in the interval, and within
/// each other dimension by its consumers' execution time over the same total; what no one used (an idle process, or
/// requests outside a dimension) is kept as that dimension's remainder, so every dimension sums to the measured CPU
/// time exactly. GPU time is a version's execution time on a GPU instance.
/// </summary>
public sealed class CostLedger : IUsageMeter
{
    /// <summary>Distinct jobs tracked; later ones are added up under <see cref="OtherJobs"/>.</summary>
    public const int MaxJobs = 10_000;

    /// <summary>The entry jobs beyond <see cref="MaxJobs"/> are added to.</summary>
    public const string OtherJobs = "(other)";

    private readonly Lock _gate = new();
    private readonly Func<IEnumerable<VersionCompute>> _versions;
    private readonly Func<TimeSpan> _cpuTime;
    private readonly ConcurrentDictionary<(string Route, string Variant), CostAccount> _arms = new();
    private readonly ConcurrentDictionary<string, CostAccount> _jobs = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, CostAccount> _apiKeys = new(StringComparer.Ordinal);
    private readonly Dictionary<(string Model, string Version), VersionAccount> _versionAccounts = [];
    private readonly Remainders _remainders = new();
    private TimeSpan _lastCpu;
    private double _cpuSeconds;

    /// <summary>Creates the ledger.</summary>
    /// <param name="options">The prices.</param>
    /// <param name="versions">The loaded versions' cumulative execution time.</param>
    /// <param name="cpuTime">The process's CPU time so far (the operating system's by default).</param>
    public CostLedger(CostOptions options, Func<IEnumerable<VersionCompute>> versions, Func<TimeSpan>? cpuTime = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(versions);
        Options = options;
        _versions = versions;
        _cpuTime = cpuTime ?? ProcessCpuTime;
        _lastCpu = _cpuTime();
    }

    /// <summary>The prices.</summary>
    public CostOptions Options { get; }

    /// <inheritdoc />
    public void Record(in InferenceUsage usage)
    {
        if (usage.Route is { } route)
        {
            _arms.GetOrAdd((route, usage.Variant ?? string.Empty), static _ => new CostAccount()).Add(usage.ComputeNanoseconds);
        }

        if (usage.Account is not { } account)
        {
            return;
        }

        if (account.Job is { } job)
        {
            var entry = _jobs.TryGetValue(job, out var known) ? known : _jobs.Count < MaxJobs ? _jobs.GetOrAdd(job, static _ => new CostAccount()) : _jobs.GetOrAdd(OtherJobs, static _ => new CostAccount());
            entry.Add(usage.ComputeNanoseconds);
        }

        if (account.ApiKey is { } key)
        {
            _apiKeys.GetOrAdd(key, static _ => new CostAccount()).Add(usage.ComputeNanoseconds);
        }
    }

    /// <summary>Splits the CPU time used since the last settlement among the consumers.</summary>
    public void Settle()
    {
        lock (_gate)
        {
            var cpu = _cpuTime();
            var delta = Math.Max((cpu - _lastCpu).TotalSeconds, 0);
            _lastCpu = cpu;
            _cpuSeconds += delta;
            long executed = 0;
            var moved = new List<(VersionAccount Account, long Nanoseconds)>();
            foreach (var version in _versions())
            {
                if (!_versionAccounts.TryGetValue((version.Model, version.Version), out var account))
                {
                    account = new VersionAccount();
                    _versionAccounts[(version.Model, version.Version)] = account;
                }

                var step = Math.Max(version.ComputeNanoseconds - account.LastNanoseconds, 0);
                account.LastNanoseconds = version.ComputeNanoseconds;
                account.Inferences = version.Inferences;
                account.GpuSeconds += version.OnGpu ? step / 1e9 : 0;
                executed += step;
                moved.Add((account, step));
            }

            foreach (var (account, step) in moved)
            {
                account.CpuSeconds += executed == 0 ? 0 : delta * step / executed;
            }

            _remainders.Idle += executed == 0 ? delta : 0;
            _remainders.NoRoute += Split(_arms.Values, delta, executed);
            _remainders.NoJob += Split(_jobs.Values, delta, executed);
            _remainders.NoApiKey += Split(_apiKeys.Values, delta, executed);
        }
    }

    /// <summary>Settles, then reports every consumer's figures.</summary>
    public CostReport Report()
    {
        Settle();
        lock (_gate)
        {
            return new CostReport(
                Options.Currency, Options.CoreHourPrice, Options.GpuHourPrice, _cpuSeconds, _remainders.Idle, _remainders.NoRoute, _remainders.NoJob, _remainders.NoApiKey,
                [.. _versionAccounts.OrderBy(v => v.Key.Model, StringComparer.Ordinal).ThenBy(v => v.Key.Version, StringComparer.Ordinal)
                    .Select(v => new CostLine(v.Key.Model, v.Key.Version, v.Value.Inferences, v.Value.CpuSeconds, v.Value.GpuSeconds, Options.Price(v.Value.CpuSeconds, v.Value.GpuSeconds)))],
                Lines(_arms.Select(a => (a.Key.Route, a.Key.Variant, a.Value))),
                Lines(_jobs.Select(j => (j.Key, string.Empty, j.Value))),
                Lines(_apiKeys.Select(k => (k.Key, string.Empty, k.Value))));
        }
    }

    /// <summary>
    /// Gives each account its share of <paramref name="delta"/> by its execution time over <paramref name="executed"/>
    /// (the versions' total, or the accounts' own when it is larger, since both are measured separately); returns what
    /// is left for no one in this dimension.
    /// </summary>
    private static double Split(ICollection<CostAccount> accounts, double delta, long executed)
    {
        var pending = new List<(CostAccount Account, long Nanoseconds)>(accounts.Count);
        long total = 0;
        foreach (var account in accounts)
        {
            var step = account.TakePending();
            pending.Add((account, step));
            total += step;
        }

        var denominator = Math.Max(total, executed);
        var given = 0.0;
        foreach (var (account, step) in pending)
        {
            var share = denominator == 0 ? 0 : delta * step / denominator;
            account.CpuSeconds += share;
            given += share;
        }

        return delta - given;
    }

    private List<CostLine> Lines(IEnumerable<(string Name, string Variant, CostAccount Account)> accounts) =>
        [.. accounts.OrderBy(a => a.Name, StringComparer.Ordinal).ThenBy(a => a.Variant, StringComparer.Ordinal)
            .Select(a => new CostLine(a.Name, a.Variant, a.Account.Requests, a.Account.CpuSeconds, 0, Options.Price(a.Account.CpuSeconds, 0)))];

    private static TimeSpan ProcessCpuTime()
    {
        using var process = System.Diagnostics.Process.GetCurrentProcess();
        return process.TotalProcessorTime;
    }

    private sealed class VersionAccount
    {
        public long LastNanoseconds { get; set; }

        public long Inferences { get; set; }

        public double CpuSeconds { get; set; }

        public double GpuSeconds { get; set; }
    }

    private sealed class Remainders
    {
        public double Idle { get; set; }

        public double NoRoute { get; set; }

        public double NoJob { get; set; }

        public double NoApiKey { get; set; }
    }
}

/// <summary>A loaded version's cumulative execution time, as its statistics count it.</summary>
/// <param name="Model">The model.</param>
/// <param name="Version">The version.</param>
/// <param name="ComputeNanoseconds">Execution time so far.</param>
/// <param name="Inferences">Inferences (rows) so far.</param>
/// <param name="OnGpu">Whether its instances run on a GPU.</param>
public readonly record struct VersionCompute(string Model, string Version, long ComputeNanoseconds, long Inferences, bool OnGpu);

/// <summary>One consumer's requests and execution time since the last settlement, and its CPU time so far.</summary>
internal sealed class CostAccount
{
    private long _pending;
    private long _requests;

    public long Requests => Interlocked.Read(ref _requests);

    /// <summary>Written under the ledger's lock only.</summary>
    public double CpuSeconds { get; set; }

    public void Add(long computeNanoseconds)
    {
        Interlocked.Add(ref _pending, computeNanoseconds);
        Interlocked.Increment(ref _requests);
    }

    public long TakePending() => Interlocked.Exchange(ref _pending, 0);
}
