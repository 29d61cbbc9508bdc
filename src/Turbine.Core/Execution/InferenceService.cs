using System.Globalization;
using Turbine.Core.Caching;
using Turbine.Core.Lifecycle;
using Turbine.Core.Pipelines;
using Turbine.Core.Traffic;

namespace Turbine.Core.Execution;

/// <summary>
/// The entry point every protocol calls: resolves the model version, validates the request against it and
/// queues it on that version's runner. Protocol adapters decode and encode; they decide nothing.
/// </summary>
public sealed class InferenceService
{
    /// <summary>How often a request follows a reload to the version that replaced the one it found.</summary>
    private const int MaxResolveAttempts = 3;

    /// <summary>The response parameters that say which route and variant served a request.</summary>
    public const string RouteParameter = "turbine_route";

    /// <inheritdoc cref="RouteParameter"/>
    public const string VariantParameter = "turbine_variant";

    private readonly ModelManager _models;
    private readonly RouteTable _routes;
    private readonly ResponseCache _cache;
    private readonly PipelineTable _pipelines;
    private readonly Func<InferenceRequest, string, string?, ValueTask<InferenceResult>> _runWithoutRoutes;
    private readonly ModelCaller _callModel;

    /// <summary>Creates the service over <paramref name="models"/>, the <paramref name="routes"/> and <paramref name="pipelines"/> in front of them and a response cache.</summary>
    public InferenceService(ModelManager models, RouteTable? routes = null, ResponseCache? cache = null, PipelineTable? pipelines = null)
    {
        _models = models;
        _routes = routes ?? new RouteTable(null);
        _cache = cache ?? new ResponseCache(0);
        _pipelines = pipelines ?? new PipelineTable(null);
        _runWithoutRoutes = (request, model, version) => RunAsync(request, model, version, CancellationToken.None);
        _callModel = RunModelAsync;
    }

    /// <summary>The routes in front of the models.</summary>
    public RouteTable Routes => _routes;

    /// <summary>The pipelines over the models.</summary>
    public PipelineTable Pipelines => _pipelines;

    /// <summary>The model manager behind the service.</summary>
    public ModelManager Models => _models;

    /// <summary>Runs one request. The caller keeps ownership of <paramref name="request"/> and disposes the response.</summary>
    public ValueTask<InferenceResult> InferAsync(InferenceRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (!_routes.TryGet(request.ModelName, out var route))
        {
            return RunAsync(request, request.ModelName, request.ModelVersion, cancellationToken);
        }

        if (!string.IsNullOrEmpty(request.ModelVersion))
        {
            return ValueTask.FromResult(InferenceResult.Failed(InferenceError.Invalid(
                $"'{request.ModelName}' is a route and picks the version itself; call it without a version")));
        }

        var index = route.Pick(StickyKey(route.Definition, request));
        var variant = route.Definition.Variants[index];
        request.Id ??= Guid.NewGuid().ToString("N"); // the id a client sends feedback with (docs/TRAFFIC.md)
        route.Experiment.Remember(request.Id, index);
        var routed = new RoutedCall(route, index, variant.Name, route.ShouldMirror() ? ShadowMirror.Copy(request, route.Definition.Shadow!.Model) : null, System.Diagnostics.Stopwatch.GetTimestamp());
        if (route.Pipeline(index) is { } pipeline)
        {
            return ResilientAsync(request, route, variant, pipeline, routed, cancellationToken);
        }

        var pending = RunAsync(request, variant.Model, variant.Version, cancellationToken);
        return pending.IsCompletedSuccessfully ? ValueTask.FromResult(Complete(pending.Result, routed)) : CompleteAsync(pending, routed);
    }

    /// <summary>
    /// Runs a routed request through its variant's resilience pipeline; when the variant cannot answer (failure, deadline,
    /// open circuit, full bulkhead), tries the route's fallbacks in order. A fallback's answer names it as
    /// <c>fallback:model</c> in <see cref="VariantParameter"/>.
    /// </summary>
    private async ValueTask<InferenceResult> ResilientAsync(
        InferenceRequest request, CompiledRoute route, RouteVariant variant, Polly.ResiliencePipeline<InferenceResult> pipeline, RoutedCall routed, CancellationToken cancellationToken)
    {
        InferenceResult result;
        try
        {
            result = await pipeline.ExecuteAsync(token => RunAsync(request, variant.Model, variant.Version, token), cancellationToken);
        }
        catch (Exception e) when (e is Polly.CircuitBreaker.BrokenCircuitException or Polly.Timeout.TimeoutRejectedException or Polly.RateLimiting.RateLimiterRejectedException)
        {
            var reason = e switch
            {
                Polly.CircuitBreaker.BrokenCircuitException => "its circuit is open",
                Polly.Timeout.TimeoutRejectedException => "it did not answer in time",
                _ => "it has as many requests in flight as it may",
            };
            result = InferenceResult.Failed(e is Polly.Timeout.TimeoutRejectedException
                ? new InferenceError(StatusCode.DeadlineExceeded, $"variant '{variant.Name}' of route '{route.Definition.Name}' failed: {reason}")
                : InferenceError.Unavailable($"variant '{variant.Name}' of route '{route.Definition.Name}' is unavailable: {reason}"));
        }

        if (!VariantResilience.IsFailure(result) || cancellationToken.IsCancellationRequested)
        {
            return Complete(result, routed);
        }

        foreach (var fallback in route.Definition.Resilience!.Fallbacks)
        {
            var attempt = await RunAsync(request, fallback.Model, fallback.Version, cancellationToken);
            if (!VariantResilience.IsFailure(attempt))
            {
                return Complete(attempt, routed with { Variant = "fallback:" + fallback.Name, ByFallback = true });
            }
        }

        if (route.Definition.Resilience.DefaultResponse is { } outputs)
        {
            var answer = new InferenceResponse { ModelName = route.Definition.Name, ModelVersion = "default", Id = request.Id };
            foreach (var output in outputs)
            {
                answer.Outputs.Add(output.ToTensor());
                answer.OutputBinary.Add(request.BinaryDataOutputByDefault || request.Outputs.Exists(o => o.Name == output.Name && o.BinaryData));
            }

            return Complete(new InferenceResult(answer, null), routed with { Variant = "fallback:default", ByFallback = true, Mirror = Discard(routed.Mirror) });
        }

        return Complete(result, routed);
    }

    /// <summary>A request a route is serving: which route and variant, the copy for its shadow, when it started.</summary>
    private sealed record RoutedCall(CompiledRoute Route, int Index, string Variant, InferenceRequest? Mirror, long Started, bool ByFallback = false);

    /// <summary>Drops a shadow copy: a fixed default answer says nothing a shadow could be compared with.</summary>
    private static InferenceRequest? Discard(InferenceRequest? mirror)
    {
        mirror?.Dispose();
        return null;
    }

    private async ValueTask<InferenceResult> CompleteAsync(ValueTask<InferenceResult> pending, RoutedCall routed) => Complete(await pending, routed);

    /// <summary>
    /// Names the route and variant in the response, hands a copy of the answered request to the shadow, and counts the
    /// outcome for the route's rollout (an answer from a fallback counts as a failure of the variant picked).
    /// </summary>
    private InferenceResult Complete(InferenceResult result, RoutedCall routed)
    {
        routed.Route.Canary?.Observe(
            routed.Index, routed.ByFallback || VariantResilience.IsFailure(result),
            System.Diagnostics.Stopwatch.GetElapsedTime(routed.Started));
        if (result.Response is not { } response)
        {
            routed.Mirror?.Dispose();
            return result;
        }

        if (routed.Mirror is { } mirror)
        {
            var primaryOutputs = response.Outputs.Select(o => new Tensor(o.Name, o.DataType, [.. o.Shape], TensorBuffer.CopyOf(o.Data.Span))).ToList();
            routed.Route.Mirror.Offer(routed.Route, mirror, primaryOutputs, System.Diagnostics.Stopwatch.GetElapsedTime(routed.Started), _runWithoutRoutes);
        }

        response.Parameters ??= new Dictionary<string, object>(2, StringComparer.Ordinal);
        response.Parameters[RouteParameter] = routed.Route.Definition.Name;
        response.Parameters[VariantParameter] = routed.Variant;
        return result;
    }

    /// <summary>Runs a request on a pipeline or a model version (the targets of clients, route variants, fallbacks and shadows).</summary>
    private ValueTask<InferenceResult> RunAsync(InferenceRequest request, string model, string? version, CancellationToken cancellationToken)
    {
        if (!_pipelines.TryGet(model, out var pipeline))
        {
            return RunModelAsync(request, model, version, cancellationToken);
        }

        // A pipeline answers as version 1 (its metadata says so, as Triton's ensembles do), so clients that echo it work.
        return string.IsNullOrEmpty(version) || version == "1"
            ? pipeline.RunAsync(request, _callModel, cancellationToken)
            : ValueTask.FromResult(InferenceResult.Failed(InferenceError.NotFound($"pipeline '{model}' has only version 1")));
    }

    /// <summary>Runs a request on a model version: resolve, validate, answer from the cache or queue it.</summary>
    private ValueTask<InferenceResult> RunModelAsync(InferenceRequest request, string model, string? version, CancellationToken cancellationToken)
    {
        for (var attempt = 1; ; attempt++)
        {
            var error = _models.Resolve(model, version, out var runner);
            if (error is not null)
            {
                return ValueTask.FromResult(InferenceResult.Failed(error));
            }

            error = InferenceRequestValidator.Validate(runner!.Config, request, out var validated);
            if (error is not null)
            {
                runner.Statistics.Fail.Record(0);
                return ValueTask.FromResult(InferenceResult.Failed(error));
            }

            string? cacheKey = null;
            if (runner.Config.ResponseCache && _cache.IsEnabled)
            {
                var lookup = System.Diagnostics.Stopwatch.GetTimestamp();
                if (TryAnswerFromCache(runner, request, validated!, lookup, out cacheKey, out var cached))
                {
                    return ValueTask.FromResult(cached);
                }

                if (_cache.Shared is { } shared)
                {
                    return AnswerFromSharedOrRunAsync(shared, runner, request, validated!, cacheKey, lookup, cancellationToken);
                }

                runner.Statistics.CacheMiss.Record(ElapsedNanoseconds(lookup));
            }

            var pending = runner.EnqueueAsync(request, validated!, cancellationToken);
            if (!pending.IsCompleted)
            {
                return cacheKey is null ? pending : RememberAsync(pending, cacheKey);
            }

            // A reload swaps the snapshot before it drains the versions it replaces, so a runner found retired here
            // was replaced between Resolve and Enqueue: resolving again finds its successor (SECURITY.md F9).
            var result = pending.Result;
            if (attempt < MaxResolveAttempts && result.Error is not null && runner.IsRetired)
            {
                continue;
            }

            return ValueTask.FromResult(cacheKey is null ? result : Remember(result, cacheKey));
        }
    }

    /// <summary>Looks the request up in the in-memory cache; on a hit, answers with copies of the cached outputs. A miss is recorded by the caller.</summary>
    private bool TryAnswerFromCache(ModelVersionRunner runner, InferenceRequest request, ValidatedRequest validated, long started, out string key, out InferenceResult result)
    {
        key = ResponseCache.KeyOf(runner, request, validated);
        if (!_cache.TryGet(key, out var outputs))
        {
            result = default;
            return false;
        }

        result = CachedAnswer(runner, request, validated, outputs, started);
        return true;
    }

    /// <summary>
    /// After an in-memory miss: asks the shared store (Redis), answers from it (and keeps the answer in memory too), or
    /// runs the model and stores its answer in both. A store that is down or slow is a miss, never a failure.
    /// </summary>
    private async ValueTask<InferenceResult> AnswerFromSharedOrRunAsync(
        ISharedResponseStore shared, ModelVersionRunner runner, InferenceRequest request, ValidatedRequest validated, string key, long started, CancellationToken cancellationToken)
    {
        if (await shared.GetAsync(key, cancellationToken) is { } bytes && CachedOutputsCodec.TryDecode(bytes, out var outputs))
        {
            _cache.Put(key, outputs);
            return CachedAnswer(runner, request, validated, outputs, started);
        }

        runner.Statistics.CacheMiss.Record(ElapsedNanoseconds(started));
        var result = await runner.EnqueueAsync(request, validated, cancellationToken);
        return result.Error is not null && runner.IsRetired
            ? await RunModelAsync(request, runner.Config.Name, runner.VersionText, cancellationToken) // replaced by a reload meanwhile (SECURITY.md F9)
            : Remember(result, key);
    }

    private static InferenceResult CachedAnswer(ModelVersionRunner runner, InferenceRequest request, ValidatedRequest validated, List<Tensor> outputs, long started)
    {
        var response = new InferenceResponse { ModelName = runner.Config.Name, ModelVersion = runner.VersionText, Id = request.Id };
        response.Outputs.AddRange(outputs);
        response.OutputBinary.AddRange(validated.OutputBinary);
        var elapsed = ElapsedNanoseconds(started);
        runner.Statistics.CacheHit.Record(elapsed);
        runner.Statistics.Success.Record(elapsed);
        return new InferenceResult(response, null);
    }

    private async ValueTask<InferenceResult> RememberAsync(ValueTask<InferenceResult> pending, string key) => Remember(await pending, key);

    private InferenceResult Remember(InferenceResult result, string key)
    {
        if (result.Response is { } response)
        {
            _cache.Put(key, response.Outputs);
            _cache.Shared?.Put(key, CachedOutputsCodec.Encode(response.Outputs));
        }

        return result;
    }

    private static long ElapsedNanoseconds(long started) => (long)System.Diagnostics.Stopwatch.GetElapsedTime(started).TotalNanoseconds;

    /// <summary>
    /// Finds a ready model version (the default one when <paramref name="version"/> is empty). A route answers with its
    /// first variant that has a positive weight: its variants are expected to share inputs and outputs.
    /// </summary>
    public InferenceError? TryGetModel(string name, string? version, out ModelVersionInfo? info)
    {
        ArgumentNullException.ThrowIfNull(name);
        info = null;
        if (_routes.TryGet(name, out var route) && string.IsNullOrEmpty(version))
        {
            var primary = route.Definition.Variants.First(v => v.Weight > 0);
            (name, version) = (primary.Model, primary.Version);
        }

        if (_pipelines.TryGet(name, out var pipeline))
        {
            return DescribePipeline(pipeline, version, out info);
        }

        var error = _models.Resolve(name, version, out var runner);
        if (error is not null)
        {
            return error;
        }

        info = Describe(_models.Snapshot(name)!, runner!);
        return null;
    }

    /// <summary>
    /// Triton's repository index: every model version, and every pipeline as version 1 of a model (as Triton lists its
    /// ensembles), READY when all the models it calls are.
    /// </summary>
    public IReadOnlyList<RepositoryIndexEntry> Index(bool readyOnly)
    {
        var entries = _models.Index(readyOnly).ToList();
        foreach (var pipeline in _pipelines.All)
        {
            var error = DescribePipeline(pipeline, null, out _);
            if (error is null || !readyOnly)
            {
                entries.Add(new RepositoryIndexEntry(pipeline.Definition.Name, "1", error is null ? ModelState.Ready : ModelState.Unavailable, error?.Message ?? ""));
            }
        }

        entries.Sort((a, b) => string.CompareOrdinal(a.Name, b.Name));
        return entries;
    }

    /// <summary>
    /// Why a route's variants (and fallbacks) cannot stand for one public model: two of those that are ready now
    /// differ in their inputs' or outputs' names or datatypes. Null when they agree; variants not ready are not judged.
    /// </summary>
    public string? SignatureMismatch(RouteDefinition route)
    {
        ArgumentNullException.ThrowIfNull(route);
        (string Name, string Signature)? first = null;
        foreach (var target in route.Variants.Concat(route.Resilience?.Fallbacks ?? []))
        {
            if (TryGetModel(target.Model, target.Version, out var info) is not null)
            {
                continue;
            }

            var signature = string.Join(" ", info!.Config.Inputs.Select(t => $"{t.Name}:{t.DataType.ToWireName()}")) + " -> " +
                string.Join(" ", info.Config.Outputs.Select(t => $"{t.Name}:{t.DataType.ToWireName()}"));
            first ??= (target.Name, signature);
            if (signature != first.Value.Signature)
            {
                return $"'{target.Name}' ({signature}) and '{first.Value.Name}' ({first.Value.Signature}) differ; a route's variants must take and give the same tensors";
            }
        }

        return null;
    }

    /// <summary>A pipeline as a model: ready when every model it calls is, with the signature those models give it.</summary>
    private InferenceError? DescribePipeline(CompiledPipeline pipeline, string? version, out ModelVersionInfo? info)
    {
        info = null;
        if (!string.IsNullOrEmpty(version) && version != "1")
        {
            return InferenceError.NotFound($"pipeline '{pipeline.Definition.Name}' has only version 1");
        }

        var config = PipelineSignature.Describe(pipeline.Definition, target => _models.Resolve(target.Model, target.Version, out var runner) is null ? runner!.Config : null);
        if (config is null)
        {
            return InferenceError.Unavailable($"pipeline '{pipeline.Definition.Name}' calls a model that is not ready");
        }

        info = new ModelVersionInfo(config, "1", ["1"], pipeline.Statistics.Requests);
        return null;
    }

    /// <summary>Statistics of one model version, all versions of one model, or every model (Triton's statistics extension).</summary>
    public InferenceError? Statistics(string? name, string? version, out IReadOnlyList<ModelVersionInfo> result)
    {
        var list = new List<ModelVersionInfo>();
        result = list;
        if (string.IsNullOrEmpty(name))
        {
            foreach (var snapshot in _models.Snapshots())
            {
                foreach (var runner in snapshot.Runners)
                {
                    list.Add(Describe(snapshot, runner));
                }
            }

            list.Sort((a, b) => string.CompareOrdinal(a.Config.Name + "/" + a.Version, b.Config.Name + "/" + b.Version));
            return null;
        }

        if (!string.IsNullOrEmpty(version) || _pipelines.TryGet(name, out _))
        {
            var error = TryGetModel(name, version, out var info);
            if (info is not null)
            {
                list.Add(info);
            }

            return error;
        }

        var found = _models.Resolve(name, null, out _);
        if (found is not null)
        {
            return found;
        }

        var model = _models.Snapshot(name)!;
        foreach (var runner in model.Runners)
        {
            list.Add(Describe(model, runner));
        }

        return null;
    }

    /// <summary>The sticky parameter's value when the request has it, else the sticky header's (<see cref="InferenceRequest.RoutingKey"/>).</summary>
    private static string? StickyKey(RouteDefinition route, InferenceRequest request) =>
        route.StickyParameter is { } name && request.Parameters?.TryGetValue(name, out var value) == true
            ? Convert.ToString(value, CultureInfo.InvariantCulture)
            : request.RoutingKey;

    /// <summary>The header whose value the transport should put in <see cref="InferenceRequest.RoutingKey"/> for a call to <paramref name="model"/>; null for none.</summary>
    public string? StickyHeaderOf(string model) => _routes.TryGet(model, out var route) ? route.Definition.StickyHeader : null;

    private static ModelVersionInfo Describe(ModelSnapshot snapshot, ModelVersionRunner runner)
    {
        var versions = new List<string>();
        foreach (var ready in snapshot.Runners)
        {
            versions.Add(ready.VersionText);
        }

        return new ModelVersionInfo(runner.Config, runner.VersionText, versions, runner.Statistics, runner.QueuedRequests, runner.ExecutingRequests);
    }
}
