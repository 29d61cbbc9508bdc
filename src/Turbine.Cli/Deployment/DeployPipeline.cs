using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Turbine.Cli.Optimization;
using Turbine.Cli.Validation;
using Turbine.Client;
using Turbine.Onnx;
using Turbine.Onnx.Scanning;
using Turbine.Onnx.Tools.Evaluation;
using Turbine.Onnx.Tools.Optimization;
using Turbine.Registry;

namespace Turbine.Cli.Deployment;

/// <summary>
/// <c>turbine deploy</c>: takes a registered candidate through validate -> scan -> (optionally) optimize -> benchmark (against the latency budget
/// and against the version the alias points at now) -> a canary rollout on a running server (the route's existing
/// gates: errors, p99) -> alias promotion; a failed stage stops the pipeline, and a failed canary is rolled back by its
/// gates. Every stage's result is kept with the version (a <c>deploy:stage</c> report) and in the audit trail, so
/// <c>turbine registry history</c> shows why a version was promoted or not.
/// </summary>
internal sealed class DeployPipeline(ModelRegistry registry, DeploySettings settings, TextWriter log, TimeProvider time)
{
    /// <summary>After a passed canary: the route goes back to the model alone once the servers serve the new version.</summary>
    private Func<Task>? _afterPromotion;

    /// <summary>The version the stages check: the one asked for, or what the optimize stage registered from it.</summary>
    private long _version = settings.Version;

    /// <summary>That version's folder (its config one level up).</summary>
    private string _folder = string.Empty;

    public async Task<IReadOnlyList<StageResult>> RunAsync(CancellationToken cancellationToken)
    {
        var candidate = await registry.ResolveAsync(settings.Model, settings.Version.ToString(CultureInfo.InvariantCulture), cancellationToken);
        var current = (await registry.Store.ListAliasesAsync(settings.Model, cancellationToken)).FirstOrDefault(a => a.Alias == settings.Alias)?.Version;
        var scratch = Path.Combine(Path.GetTempPath(), $"turbine-deploy-{Guid.NewGuid():N}");
        var results = new List<StageResult>();
        try
        {
            _folder = await registry.MaterializeAsync(candidate, scratch, verifier: null, cancellationToken);
            var stages = new List<Func<Task<StageResult>>>
            {
                () => ValidateAsync(Path.GetDirectoryName(_folder)!, cancellationToken),
                () => Task.FromResult(Scan(_folder)),
            };
            if (settings.OptimizePasses is not null)
            {
                stages.Add(() => OptimizeAsync(scratch, cancellationToken));
            }

            stages.Add(() => BenchmarkAsync(_folder, current, scratch, cancellationToken));
            if (settings.Server is not null)
            {
                stages.Add(() => CanaryAsync(_folder, cancellationToken));
            }

            foreach (var stage in stages)
            {
                var checkedVersion = _version;
                var result = await stage();
                results.Add(result);
                await RecordAsync(result, checkedVersion, cancellationToken);
                if (!result.Passed)
                {
                    return results;
                }
            }

            await registry.MoveAliasAsync(settings.Model, settings.Alias, _version, settings.Actor, $"deploy: every stage passed ({string.Join(", ", results.Select(r => r.Stage))})", cancellationToken);
            var switched = settings.Server is null ? string.Empty : await WaitForSwitchAsync(cancellationToken);
            if (_afterPromotion is not null)
            {
                await _afterPromotion();
            }

            var promoted = new StageResult("promote", true, $"{settings.Model}@{settings.Alias} -> version {_version}{(current is { } was ? $" (was {was})" : string.Empty)}{switched}");
            results.Add(promoted);
            await RecordAsync(promoted, _version, cancellationToken);
            return results;
        }
        finally
        {
            if (Directory.Exists(scratch))
            {
                Directory.Delete(scratch, recursive: true);
            }
        }
    }

    private async Task<StageResult> ValidateAsync(string modelFolder, CancellationToken cancellationToken)
    {
        var options = new ValidationOptions(null, 1e-5, 1e-4, settings.LatencyBudgetMs, [1], 200);
        var checks = await new ModelValidator(options).RunAsync(modelFolder, cancellationToken);
        var failed = checks.FirstOrDefault(c => !c.Passed);
        return new StageResult("validate", failed is null, failed?.ToString() ?? string.Join("; ", checks.Select(c => c.ToString().Trim())));
    }

    private static StageResult Scan(string versionFolder)
    {
        var report = OnnxModelScanner.Scan(Path.Combine(versionFolder, "model.onnx"), new ModelScanPolicy());
        return report.Blocked
            ? new StageResult("scan", false, string.Join("; ", report.Findings.Where(f => f.Verdict == ScanVerdict.Block)))
            : new StageResult("scan", true, report.Findings.Count == 0 ? "no findings" : $"{report.Findings.Count} warning(s): {string.Join("; ", report.Findings)}");
    }

    /// <summary>The candidate and the current version side by side in this process, at one row per request.</summary>
    private async Task<StageResult> BenchmarkAsync(string candidateFolder, long? current, string scratch, CancellationToken cancellationToken)
    {
        var candidatePath = Path.Combine(candidateFolder, "model.onnx");
        using var candidate = new ModelUnderTest($"version {_version}", candidatePath);
        var samples = SampleSet.Random(new OnnxBackend().Inspect(candidatePath), rows: 8);
        var models = new List<ModelUnderTest> { candidate };
        if (current is { } version && version != _version)
        {
            var currentVersion = await registry.ResolveAsync(settings.Model, version.ToString(CultureInfo.InvariantCulture), cancellationToken);
            var currentFolder = await registry.MaterializeAsync(currentVersion, Path.Combine(scratch, "current"), null, cancellationToken);
            models.Add(new ModelUnderTest($"version {version}", Path.Combine(currentFolder, "model.onnx")));
        }

        try
        {
            var timings = SideBySideTimer.Measure(models, samples, [1], TimeSpan.FromMilliseconds(300), rounds: 5);
            var mine = timings[0][0];
            var figures = $"p50 {mine.MedianMs:F3} ms, p99 {mine.P99Ms:F3} ms, {mine.RowsPerSecond:F0} rows/s";
            if (settings.LatencyBudgetMs is { } budget && mine.P99Ms > budget)
            {
                return new StageResult("benchmark", false, $"{figures}: p99 over the {budget} ms budget");
            }

            if (timings.Length > 1)
            {
                var theirs = timings[1][0];
                var ratio = mine.RowsPerSecond / theirs.RowsPerSecond;
                figures += $"; {ratio:F2}x the rows/s of {models[1].Name} ({theirs.RowsPerSecond:F0})";
                if (ratio < 1 / settings.MaxSlowdown)
                {
                    return new StageResult("benchmark", false, $"{figures}: slower than the {settings.MaxSlowdown:F2}x allowed");
                }
            }

            return new StageResult("benchmark", true, figures);
        }
        finally
        {
            foreach (var model in models.Skip(1))
            {
                model.Dispose();
            }
        }
    }

    /// <summary>
    /// The candidate is loaded on the server beside the current model (as <c>model-candidate-N</c>), the route's canary
    /// moves traffic to it step by step, and its gates promote or roll it back. The route is left as it was found (or
    /// pointing at the model alone) and the candidate unloaded, whatever happened.
    /// </summary>
    private async Task<StageResult> CanaryAsync(string candidateFolder, CancellationToken cancellationToken)
    {
        using var client = new TurbineHttpClient(settings.Server!, Environment.GetEnvironmentVariable("TURBINE_TOKEN"));
        var route = settings.Route ?? throw new RegistryException("a canary needs --route: the route clients call");
        var candidateName = $"{settings.Model}-candidate-{_version}";
        var config = JsonNode.Parse(await File.ReadAllTextAsync(Path.Combine(Path.GetDirectoryName(candidateFolder)!, "config.json"), cancellationToken))!.AsObject();
        config["name"] = candidateName;
        var files = Directory.EnumerateFiles(candidateFolder, "*", SearchOption.AllDirectories)
            .ToDictionary(f => "1/" + Path.GetRelativePath(candidateFolder, f).Replace('\\', '/'), File.ReadAllBytes, StringComparer.Ordinal);
        await client.LoadModelAsync(candidateName, config.ToJsonString(), files, cancellationToken);
        var passed = false;
        try
        {
            await client.SetRouteAsync(route, RouteJson(candidateName), cancellationToken);
            var deadline = time.GetUtcNow() + settings.CanaryTimeout;
            while (true)
            {
                var status = await client.GetCanaryAsync(route, cancellationToken);
                log.WriteLine($"  canary: {status.State}, step {status.Step + 1}/{status.Steps} at {status.CanaryPercent:G3}%, {status.Figures.Requests} requests, {status.Figures.Errors} errors");
                if (status.State == "promoted")
                {
                    passed = true;
                    return new StageResult("canary", true, $"promoted through {string.Join(", ", settings.CanarySteps.Select(s => s + "%"))}");
                }

                if (status.State == "rolled_back")
                {
                    var reason = status.Decisions.LastOrDefault(d => d.Action.Contains("rollback", StringComparison.Ordinal))?.Reason ?? "rolled back";
                    return new StageResult("canary", false, $"rolled back by its gates: {reason}");
                }

                if (time.GetUtcNow() > deadline)
                {
                    await client.ControlCanaryAsync(route, "rollback", "deploy: the rollout took longer than its timeout", cancellationToken);
                    return new StageResult("canary", false, $"rolled back: no decision within {settings.CanaryTimeout.TotalSeconds:G} s (too little traffic on route '{route}'?)");
                }

                await Task.Delay(TimeSpan.FromMilliseconds(250), time, cancellationToken); // the server decides; this only watches
            }
        }
        finally
        {
            async Task RestoreAsync()
            {
                using var restoring = new TurbineHttpClient(settings.Server!, Environment.GetEnvironmentVariable("TURBINE_TOKEN"));
                await restoring.SetRouteAsync(route, $$"""{ "variants": [ { "model": "{{settings.Model}}" } ] }""", CancellationToken.None);
                await restoring.UnloadModelAsync(candidateName, CancellationToken.None);
            }

            if (passed)
            {
                _afterPromotion = RestoreAsync; // the candidate keeps its traffic until the model itself serves it
            }
            else
            {
                await RestoreAsync();
            }
        }
    }

    /// <summary>Waits until the server serves the promoted version under the model's own name (it follows the alias).</summary>
    private async Task<string> WaitForSwitchAsync(CancellationToken cancellationToken)
    {
        using var client = new TurbineHttpClient(settings.Server!, Environment.GetEnvironmentVariable("TURBINE_TOKEN"));
        var version = _version.ToString(CultureInfo.InvariantCulture);
        var deadline = time.GetUtcNow() + settings.CanaryTimeout;
        while (time.GetUtcNow() < deadline)
        {
            try
            {
                if ((await client.GetModelMetadataAsync(settings.Model, null, cancellationToken)).Versions.SequenceEqual([version]))
                {
                    return $"; the server serves version {version} as {settings.Model}";
                }
            }
            catch (TurbineClientException)
            {
                // not loaded for a moment while it reloads
            }

            await Task.Delay(TimeSpan.FromMilliseconds(250), time, cancellationToken);
        }

        return $"; the server did not switch to version {version} within {settings.CanaryTimeout.TotalSeconds:G} s (does it follow {settings.Model}@{settings.Alias}?)";
    }

    private string RouteJson(string candidateName)
    {
        var canary = new JsonObject
        {
            ["steps"] = new JsonArray([.. settings.CanarySteps.Select(s => (JsonNode)s)]),
            ["min_step_duration_s"] = settings.CanaryMinStepSeconds,
            ["min_step_requests"] = settings.CanaryMinStepRequests,
            ["max_error_rate"] = settings.CanaryMaxErrorRate,
        };
        if (settings.CanaryMaxP99Ms is { } p99)
        {
            canary["max_p99_ms"] = p99;
        }

        return new JsonObject
        {
            ["variants"] = new JsonArray(new JsonObject { ["model"] = settings.Model }, new JsonObject { ["model"] = candidateName }),
            ["canary"] = canary,
        }.ToJsonString();
    }

    /// <summary>
    /// The optional optimize stage: <c>turbine optimize</c>'s engine on the version; a kept candidate is registered as a
    /// new version (lineage: the parent and the passes, its report beside it), which the later stages check and the
    /// alias gets. Nothing kept is not a failure: the version goes on as it is.
    /// </summary>
    private async Task<StageResult> OptimizeAsync(string scratch, CancellationToken cancellationToken)
    {
        var modelPath = Path.Combine(_folder, "model.onnx");
        var signature = new OnnxBackend().Inspect(modelPath);
        var samples = SampleSet.FromJsonLines(settings.OptimizeData ?? throw new RegistryException("the optimize stage needs --data"), signature);
        var metric = AccuracyMetrics.For(signature);
        var options = new OptimizeOptions(
            settings.OptimizePasses!, OptimizationGoal.Latency, metric, settings.OptimizeMaxAccuracyDrop, [1, 8], TimeSpan.FromMilliseconds(300), 3,
            MinSpeedup: settings.OptimizeMinSpeedup);
        var report = new ModelOptimizer(options, time).Run(modelPath, samples, Path.Combine(scratch, "optimize-work"));
        if (report.Chosen is null)
        {
            return new StageResult("optimize", true, $"no candidate met the goal ({string.Join("; ", report.Candidates.Select(c => $"{c.Name}: {string.Join(", ", c.Reasons)}"))}); version {_version} goes on as it is");
        }

        var kept = report.Candidates.Single(c => c.Name == report.Chosen);
        var modelFolder = Path.Combine(scratch, "optimized");
        var versionFolder = Path.Combine(modelFolder, "1");
        Directory.CreateDirectory(versionFolder);
        File.Copy(kept.Path!, Path.Combine(versionFolder, "model.onnx"));
        OptimizationReportWriter.Write(report with { Model = $"{settings.Model} version {_version}" }, versionFolder);
        var config = Path.Combine(Path.GetDirectoryName(_folder)!, "config.json");
        File.Copy(config, Path.Combine(modelFolder, "config.json"));
        var lineage = new Dictionary<string, string> { ["parent_version"] = _version.ToString(CultureInfo.InvariantCulture), ["passes"] = kept.Name, ["optimized_by"] = "turbine deploy" };
        var pushed = await registry.PushAsync(new PushRequest(settings.Model, versionFolder, Path.Combine(modelFolder, "config.json"), settings.Actor, lineage), cancellationToken);
        var parent = _version;
        (_version, _folder) = (pushed.Version, versionFolder);
        return new StageResult("optimize", true, $"kept {kept.Name} ({string.Join(", ", kept.Speedups.Select((x, i) => $"{x:F2}x at batch {report.BatchSizes[i]}"))}, accuracy drop {kept.AccuracyDrop:P2}): registered as version {pushed.Version} from {parent}, which the next stages check");
    }

    private async Task RecordAsync(StageResult result, long version, CancellationToken cancellationToken)
    {
        log.WriteLine($"{result.Stage,-10} {(result.Passed ? "PASS" : "FAIL")}  {result.Detail}");
        var body = JsonSerializer.Serialize(new { stage = result.Stage, passed = result.Passed, detail = result.Detail });
        await registry.Store.AddReportAsync(new VersionReport(settings.Model, version, $"deploy:{result.Stage}", time.GetUtcNow(), body), cancellationToken);
        await registry.Store.AppendAuditAsync(settings.Model, AuditKinds.PipelineStage, result.Stage, version, null, settings.Actor, $"{(result.Passed ? "passed" : "failed")}: {result.Detail}", cancellationToken);
    }
}
