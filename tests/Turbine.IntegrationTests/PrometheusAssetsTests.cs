using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Turbine.Onnx.Tools;
using Turbine.Onnx.Tools.Samples;
using Turbine.Tests;

namespace Turbine.IntegrationTests;

/// <summary>
/// The alerting rules and Grafana dashboards of deploy/: the rules' own unit tests under promtool, every series the
/// rules and dashboards name exported by a real server, and a real Prometheus (Debian package) scraping that server,
/// evaluating the rules without error, raising the drift alert on drifted traffic, and answering every dashboard query.
/// </summary>
public sealed partial class PrometheusAssetsTests : IAsyncDisposable
{
    private static readonly string Deploy = Path.Combine(CliProcess.RepositoryRoot(), "deploy");
    private static readonly string Rules = Path.Combine(Deploy, "prometheus", "turbine-alerts.yml");

    private readonly FolderServer _server = new();
    private Process? _prometheus;

    public async ValueTask DisposeAsync()
    {
        if (_prometheus is { HasExited: false })
        {
            _prometheus.Kill(entireProcessTree: true);
            await _prometheus.WaitForExitAsync();
        }

        _prometheus?.Dispose();
        await _server.DisposeAsync();
    }

    private static readonly string[] DashboardFiles = ["turbine-server.json", "turbine-llm.json", "turbine-drift.json"];

    public static TheoryData<string> Dashboards() => [.. DashboardFiles];

    [Fact]
    public async Task Alert_rules_pass_promtool_check_and_their_unit_tests()
    {
        var check = await ChildProcess.RunAsync("promtool", ["check", "rules", Rules]);
        var test = await ChildProcess.RunAsync("promtool", ["test", "rules", Path.Combine(Deploy, "prometheus", "turbine-alerts.test.yml")]);

        Assert.True(check.ExitCode == 0, check.Output + check.Errors);
        Assert.Contains("SUCCESS: 12 rules found", check.Output + check.Errors, StringComparison.Ordinal);
        Assert.True(test.ExitCode == 0, test.Output + test.Errors);
    }

    [Theory]
    [MemberData(nameof(Dashboards))]
    public async Task Every_dashboard_query_names_series_turbine_exports(string file)
    {
        await StartServerAsync();
        var exported = ExportedSeries(await _server.MetricsAsync());

        var dashboard = JsonDocument.Parse(await File.ReadAllTextAsync(Path.Combine(Deploy, "grafana", file))).RootElement;
        var queries = Queries(dashboard).ToList();

        Assert.NotEmpty(queries);
        Assert.All(queries, q => Assert.All(MetricNames(q), name => Assert.True(exported.Contains(name), $"{file}: '{name}' in \"{q}\" is not exported")));
        Assert.Equal("prometheus", dashboard.GetProperty("templating").GetProperty("list")[0].GetProperty("query").GetString());
    }

    [Fact]
    public async Task Every_alert_rule_names_series_turbine_exports()
    {
        await StartServerAsync();
        var exported = ExportedSeries(await _server.MetricsAsync());
        var expressions = RuleExpressions(await File.ReadAllTextAsync(Rules)).ToList();

        Assert.Equal(12, expressions.Count);
        Assert.All(expressions, e => Assert.All(MetricNames(e), name => Assert.True(exported.Contains(name) || name.StartsWith("turbine:", StringComparison.Ordinal), $"'{name}' in \"{e}\" is not exported")));
    }

    [Fact]
    public async Task A_real_prometheus_scrapes_the_server_evaluates_the_rules_and_answers_the_dashboards()
    {
        await StartServerAsync();
        var api = await StartPrometheusAsync();
        await MonitoredClassifier.SendAsync(_server, new Random(8), rows: 300, shift: 2.5); // every input feature drifts

        // The drift alert holds for 15 minutes before it fires: pending proves the rule matched the scraped series.
        var alert = await WaitForAsync(api, "api/v1/alerts", root => root.GetProperty("data").GetProperty("alerts").EnumerateArray()
            .Where(a => a.GetProperty("labels").GetProperty("alertname").GetString() == "TurbineDatasetDrift").Select(a => (JsonElement?)a).FirstOrDefault());
        Assert.Equal("clf", alert.GetProperty("labels").GetProperty("model").GetString());
        Assert.Equal("pending", alert.GetProperty("state").GetString());

        var rules = await WaitForAsync(api, "api/v1/rules", root =>
        {
            var all = root.GetProperty("data").GetProperty("groups").EnumerateArray().SelectMany(g => g.GetProperty("rules").EnumerateArray()).ToList();
            return all.Count == 12 && all.All(r => r.TryGetProperty("lastEvaluation", out var last) && !last.GetString()!.StartsWith("0001", StringComparison.Ordinal)) ? (JsonElement?)root : null;
        });
        Assert.All(
            rules.GetProperty("data").GetProperty("groups").EnumerateArray().SelectMany(g => g.GetProperty("rules").EnumerateArray()),
            r => Assert.True(r.GetProperty("health").GetString() == "ok", $"{r.GetProperty("name")}: {(r.TryGetProperty("lastError", out var error) ? error : r)}"));

        foreach (var file in DashboardFiles)
        {
            var dashboard = JsonDocument.Parse(await File.ReadAllTextAsync(Path.Combine(Deploy, "grafana", file))).RootElement;
            foreach (var query in Queries(dashboard))
            {
                var expression = query.Replace("$__rate_interval", "1m", StringComparison.Ordinal).Replace("$model", ".*", StringComparison.Ordinal);
                using var answer = await api.GetAsync($"api/v1/query?query={Uri.EscapeDataString(expression)}");
                Assert.True(answer.StatusCode == HttpStatusCode.OK, $"{file}: {expression}: {await answer.Content.ReadAsStringAsync()}");
            }
        }
    }

    private async Task StartServerAsync()
    {
        await MonitoredClassifier.AddAsync(_server.Folder, """{"max_batch_size": 64, "monitoring": {"probabilities": "probabilities", "window_rows": 300, "latency_target_ms": 100, "quality": {"rules": [{"feature": "features[2]", "min": -20, "max": 20, "policy": "flag"}]}}}""", rows: 500);
        GenerativeModelFolder.Write(Path.Combine(_server.Folder.Root, "gpt", "1"), new DecoderShape(Layers: 1, Context: 64));
        _server.Configuration.Add("--Turbine:Observer:SampleRate=1");
        await _server.StartAsync();
        using var route = await _server.SendAsync(HttpMethod.Put, "v2/routes/checkout", """{"variants":[{"model":"clf"}]}""");
        Assert.Equal(HttpStatusCode.OK, route.StatusCode);
        await MonitoredClassifier.SendAsync(_server, new Random(7), rows: 100, shift: 0);
        using var routed = await _server.Http.PostAsync("v2/models/checkout/infer", MonitoredClassifier.Request([[0, 0, 0]]));
        Assert.Equal(HttpStatusCode.OK, routed.StatusCode);
    }

    private async Task<HttpClient> StartPrometheusAsync()
    {
        var folder = Path.Combine(_server.Folder.Root, "prometheus");
        Directory.CreateDirectory(folder);
        var port = FreePort();
        await File.WriteAllTextAsync(Path.Combine(folder, "prometheus.yml"), $"""
            global:
              scrape_interval: 1s
              evaluation_interval: 1s
            rule_files:
              - {Rules}
            scrape_configs:
              - job_name: turbine
                static_configs:
                  - targets: ['127.0.0.1:{_server.Server.MetricsPort}']
            """);
        _prometheus = Process.Start(new ProcessStartInfo("prometheus",
        [
            $"--config.file={Path.Combine(folder, "prometheus.yml")}", $"--storage.tsdb.path={Path.Combine(folder, "data")}",
            $"--web.listen-address=127.0.0.1:{port}", "--log.level=warn",
        ]) { RedirectStandardOutput = true, RedirectStandardError = true })!;
        _prometheus.OutputDataReceived += (_, _) => { };
        _prometheus.ErrorDataReceived += (_, _) => { };
        _prometheus.BeginOutputReadLine();
        _prometheus.BeginErrorReadLine();
        var api = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}/") };
        await WaitForAsync(api, "api/v1/targets", root => root.GetProperty("data").GetProperty("activeTargets").EnumerateArray()
            .Any(t => t.GetProperty("health").GetString() == "up") ? (JsonElement?)root : null);
        return api;
    }

    /// <summary>Polls a Prometheus API until <paramref name="found"/> finds what it waits for (Prometheus has no push to wait on).</summary>
    private async Task<JsonElement> WaitForAsync(HttpClient api, string path, Func<JsonElement, JsonElement?> found)
    {
        var clock = Stopwatch.StartNew();
        var patience = TimeSpan.FromSeconds(60);
        while (true)
        {
            Assert.False(_prometheus!.HasExited, "prometheus exited");
            try
            {
                using var document = JsonDocument.Parse(await api.GetStringAsync(path));
                if (found(document.RootElement) is { } hit)
                {
                    return hit.Clone();
                }
            }
            catch (HttpRequestException) when (clock.Elapsed < patience)
            {
                // not listening yet
            }

            Assert.True(clock.Elapsed < patience, $"prometheus never answered {path} as expected");
            await Task.Delay(200);
        }
    }

    private static IEnumerable<string> Queries(JsonElement dashboard) =>
        dashboard.GetProperty("panels").EnumerateArray().SelectMany(p => p.GetProperty("targets").EnumerateArray()).Select(t => t.GetProperty("expr").GetString()!);

    /// <summary>The <c>expr</c> of every rule (single-line or a block scalar).</summary>
    private static IEnumerable<string> RuleExpressions(string yaml)
    {
        var lines = yaml.Split('\n');
        for (var i = 0; i < lines.Length; i++)
        {
            var trimmed = lines[i].TrimStart();
            if (!trimmed.StartsWith("expr:", StringComparison.Ordinal))
            {
                continue;
            }

            var inline = trimmed["expr:".Length..].Trim();
            if (inline != "|")
            {
                yield return inline;
                continue;
            }

            var indent = lines[i].Length - trimmed.Length;
            var block = new StringBuilder();
            while (i + 1 < lines.Length && (lines[i + 1].Trim().Length == 0 || lines[i + 1].Length - lines[i + 1].TrimStart().Length > indent))
            {
                block.Append(lines[++i].Trim()).Append(' ');
            }

            yield return block.ToString();
        }
    }

    /// <summary>The metric names a PromQL expression reads: identifiers that are not functions, keywords, label names or label values.</summary>
    private static IEnumerable<string> MetricNames(string expression)
    {
        var stripped = Quoted().Replace(expression, "\"\"");
        stripped = Grouping().Replace(stripped, string.Empty);
        stripped = Matchers().Replace(stripped, string.Empty);
        stripped = Numbers().Replace(stripped, " ");
        foreach (Match match in Identifier().Matches(stripped))
        {
            var name = match.Value;
            var rest = stripped.AsSpan(match.Index + name.Length).TrimStart();
            if ((rest.Length > 0 && rest[0] == '(') || Keywords.Contains(name) || name.StartsWith('$'))
            {
                continue;
            }

            yield return name;
        }
    }

    private static readonly HashSet<string> Keywords = ["by", "without", "on", "ignoring", "group_left", "group_right", "offset", "bool", "and", "or", "unless", "inf", "nan", "e"];

    [GeneratedRegex("\"[^\"]*\"")]
    private static partial Regex Quoted();

    [GeneratedRegex(@"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)")]
    private static partial Regex Grouping();

    [GeneratedRegex(@"\{[^}]*\}|\[[^\]]*\]")]
    private static partial Regex Matchers();

    [GeneratedRegex(@"(?<![A-Za-z0-9_:])[0-9][A-Za-z0-9_.+]*")]
    private static partial Regex Numbers();

    [GeneratedRegex(@"\$?[A-Za-z_:][A-Za-z0-9_:]*")]
    private static partial Regex Identifier();

    /// <summary>The series names of an exposition: each family's name, and a histogram's _bucket, _sum and _count.</summary>
    private static HashSet<string> ExportedSeries(string metrics)
    {
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (var line in metrics.Split('\n'))
        {
            if (line.StartsWith("# TYPE ", StringComparison.Ordinal) && line.Split(' ') is [_, _, var name, var type])
            {
                names.Add(name);
                if (type == "histogram")
                {
                    names.UnionWith([name + "_bucket", name + "_sum", name + "_count"]);
                }
            }
        }

        return names;
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
