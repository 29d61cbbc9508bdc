using Turbine.Core.Caching;
using Turbine.Core.Lifecycle;
using Turbine.Core.Pipelines;
using Turbine.Core.Traffic;

namespace Turbine.Core.Execution;

/// <summary>
/// The entry point every protocol calls: sends a route's request to a variant, runs a pipeline's steps, or resolves
/// the model version, validates the request against it, answers from the response cache or queues it on that
/// version's runner. Protocol adapters decode and encode; they decide nothing. Routing and the catalog (metadata,
/// statistics, index) are in their own parts of this class.
/// </summary>
public sealed partial class InferenceService
{
    /// <summary>How often a request follows a reload to the version that replaced the one it found.</summary>
    private const int MaxResolveAttempts = 3;

    /// <summary>The response parameters that say which route and variant served a request.</summary>
    public const string RouteParameter = "turbine_route";

    /// <inheritdoc cref="RouteParameter"/>
    public const string VariantParameter = "turbine_variant";

    /// <summary>One spec check per loaded configuration, made once, so that handing one to a decoder allocates nothing.</summary>
    private static readonly System.Runtime.CompilerServices.ConditionalWeakTable<ModelConfig, InputSpecCheck> SpecChecks = new();

    private readonly ModelManager _models;
    private readonly TimeProvider _time;
    private readonly RouteTable _routes;
    private readonly ResponseCache _cache;
    private readonly PipelineTable _pipelines;
    private readonly Func<InferenceRequest, string, string?, ValueTask<InferenceResult>> _runWithoutRoutes;
    private readonly ModelCaller _callModel;

    /// <summary>Creates the service over <paramref name="models"/>, the <paramref name="routes"/> and <paramref name="pipelines"/> in front of them and a response cache.</summary>
    /// <param name="models">The models.</param>
    /// <param name="routes">The routes in front of them.</param>
    /// <param name="cache">The response cache.</param>
    /// <param name="pipelines">The pipelines over them.</param>
    /// <param name="time">The clock that times routes and cache lookups (the system's by default).</param>
    public InferenceService(ModelManager models, RouteTable? routes = null, ResponseCache? cache = null, PipelineTable? pipelines = null, TimeProvider? time = null)
    {
        _time = time ?? TimeProvider.System;
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

    /// <summary>
    /// The check a protocol decoder makes on each input before it decodes or copies the input's data: the spec of
    /// the version that will serve <paramref name="model"/>. Null for routes, pipelines and names that resolve to no
    /// ready version, whose requests are checked (or refused) once decoded.
    /// </summary>
    public InputSpecCheck? InputCheckFor(string model, string? version)
    {
        if (_routes.TryGet(model, out _) || _pipelines.TryGet(model, out _) || _models.Resolve(model, version, out var runner) is not null)
        {
            return null;
        }

        return SpecChecks.GetValue(runner!.Config, static config => (name, dataType, shape) => InferenceRequestValidator.CheckSpec(config, name, dataType, shape));
    }

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
        var routed = new RoutedCall(route, index, variant.Name, route.ShouldMirror() ? ShadowMirror.Copy(request, route.Definition.Shadow!.Model) : null, _time.GetTimestamp());
        if (route.Pipeline(index) is { } pipeline)
        {
            return ResilientAsync(request, route, variant, pipeline, routed, cancellationToken);
        }

        var pending = RunAsync(request, variant.Model, variant.Version, cancellationToken);
        return pending.IsCompletedSuccessfully ? ValueTask.FromResult(Complete(pending.Result, routed)) : CompleteAsync(pending, routed);
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
                var lookup = _time.GetTimestamp();
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
    private bool TryAnswerFromCache(IVersionRunner runner, InferenceRequest request, ValidatedRequest validated, long started, out string key, out InferenceResult result)
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
        ISharedResponseStore shared, IVersionRunner runner, InferenceRequest request, ValidatedRequest validated, string key, long started, CancellationToken cancellationToken)
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

    private InferenceResult CachedAnswer(IVersionRunner runner, InferenceRequest request, ValidatedRequest validated, List<Tensor> outputs, long started)
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

    private long ElapsedNanoseconds(long started) => (long)_time.GetElapsedTime(started).TotalNanoseconds;
}
